// HL7 v2 parser (ER7 encoding, v2.3 to v2.5.1; later 2.x versions are read the same way).
// Segments end with CR, LF or CRLF; delimiters come from MSH-1/MSH-2; values are converted from
// the MSH-18 character set (ASCII, 8859/1, UNICODE UTF-8; empty = ASCII, valid UTF-8 passes) to
// UTF-8. One pass over the input; the result owns its data and does not borrow `raw`.
// Errors: kInvalidArgument whose message is Hl7Error::ToString(); ParseHl7Detailed gives the
// structured Hl7Error for the ERR segment of an ACK. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "ingest/hl7/error.h"
#include "ingest/hl7/message.h"

namespace eds::ingest::hl7 {

struct Hl7ParseOptions {
  // Most segments in one message; a long lab result has a few thousand. Default 100 000.
  size_t max_segments = 100'000;
  // Most fields in one segment; standard segments have fewer than 60. Default 1 000.
  size_t max_fields_per_segment = 1'000;
  // Most values (sub-components) in one message; the index costs about 32 bytes per value on
  // top of the text, so this bounds memory whatever the input. Default 4 000 000.
  size_t max_values = 4'000'000;
};

struct Hl7ParseResult {
  std::optional<Hl7Message> message;  // set on success
  Hl7Error error;                     // meaningful only when !message

  bool ok() const { return message.has_value(); }
};

// Parses one message. Besides well-formed segments, requires MSH-9.1 (message code), MSH-10,
// MSH-11 and a supported MSH-12 version (2.3 or later); the message structure and the other
// required fields are left to the consumer, which knows what it needs.
Hl7ParseResult ParseHl7Detailed(std::string_view raw, const Hl7ParseOptions& options = {});
Result<Hl7Message> ParseHl7(std::string_view raw, const Hl7ParseOptions& options = {});

// True for "2.3" and later 2.x versions ("2.3.1", "2.5.1", "2.8", ...).
bool IsSupportedVersion(std::string_view version);

}  // namespace eds::ingest::hl7
