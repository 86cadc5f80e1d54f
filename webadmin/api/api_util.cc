// Helpers shared by the admin API's route handlers.
#include <algorithm>

#include "common/log.h"
#include "common/status_macros.h"
#include "webadmin/internal/api_state.h"

namespace eds::webadmin::internal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

HttpResponse ErrorResponse(const Status& status) {
  int code = 500;
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
      code = 400;
      break;
    case StatusCode::kNotFound:
      code = 404;
      break;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      code = 409;
      break;
    case StatusCode::kUnauthenticated:
      code = 401;
      break;
    case StatusCode::kPermissionDenied:
      code = 403;
      break;
    case StatusCode::kResourceExhausted:
      code = 429;
      break;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      code = 503;
      break;
    default:
      break;
  }
  return HttpResponse::JsonError(code, status.message());
}

HttpResponse Ok(const json& body) { return HttpResponse::Json(200, body); }

std::string QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = std::min(query.find('&'), query.size());
    std::string_view pair = query.substr(0, amp);
    query.remove_prefix(std::min(amp + 1, query.size()));
    const size_t eq = pair.find('=');
    if (UrlDecode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? "" : UrlDecode(pair.substr(eq + 1));
  }
  return "";
}

std::string CookieValue(const HttpRequest& request, std::string_view name) {
  for (const auto& [header, value] : request.headers) {
    if (header.size() != 6 || strncasecmp(header.c_str(), "cookie", 6) != 0) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t semi = std::min(rest.find(';'), rest.size());
      std::string_view pair = rest.substr(0, semi);
      rest.remove_prefix(std::min(semi + 1, rest.size()));
      while (pair.starts_with(' ')) pair.remove_prefix(1);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
        return std::string(pair.substr(eq + 1));
      }
    }
  }
  return "";
}

std::string Field(const Call& call, const char* name) {
  if (!call.body.is_object()) return "";
  auto it = call.body.find(name);
  return it != call.body.end() && it->is_string() ? it->get<std::string>() : "";
}

namespace {
constexpr std::string_view kThrottleRecord = "webadmin/login-throttle";
}  // namespace

Status SaveThrottle(State& state, const storage::AuditEvent& event) {
  return state.ctx.store->Write({{"", std::string(kThrottleRecord), state.throttle->Export()}},
                                event);
}

Status LoadThrottle(State& state) {
  storage::Store& store = *state.ctx.store;
  EDS_ASSIGN_OR_RETURN(bool exists, store.Exists("", kThrottleRecord));
  if (!exists) return OkStatus();
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store.Read("", kThrottleRecord, {"system", "login-throttle.read", "", ""}));
  return state.throttle->Import(text);
}

std::vector<StatsPoint> Samples(State& state) {
  if (Status s = state.history->Record(); !s.ok()) {
    LogWarning("admin: the dashboard history was not saved", {{"EDS_ERROR", s.ToString()}});
  }
  return state.history->Points();
}

}  // namespace eds::webadmin::internal
