// HttpRequest / HttpResponse: the plain values that AdminServer routes exchange, free of any
// server library type. Header names compare case-insensitively. Values, not thread-shared.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eds::webadmin {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// First value of header `name` in `headers`, or an empty view when it is absent.
std::string_view FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method;       // "GET", "POST", ...
  std::string path;         // URL-decoded and normalised, without the query ("/api/health").
  std::string query;        // Raw text after '?', still URL-encoded; empty when absent.
  std::string body;         // At most AdminServerOptions::max_request_bytes.
  std::string remote_addr;  // Client IP address as text.
  HttpHeaders headers;      // As received, in order.
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers. One named like a default security header replaces it; Content-Type and
  // Content-Length come from the fields above; names or values with CR/LF are dropped.
  HttpHeaders headers;

  // `body` serialised; invalid UTF-8 in strings is replaced rather than failing.
  static HttpResponse Json(int status, const nlohmann::json& body);
  // {"error": message}, e.g. JsonError(404, "not found").
  static HttpResponse JsonError(int status, std::string_view message);
};

}  // namespace eds::webadmin
