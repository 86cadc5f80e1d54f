#include "ingest/fhir/internal/read_common.h"

#include <cstdint>
#include <cstring>

#include "ingest/fhir/internal/extract.h"
#include "ingest/fhir/internal/json_error.h"
#include "ingest/fhir/internal/primitives.h"
#include "ingest/fhir/internal/references.h"
#include "ingest/fhir/internal/schema.h"
#include "ingest/fhir/internal/validator.h"

namespace eds::ingest::fhir::internal {

ThreadParsers& LocalParsers() {
  thread_local ThreadParsers parsers;
  return parsers;
}

bool Parse(std::string_view json, ThreadParsers* p, IssueSink* sink, simdjson::dom::element* root) {
  if (!p->ready) {
    // Sets the depth limit; later growth of the buffers keeps it.
    if (p->dom.allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, kMaxDepth) != simdjson::SUCCESS) {
      sink->Error("exception", "", "out of memory for the JSON parser");
      return false;
    }
    p->ready = true;
  }
  p->padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
  if (!json.empty()) std::memcpy(p->padded.data(), json.data(), json.size());
  std::memset(p->padded.data() + json.size(), ' ', simdjson::SIMDJSON_PADDING);
  p->length = json.size();
  const simdjson::error_code error = p->dom.parse(p->padded.data(), json.size(), false).get(*root);
  if (error == simdjson::SUCCESS) return true;
  std::string diagnostics = "invalid JSON";
  const std::optional<size_t> at = LocateJsonError(json, kMaxDepth);
  if (at.has_value()) {
    const TextPosition pos = PositionOf(json, *at);
    diagnostics += " at character offset " + std::to_string(pos.character) + " (line " +
                   std::to_string(pos.line) + ", column " + std::to_string(pos.column) + ")";
  }
  diagnostics += std::string(": ") + simdjson::error_message(error);
  sink->Error("structure", "", std::move(diagnostics));
  return false;
}

std::string Minify(std::string_view text) {
  // simdjson::minify runs near 0.5 GB/s on pretty-printed Bundles (a third of the whole read);
  // on text the parser has validated, a copy that jumps over strings with memchr and over
  // indentation eight bytes at a time is about three times faster.
  std::string out(text.size(), '\0');
  char* o = out.data();
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const char c = *p;
    if (c == '"') {
      const char* close = p + 1;
      while (true) {
        const auto* q =
            static_cast<const char*>(std::memchr(close, '"', static_cast<size_t>(end - close)));
        if (q == nullptr) {  // Cannot happen on parsed JSON: keep the rest as it is.
          close = end - 1;
          break;
        }
        const char* b = q;
        while (b > p + 1 && b[-1] == '\\') --b;
        close = q;
        if (((q - b) & 1) == 0) break;  // An even run of backslashes does not escape the quote.
        ++close;
      }
      const auto n = static_cast<size_t>(close - p + 1);
      std::memcpy(o, p, n);
      o += n;
      p += n;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      ++p;
      // Pretty-printed input is mostly indentation: skip eight spaces per step.
      uint64_t word = 0;
      while (end - p >= 8 && (std::memcpy(&word, p, 8), word == 0x2020202020202020ULL)) p += 8;
    } else {
      *o++ = c;
      ++p;
    }
  }
  out.resize(static_cast<size_t>(o - out.data()));
  return out;
}

void ProcessResource(simdjson::dom::object resource, std::string_view type, const PathNode& path,
                     IssueSink* sink, ParsedResource* out) {
  const size_t errors_before = sink->error_count();
  out->resource_type = std::string(type);
  out->kind = KindOf(type);
  const TypeDef* def = FindResourceDef(type);
  simdjson::dom::element id;
  if (resource["id"].get(id) == simdjson::SUCCESS) {
    std::string_view id_text;
    if (id.get_string().get(id_text) == simdjson::SUCCESS && IsFhirId(id_text)) {
      out->id = std::string(id_text);
    } else if (def == nullptr) {  // Understood types get the same check from their table.
      sink->Error(id.is_string() ? "value" : "structure", RenderChild(path, "id"),
                  "is not an id ([A-Za-z0-9-.]{1,64})");
    }
  }
  if (def != nullptr) ValidateResource(resource, *def, path, sink);
  CollectReferences(resource, &out->references);
  if (sink->error_count() == errors_before) ExtractFields(resource, out);
}

Status RejectedStatus(std::string_view what, size_t errors, const std::string& first_error) {
  return InvalidArgumentError(std::string(what) + " rejected: " + std::to_string(errors) +
                              (errors == 1 ? " error: " : " errors, first: ") + first_error);
}

}  // namespace eds::ingest::fhir::internal
