#include "hub/http_api.h"

#include <nlohmann/json.hpp>

namespace eds::hub {

using nlohmann::json;
using webadmin::HttpRequest;
using webadmin::HttpResponse;

void AddRoutes(webadmin::AdminServer& server, Receiver& receiver) {
  server.AddRoute("POST", "/releases", [&receiver](const HttpRequest& r) {
    const Answer a = receiver.Accept(
        std::string(webadmin::FindHeader(r.headers, sync::kHeaderField)),
        std::string(webadmin::FindHeader(r.headers, sync::kSignatureField)), r.body);
    HttpResponse out;
    out.status = a.status;
    out.body = a.body;
    return out;
  });
  server.AddRoute("GET", "/releases", [&receiver](const HttpRequest&) {
    auto list = receiver.List();
    if (!list.ok()) return HttpResponse::JsonError(500, "cannot read the releases");
    json out = json::array();
    for (const auto& r : *list) out.push_back(ToJson(r));
    return HttpResponse::Json(200, out);
  });
}

}  // namespace eds::hub
