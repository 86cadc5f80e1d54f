// Finds where a JSON text stops being valid, to tell the sender the position of the problem;
// simdjson only says that and why parsing failed. Follows RFC 8259 plus the limits simdjson
// applies (integers within int64/uint64, finite doubles, nesting depth), so on a text simdjson
// refused it normally points at the same defect. Only used on the error path: plain scalar code.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace eds::ingest::fhir::internal {

// Byte offset of the first defect in `json`, or nullopt when it is valid JSON by these rules.
// An unterminated string is reported at its opening quote, a too-deep container at its bracket.
// As in simdjson, non-empty containers may nest at most max_depth - 1 deep; empty ones are free.
std::optional<size_t> LocateJsonError(std::string_view json, size_t max_depth);

struct TextPosition {
  size_t character = 0;  // Unicode characters before the position (0-based).
  size_t line = 1;       // 1-based.
  size_t column = 1;     // 1-based, in characters.
};

// Position of the byte at `byte_offset` (clamped to the end of `text`), counting UTF-8
// characters so that non-ASCII names do not shift the column.
TextPosition PositionOf(std::string_view text, size_t byte_offset);

}  // namespace eds::ingest::fhir::internal
