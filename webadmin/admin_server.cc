#include "webadmin/admin_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <openssl/ssl.h>

#include <array>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/log.h"
#include "common/status_macros.h"
#include "webadmin/internal/large_stack.h"
#include "webadmin/internal/tls_context.h"
#include "webadmin/internal/tls_library.h"

namespace eds::webadmin {
namespace {

constexpr int kMaxThreads = 64;
// Later CivetWeb versions report a failed bind as MG_ERROR_DATA_CODE_INIT_PORTS_FAILED; 1.15
// leaves the code 0 and only logs "cannot bind", so Start() checks both.
constexpr unsigned kCivetWebInitPortsFailed = 10;

struct DefaultHeader {
  const char* name;
  const char* value;
};
constexpr std::array<DefaultHeader, 4> kSecurityHeaders = {{
    {"Strict-Transport-Security", "max-age=31536000"},
    {"X-Content-Type-Options", "nosniff"},
    {"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"},
    {"Referrer-Policy", "no-referrer"},
}};

bool IsApiPath(std::string_view path) { return path == "/api" || path.starts_with("/api/"); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Header lines are built by CivetWeb from these strings, so CR/LF would split the response.
bool IsSafeHeader(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c == ':' || c == 127) return false;
  }
  return value.find_first_of("\r\n", 0) == std::string::npos;
}

Status ValidateOptions(const AdminServerOptions& o) {
  in6_addr addr{};
  if (inet_pton(AF_INET6, o.bind_address.c_str(), &addr) == 1) {
    // Debian 12's CivetWeb is built without IPv6 and would only say "invalid port spec".
    if (mg_check_feature(MG_FEATURES_IPV6) == 0) {
      return InvalidArgumentError("admin bind_address '" + o.bind_address +
                                  "': this CivetWeb build has no IPv6 support");
    }
  } else if (inet_pton(AF_INET, o.bind_address.c_str(), &addr) != 1) {
    return InvalidArgumentError("admin bind_address '" + o.bind_address +
                                "' is not an IPv4 or IPv6 address");
  }
  if (o.cert_path.empty()) return InvalidArgumentError("admin cert_path is empty");
  if (o.key_path.empty()) return InvalidArgumentError("admin key_path is empty");
  if (o.num_threads < 1 || o.num_threads > kMaxThreads) {
    return InvalidArgumentError("admin num_threads must be in 1.." + std::to_string(kMaxThreads));
  }
  if (o.request_timeout_ms < 1) return InvalidArgumentError("admin request_timeout_ms must be > 0");
  if (o.max_request_bytes < 1) return InvalidArgumentError("admin max_request_bytes must be > 0");
  return OkStatus();
}

// CivetWeb's listening_ports syntax; the trailing "s" makes the port TLS-only.
std::string ListeningPort(const AdminServerOptions& o) {
  const bool v6 = o.bind_address.find(':') != std::string::npos;
  return (v6 ? "[" + o.bind_address + "]" : o.bind_address) + ":" + std::to_string(o.port) + "s";
}

enum class BodyResult { kOk, kTooLarge, kReadError };

BodyResult ReadBody(mg_connection* conn, const mg_request_info& info, size_t limit,
                    std::string& body) {
  // Refuse a declared oversize body before reading any of it.
  if (info.content_length > 0 && static_cast<uint64_t>(info.content_length) > limit) {
    return BodyResult::kTooLarge;
  }
  char buf[8192];
  for (;;) {
    const int n = mg_read(conn, buf, sizeof(buf));
    if (n == 0) return BodyResult::kOk;
    if (n < 0) return BodyResult::kReadError;
    body.append(buf, static_cast<size_t>(n));
    // A chunked body has no declared length, so it is bounded as it arrives.
    if (body.size() > limit) return BodyResult::kTooLarge;
  }
}

// Returns the status actually sent.
int WriteResponse(mg_connection* conn, const HttpRequest& request, HttpResponse response) {
  if (response.status < 100 || response.status > 599 ||
      !IsSafeHeader("Content-Type", response.content_type)) {
    LogError("admin route returned an invalid status or content type",
             {{"EDS_PATH", request.path}, {"EDS_STATUS", std::to_string(response.status)}});
    response = HttpResponse::JsonError(500, "internal error");
  }
  if (mg_response_header_start(conn, response.status) != 0) return response.status;
  for (const DefaultHeader& h : kSecurityHeaders) {
    std::string_view value = FindHeader(response.headers, h.name);
    if (value.empty()) mg_response_header_add(conn, h.name, h.value, -1);
  }
  if (IsApiPath(request.path) && FindHeader(response.headers, "Cache-Control").empty()) {
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  }
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "Content-Type") || EqualsIgnoreCase(name, "Content-Length")) {
      continue;
    }
    if (!IsSafeHeader(name, value)) {
      LogWarning("admin route set an invalid response header; dropped",
                 {{"EDS_PATH", request.path}});
      continue;
    }
    mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
  }
  mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
  mg_response_header_add(conn, "Content-Length", std::to_string(response.body.size()).c_str(), -1);
  mg_response_header_send(conn);
  if (request.method != "HEAD" && !response.body.empty()) {
    mg_write(conn, response.body.data(), response.body.size());
  }
  return response.status;
}

HttpRequest ToHttpRequest(const mg_request_info& info) {
  HttpRequest request;
  request.method = info.request_method != nullptr ? info.request_method : "";
  request.path = info.local_uri != nullptr ? info.local_uri : "";
  request.query = info.query_string != nullptr ? info.query_string : "";
  request.remote_addr = info.remote_addr;
  for (int i = 0; i < info.num_headers && i < MG_MAX_HEADERS; ++i) {
    const mg_header& h = info.http_headers[i];
    request.headers.emplace_back(h.name != nullptr ? h.name : "",
                                 h.value != nullptr ? h.value : "");
  }
  return request;
}

}  // namespace

struct AdminServer::Impl {
  mg_context* ctx = nullptr;
  // CivetWeb explains a failed start only through log_message, so Start() keeps those lines.
  Mutex start_log_mu;
  bool starting EDS_GUARDED_BY(start_log_mu) = true;
  std::string start_log EDS_GUARDED_BY(start_log_mu);

  // Every request lands here, before CivetWeb's own handling; returning the status tells CivetWeb
  // the request is answered, so it never serves files.
  static int BeginRequest(mg_connection* conn) {
    const mg_request_info* info = mg_get_request_info(conn);
    auto* server = static_cast<const AdminServer*>(info->user_data);
    HttpRequest request = ToHttpRequest(*info);
    HttpResponse response;
    switch (ReadBody(conn, *info, server->options_.max_request_bytes, request.body)) {
      case BodyResult::kOk:
        // Dispatch catches what a route throws.
        internal::RunOnLargeStack([&] { response = server->Dispatch(request); });
        break;
      case BodyResult::kTooLarge:
        response = HttpResponse::JsonError(413, "request body too large");
        break;
      case BodyResult::kReadError:
        response = HttpResponse::JsonError(400, "could not read the request body");
        break;
    }
    return WriteResponse(conn, request, std::move(response));
  }

  static int LogMessage(const mg_connection* conn, const char* message) {
    const std::string text = message != nullptr ? message : "";
    const mg_context* ctx = conn != nullptr ? mg_get_context(conn) : nullptr;
    auto* server =
        ctx != nullptr ? static_cast<const AdminServer*>(mg_get_user_data(ctx)) : nullptr;
    if (server != nullptr && server->impl_ != nullptr) {
      Impl& impl = *server->impl_;
      MutexLock lock(impl.start_log_mu);
      if (impl.starting) {
        impl.start_log += (impl.start_log.empty() ? "" : "; ") + text;
        return 1;
      }
    }
    LogWarning("admin server", {{"EDS_CIVETWEB", text}});
    return 1;
  }

  // Returning 1 tells CivetWeb that the certificate is loaded and the context is ready.
  static int InitSsl(void* ssl_ctx, void* user_data) {
    auto* server = static_cast<const AdminServer*>(user_data);
    Status s = internal::ConfigureServerTls(static_cast<SSL_CTX*>(ssl_ctx),
                                            server->options_.cert_path, server->options_.key_path);
    if (s.ok() && !server->options_.client_ca_path.empty()) {
      s = internal::RequireClientCertificates(static_cast<SSL_CTX*>(ssl_ctx),
                                              server->options_.client_ca_path);
    }
    if (!s.ok()) {
      LogError("admin server TLS set-up failed", {{"EDS_ERROR", s.ToString()}});
      return -1;
    }
    return 1;
  }
};

AdminServer::AdminServer(AdminServerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}

AdminServer::~AdminServer() { Stop(); }

Result<std::unique_ptr<AdminServer>> AdminServer::Start(const AdminServerOptions& options,
                                                        HealthFn health) {
  EDS_RETURN_IF_ERROR(ValidateOptions(options));
  if (!health) return InvalidArgumentError("admin server needs a health function");
  EDS_RETURN_IF_ERROR(internal::CheckCertificateAndKey(options.cert_path, options.key_path));
  EDS_RETURN_IF_ERROR(internal::InitCivetWebTls());

  std::unique_ptr<AdminServer> server(new AdminServer(options));
  server->AddRoute("GET", "/api/health", [health = std::move(health)](const HttpRequest&) {
    return HttpResponse::Json(200, health());
  });

  const std::string ports = ListeningPort(options);
  const std::string threads = std::to_string(options.num_threads);
  const std::string timeout = std::to_string(options.request_timeout_ms);
  const std::string keep_alive_timeout = std::to_string(options.keep_alive_timeout_ms);
  std::string security_headers;
  for (const DefaultHeader& h : kSecurityHeaders) {
    security_headers +=
        (security_headers.empty() ? "" : "\r\n") + std::string(h.name) + ": " + h.value;
  }
  // clang-format off
  const char* config[] = {
      "listening_ports", ports.c_str(),
      "num_threads", threads.c_str(),
      "request_timeout_ms", timeout.c_str(),
      // TLS 1.2 and later. InitSsl() applies the rest of the policy and the same floor.
      "ssl_protocol_version", "4",
      // Without keep-alive, one request per connection; with it, an idle client holds a
      // bounded worker for keep_alive_timeout_ms at most.
      "enable_keep_alive", options.keep_alive ? "yes" : "no",
      "keep_alive_timeout_ms", keep_alive_timeout.c_str(),
      // Answers go out in two writes (headers, body): without this, Nagle and the client's
      // delayed ACK hold a kept-alive connection's answer for 40 ms.
      "tcp_nodelay", "1",
      // Only CivetWeb's own error pages (malformed requests) use this; routes add their own.
      "additional_header", security_headers.c_str(),
      nullptr,
  };
  // clang-format on
  mg_callbacks callbacks{};
  callbacks.begin_request = &Impl::BeginRequest;
  callbacks.log_message = &Impl::LogMessage;
  callbacks.init_ssl = &Impl::InitSsl;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = config;
  unsigned error_code = 0;
  char error_text[256] = "";
  mg_error_data error{&error_code, error_text, sizeof(error_text)};

  Impl& impl = *server->impl_;
  impl.ctx = mg_start2(&init, &error);
  std::string start_log;
  {
    MutexLock lock(impl.start_log_mu);
    impl.starting = false;
    start_log = std::move(impl.start_log);
  }
  if (impl.ctx == nullptr) {
    std::string what = "admin server on " + ports + ": " +
                       (error_text[0] != '\0' ? error_text : "CivetWeb failed to start");
    if (!start_log.empty()) what += " (" + start_log + ")";
    if (error_code == kCivetWebInitPortsFailed ||
        start_log.find("cannot bind") != std::string::npos) {
      return FailedPreconditionError(what);
    }
    return InternalError(what);
  }
  mg_server_port bound[4] = {};
  const int n = mg_get_server_ports(server->impl_->ctx, 4, bound);
  if (n < 1 || bound[0].port <= 0 || bound[0].port > 65535) {
    server->Stop();
    return InternalError("admin server: cannot read back the bound port");
  }
  server->port_ = static_cast<uint16_t>(bound[0].port);
  LogInfo("admin server listening",
          {{"EDS_ADDRESS", options.bind_address}, {"EDS_PORT", std::to_string(server->port_)}});
  return server;
}

void AdminServer::Stop() {
  MutexLock lock(stop_mu_);
  if (impl_ == nullptr) return;
  // mg_stop joins every worker, so no callback can run once it returns.
  if (impl_->ctx != nullptr) mg_stop(impl_->ctx);
  impl_.reset();
}

void AdminServer::AddRoute(std::string method, std::string path, HttpHandler handler) {
  MutexLock lock(routes_mu_);
  routes_[std::move(path)][std::move(method)] = std::move(handler);
}

void AdminServer::AddPrefixRoute(std::string prefix, HttpHandler handler) {
  MutexLock lock(routes_mu_);
  prefix_routes_[std::move(prefix)] = std::move(handler);
}

HttpResponse AdminServer::Dispatch(const HttpRequest& request) const {
  HttpHandler handler;
  std::string allowed;
  {
    MutexLock lock(routes_mu_);
    auto by_path = routes_.find(request.path);
    if (by_path == routes_.end()) {
      size_t best = 0;
      for (const auto& [prefix, h] : prefix_routes_) {
        if (request.path.rfind(prefix, 0) == 0 && prefix.size() > best) {
          best = prefix.size();
          handler = h;
        }
      }
      if (!handler) return HttpResponse::JsonError(404, "not found");
    }
  }
  if (handler) {
    try {
      return handler(request);
    } catch (const std::exception& e) {
      LogError("route threw", {{"EDS_PATH", request.path}, {"EDS_ERROR", e.what()}});
    } catch (...) {
      LogError("route threw", {{"EDS_PATH", request.path}});
    }
    return HttpResponse::JsonError(500, "internal error");
  }
  {
    MutexLock lock(routes_mu_);
    auto by_path = routes_.find(request.path);
    if (by_path == routes_.end()) return HttpResponse::JsonError(404, "not found");
    auto by_method = by_path->second.find(request.method);
    if (by_method != by_path->second.end()) {
      handler = by_method->second;
    } else {
      for (const auto& [method, unused] : by_path->second) {
        allowed += (allowed.empty() ? "" : ", ") + method;
      }
    }
  }
  if (!handler) {
    HttpResponse response = HttpResponse::JsonError(405, "method not allowed");
    response.headers.emplace_back("Allow", allowed);
    return response;
  }
  // The handler runs on a CivetWeb thread, where an escaping exception would end the process.
  try {
    return handler(request);
  } catch (const std::exception& e) {
    LogError("admin route threw", {{"EDS_PATH", request.path}, {"EDS_ERROR", e.what()}});
  } catch (...) {
    LogError("admin route threw", {{"EDS_PATH", request.path}});
  }
  return HttpResponse::JsonError(500, "internal error");
}

}  // namespace eds::webadmin
