#include "ingest/fhir/internal/validator.h"

#include <bitset>
#include <cstdint>
#include <string>

#include "ingest/fhir/internal/primitives.h"
#include "ingest/fhir/resource_types.h"

namespace eds::ingest::fhir::internal {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool IsRepeated(Card card) { return card == Card::kRepeated || card == Card::kRepeatedRequired; }
bool IsRequired(Card card) { return card == Card::kRequired || card == Card::kRepeatedRequired; }

bool IsPrimitive(Kind kind) {
  return kind != Kind::kComplex && kind != Kind::kObject && kind != Kind::kResource;
}

std::string AllowedCodes(const ValueSet& vs) {
  std::string out;
  for (std::string_view code : vs.codes) {
    if (!out.empty()) out.append(" | ");
    out.append(code);
  }
  return out;
}

bool InValueSet(const ValueSet& vs, std::string_view code) {
  for (std::string_view c : vs.codes) {
    if (c == code) return true;
  }
  return false;
}

class Validator {
 public:
  explicit Validator(IssueSink* sink) : sink_(sink) {}

  void Object(simdjson::dom::object obj, const TypeDef& def, const PathNode& path,
              bool is_resource) {
    std::bitset<kMaxElementsPerType> seen;
    std::string_view choice_seen[8];
    size_t choices = 0;
    const size_t base_count = def.base.size();
    for (auto field : obj) {
      const std::string_view key = field.key;
      if (is_resource && key == "resourceType") continue;
      if (key.size() > 1 && key[0] == '_') {
        PrimitiveExtension(def, key, field.value, path);
        continue;
      }
      const ElementDef* e = FindElement(def, key);
      if (e == nullptr) {
        sink_->Warning("structure", RenderChild(path, key),
                       "unknown element " + QuotedName(key) + " in " + std::string(def.name));
        continue;
      }
      const size_t index = IndexOf(def, e, base_count);
      if (seen[index]) {
        sink_->Error("structure", RenderChild(path, key), "duplicate JSON property");
        continue;
      }
      seen[index] = true;
      if (!e->choice.empty()) {
        bool clash = false;
        for (size_t i = 0; i < choices; ++i) clash = clash || choice_seen[i] == e->choice;
        if (clash) {
          sink_->Error("structure", RenderChild(path, key),
                       "only one type of " + std::string(e->choice) + "[x] is allowed");
        } else if (choices < std::size(choice_seen)) {
          choice_seen[choices++] = e->choice;
        }
      }
      const PathNode child{&path, key, -1};
      Value(*e, field.value, child);
    }
    for (size_t i = 0; i < base_count + def.elements.size(); ++i) {
      const ElementDef& e = i < base_count ? def.base[i] : def.elements[i - base_count];
      if (IsRequired(e.card) && !seen[i]) {
        sink_->Error("required", RenderChild(path, e.name),
                     std::string(def.name) + "." + std::string(e.name) + " is required");
      }
    }
    for (std::string_view required : def.required_choices) {
      bool found = false;
      for (size_t i = 0; i < choices; ++i) found = found || choice_seen[i] == required;
      if (!found) {
        sink_->Error("required", RenderChild(path, std::string(required) + "[x]"),
                     std::string(def.name) + "." + std::string(required) + "[x] is required");
      }
    }
  }

 private:
  static size_t IndexOf(const TypeDef& def, const ElementDef* e, size_t base_count) {
    if (e >= def.base.data() && e < def.base.data() + base_count) {
      return static_cast<size_t>(e - def.base.data());
    }
    return base_count + static_cast<size_t>(e - def.elements.data());
  }

  // "_birthDate": the id/extensions of a primitive; an object, or an array for a repeated one.
  void PrimitiveExtension(const TypeDef& def, std::string_view key, element value,
                          const PathNode& path) {
    const ElementDef* e = FindElement(def, key.substr(1));
    if (e == nullptr || !IsPrimitive(e->kind)) {
      sink_->Warning("structure", RenderChild(path, key),
                     "unknown element " + QuotedName(key) + " in " + std::string(def.name));
      return;
    }
    const element_type t = value.type();
    if (t != element_type::OBJECT && t != element_type::ARRAY) {
      sink_->Error("structure", RenderChild(path, key),
                   "primitive extension must be a JSON object or array");
    }
  }

  void Value(const ElementDef& e, element value, const PathNode& path) {
    const bool is_array = value.type() == element_type::ARRAY;
    if (!IsRepeated(e.card)) {
      if (is_array) {
        sink_->Error("structure", RenderPath(path), "must be a single value, not a JSON array");
      } else {
        Single(e, value, path);
      }
      return;
    }
    if (!is_array) {
      sink_->Error("structure", RenderPath(path), "must be a JSON array (cardinality 0..*)");
      return;
    }
    const simdjson::dom::array items = value.get_array().value_unsafe();
    int64_t i = 0;
    for (element item : items) {
      const PathNode item_path{&path, {}, i++};
      Single(e, item, item_path);
    }
    if (i == 0) sink_->Warning("structure", RenderPath(path), "empty JSON array");
  }

  void Single(const ElementDef& e, element v, const PathNode& path) {
    const element_type t = v.type();
    if (t == element_type::NULL_VALUE) {
      sink_->Error("structure", RenderPath(path), "null is not a valid FHIR value");
      return;
    }
    switch (e.kind) {
      case Kind::kString:
        Expect(t == element_type::STRING, path, "a JSON string");
        return;
      case Kind::kCode:
        Code(e, v, path);
        return;
      case Kind::kId:
        Formatted(v, path, IsFhirId, "an id ([A-Za-z0-9-.]{1,64})");
        return;
      case Kind::kBoolean:
        Expect(t == element_type::BOOL, path, "true or false");
        return;
      case Kind::kDecimal:
        Expect(t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE,
               path, "a JSON number");
        return;
      case Kind::kInteger:
        Integer(v, path, INT32_MIN);
        return;
      case Kind::kPositiveInt:
        Integer(v, path, 1);
        return;
      case Kind::kUnsignedInt:
        Integer(v, path, 0);
        return;
      case Kind::kDate:
        Formatted(v, path, IsFhirDate, "a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)");
        return;
      case Kind::kDateTime:
        Formatted(v, path, IsFhirDateTime,
                  "a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)");
        return;
      case Kind::kInstant:
        Formatted(v, path, IsFhirInstant, "a FHIR instant (YYYY-MM-DDThh:mm:ss.sss+zz:zz)");
        return;
      case Kind::kTime:
        Formatted(v, path, IsFhirTime, "a FHIR time (hh:mm:ss)");
        return;
      case Kind::kComplex:
        if (Expect(t == element_type::OBJECT, path, "a JSON object")) {
          Object(v.get_object().value_unsafe(), *e.type, path, false);
          if (e.value_set != nullptr) BoundCodings(*e.type, *e.value_set, v, path);
        }
        return;
      case Kind::kObject:
        Expect(t == element_type::OBJECT, path, "a JSON object");
        return;
      case Kind::kResource:
        if (Expect(t == element_type::OBJECT, path, "a JSON object (a resource)")) {
          std::string_view type;
          CheckResourceType(v.get_object().value_unsafe(), path, sink_, &type);
        }
        return;
    }
  }

  bool Expect(bool ok, const PathNode& path, const char* what) {
    if (!ok) sink_->Error("structure", RenderPath(path), std::string("must be ") + what);
    return ok;
  }

  void Formatted(element v, const PathNode& path, bool (*valid)(std::string_view),
                 const char* what) {
    std::string_view s;
    if (!Expect(v.get_string().get(s) == simdjson::SUCCESS, path, "a JSON string")) return;
    if (!valid(s)) sink_->Error("value", RenderPath(path), std::string("is not ") + what);
  }

  void Code(const ElementDef& e, element v, const PathNode& path) {
    std::string_view s;
    if (!Expect(v.get_string().get(s) == simdjson::SUCCESS, path, "a JSON string")) return;
    if (!IsFhirCode(s)) {
      sink_->Error("value", RenderPath(path),
                   "is not a FHIR code (no leading, trailing or "
                   "double whitespace, not empty)");
    } else if (e.value_set != nullptr && !InValueSet(*e.value_set, s)) {
      sink_->Error("value", RenderPath(path),
                   "is not in the required value set (" + AllowedCodes(*e.value_set) + ")");
    }
  }

  void Integer(element v, const PathNode& path, int64_t min) {
    int64_t n = 0;
    const element_type t = v.type();
    if (t != element_type::INT64 && t != element_type::UINT64) {
      const bool number = t == element_type::DOUBLE;
      sink_->Error(number ? "value" : "structure", RenderPath(path), "must be a JSON integer");
      return;
    }
    if (v.get_int64().get(n) != simdjson::SUCCESS || n < min || n > INT32_MAX) {
      sink_->Error("value", RenderPath(path),
                   "is out of range (" + std::to_string(min) + " to 2147483647)");
    }
  }

  // Required bindings on CodeableConcept/Coding: codings of the value set's system must use
  // one of its codes.
  void BoundCodings(const TypeDef& type, const ValueSet& vs, element v, const PathNode& path) {
    if (&type == &kCodingDef) {
      BoundCoding(vs, v, path);
      return;
    }
    simdjson::dom::array codings;
    if (v["coding"].get_array().get(codings) != simdjson::SUCCESS) return;
    const PathNode coding_path{&path, "coding", -1};
    int64_t i = 0;
    for (element coding : codings) {
      const PathNode item{&coding_path, {}, i++};
      BoundCoding(vs, coding, item);
    }
  }

  void BoundCoding(const ValueSet& vs, element coding, const PathNode& path) {
    std::string_view system;
    std::string_view code;
    if (coding["code"].get_string().get(code) != simdjson::SUCCESS) return;
    if (!vs.system.empty() &&
        (coding["system"].get_string().get(system) != simdjson::SUCCESS || system != vs.system)) {
      return;
    }
    if (!InValueSet(vs, code)) {
      sink_->Error("value", RenderChild(path, "code"),
                   "is not in the required value set (" + AllowedCodes(vs) + ")");
    }
  }

  IssueSink* sink_;
};

}  // namespace

void ValidateResource(simdjson::dom::object resource, const TypeDef& def, const PathNode& path,
                      IssueSink* sink) {
  Validator(sink).Object(resource, def, path, true);
}

bool CheckResourceType(simdjson::dom::object resource, const PathNode& path, IssueSink* sink,
                       std::string_view* type) {
  element value;
  if (resource["resourceType"].get(value) != simdjson::SUCCESS) {
    sink->Error("required", RenderChild(path, "resourceType"), "resourceType is required");
    return false;
  }
  if (value.get_string().get(*type) != simdjson::SUCCESS) {
    sink->Error("structure", RenderChild(path, "resourceType"), "must be a JSON string");
    return false;
  }
  if (!IsR4ResourceType(*type)) {
    sink->Error("value", RenderChild(path, "resourceType"),
                "is not a FHIR R4 resource type: " + QuotedName(*type));
    return false;
  }
  return true;
}

}  // namespace eds::ingest::fhir::internal
