#include "ingest/fhir/internal/references.h"

#include <string>

#include "ingest/fhir/internal/issue_sink.h"

namespace eds::ingest::fhir::internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

void Walk(element value, const PathNode& path, std::vector<FoundReference>* out);

void WalkObject(simdjson::dom::object obj, const PathNode& path, bool nested,
                std::vector<FoundReference>* out) {
  const size_t before = out->size();
  for (auto field : obj) {
    const std::string_view key = field.key;
    const element_type t = field.value.type();
    if (t == element_type::STRING) {
      const std::string_view s = field.value.get_string().value_unsafe();
      if (key == "reference") {
        out->push_back(FoundReference{RenderChild(path, key), std::string(s)});
      } else if (nested && key == "resourceType" && s == "Bundle") {
        out->resize(before);  // Members before resourceType may have been collected already.
        return;
      }
    } else if (t == element_type::OBJECT || t == element_type::ARRAY) {
      const PathNode child{&path, key, -1};
      Walk(field.value, child, out);
    }
  }
}

void Walk(element value, const PathNode& path, std::vector<FoundReference>* out) {
  if (value.type() == element_type::OBJECT) {
    WalkObject(value.get_object().value_unsafe(), path, true, out);
    return;
  }
  if (value.type() != element_type::ARRAY) return;
  const simdjson::dom::array items = value.get_array().value_unsafe();
  int64_t i = 0;
  for (element item : items) {
    const PathNode item_path{&path, {}, i++};
    const element_type t = item.type();
    if (t == element_type::OBJECT || t == element_type::ARRAY) Walk(item, item_path, out);
  }
}

}  // namespace

void CollectReferences(simdjson::dom::object resource, std::vector<FoundReference>* out) {
  const PathNode root{nullptr, {}, -1};
  WalkObject(resource, root, false, out);
}

}  // namespace eds::ingest::fhir::internal
