#include "update/internal/canonical_json.h"

#include "common/status_macros.h"

namespace eds::update::internal {
namespace {

void AppendString(const std::string& s, std::string& out) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

Status Append(const nlohmann::json& v, std::string& out) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
      out += "null";
      return OkStatus();
    case nlohmann::json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return OkStatus();
    case nlohmann::json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      return OkStatus();
    case nlohmann::json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return OkStatus();
    case nlohmann::json::value_t::string:
      AppendString(v.get_ref<const std::string&>(), out);
      return OkStatus();
    case nlohmann::json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out.push_back(',');
        first = false;
        EDS_RETURN_IF_ERROR(Append(item, out));
      }
      out.push_back(']');
      return OkStatus();
    }
    case nlohmann::json::value_t::object: {
      // nlohmann::json objects are std::map<std::string, ...>: iteration is already in byte order.
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out.push_back(',');
        first = false;
        AppendString(key, out);
        out.push_back(':');
        EDS_RETURN_IF_ERROR(Append(item, out));
      }
      out.push_back('}');
      return OkStatus();
    }
    case nlohmann::json::value_t::number_float:
      return InvalidArgumentError("canonical JSON has no floating-point numbers");
    default:
      return InvalidArgumentError("value has no canonical JSON form");
  }
}

}  // namespace

Result<std::string> CanonicalJson(const nlohmann::json& value) {
  std::string out;
  EDS_RETURN_IF_ERROR(Append(value, out));
  return out;
}

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return InvalidArgumentError(std::string(what) + " is not valid JSON");
  }
  return parsed;
}

}  // namespace eds::update::internal
