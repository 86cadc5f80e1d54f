#include "webadmin/http_message.h"

#include <nlohmann/json.hpp>

#include <strings.h>

namespace eds::webadmin {

std::string_view FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return {};
}

HttpResponse HttpResponse::Json(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  // dump() with error_handler_t::replace cannot throw on bad UTF-8, the only error it reports.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

HttpResponse HttpResponse::JsonError(int status, std::string_view message) {
  return Json(status, nlohmann::json{{"error", message}});
}

}  // namespace eds::webadmin
