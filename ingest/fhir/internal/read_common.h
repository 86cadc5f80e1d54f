// Steps shared by ReadResource and ReadBundle: the per-thread simdjson parsers, parsing with a
// located error, and validation plus extraction of one resource. Not part of the public API.
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ingest/fhir/internal/issue_sink.h"
#include "ingest/fhir/reader.h"

namespace eds::ingest::fhir::internal {

// simdjson's depth limit: at most kMaxDepth - 1 nested non-empty objects and arrays. Real
// resources stay far below (Questionnaire items nest ~20 deep); the limit keeps the recursive
// walks' stack use small on hostile input.
inline constexpr size_t kMaxDepth = 128;

// Parsers and the padded input copy of one thread; reused so that steady-state reads do not
// allocate. Owned by the thread (see LocalParsers); results must not outlive the next read.
struct ThreadParsers {
  simdjson::dom::parser dom;
  simdjson::ondemand::parser ondemand;
  std::string padded;  // The input followed by SIMDJSON_PADDING bytes.
  size_t length = 0;   // Input bytes in `padded`.
  bool ready = false;
};

// This thread's parsers.
ThreadParsers& LocalParsers();

// Parses `json` with p's DOM parser. On failure reports one "structure" issue naming the
// character offset, line and column of the defect, and returns false.
bool Parse(std::string_view json, ThreadParsers* p, IssueSink* sink, simdjson::dom::element* root);

// `text`, which must be valid JSON (parsed before), with the whitespace outside strings removed.
std::string Minify(std::string_view text);

// Checks and extracts one resource whose resourceType `type` was already checked; `path` names
// the resource in issues. Reports to `sink`; fills `out` except `json`.
void ProcessResource(simdjson::dom::object resource, std::string_view type, const PathNode& path,
                     IssueSink* sink, ParsedResource* out);

// kInvalidArgument naming `what`, the error count and the first error.
Status RejectedStatus(std::string_view what, size_t errors, const std::string& first_error);

}  // namespace eds::ingest::fhir::internal
