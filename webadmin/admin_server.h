// AdminServer: the HTTPS server of the admin UI and JSON API (CivetWeb inside, TLS 1.2+ only).
// Start() returns a running server or a Status naming the bad file, option or port; Stop() (also
// run by the destructor) waits for in-flight requests. Routes are exact (method, path) pairs and
// may be added at any time, also while serving. Every response carries the security headers.
// Thread-safe. Example:
//   EDS_ASSIGN_OR_RETURN(auto server, AdminServer::Start(options, [] { return Health(); }));
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "common/mutex.h"
#include "common/result.h"
#include "webadmin/http_message.h"

namespace eds::webadmin {

struct AdminServerOptions {
  // Address to listen on: an IPv4 literal, or IPv6 where CivetWeb was built with it (Debian 12's
  // was not). Default: every IPv4 interface.
  std::string bind_address = "0.0.0.0";
  // TCP port; 0 picks a free one (read it back with AdminServer::port()). Default 8443.
  uint16_t port = 8443;
  // PEM certificate (chain) and unencrypted PEM private key. Required.
  std::string cert_path;
  std::string key_path;
  // Worker threads, i.e. connections served at once; more wait in a queue. Default 4, max 64.
  int num_threads = 4;
  // Bound on each network read or write of a request, in milliseconds. Default 10 s.
  int request_timeout_ms = 10000;
  // Request bodies above this many bytes are refused with 413. Default 1 MiB.
  size_t max_request_bytes = 1 << 20;
  // Keep connections open between requests (feeds that post many Bundles save a TLS handshake
  // each); an idle connection holds a worker for at most keep_alive_timeout_ms. Default off.
  bool keep_alive = false;
  int keep_alive_timeout_ms = 2000;
  // PEM CA bundle: when set, clients must present a certificate chaining to it (mutual TLS).
  std::string client_ca_path;
};

// Called on a worker thread; must be thread-safe and must not throw.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Produces the body of GET /api/health; called on a worker thread, must be thread-safe.
using HealthFn = std::function<nlohmann::json()>;

class AdminServer {
 public:
  // Validates `options`, checks that the certificate and key load and match, loads TLS support
  // (once per process) and starts listening. Errors: kInvalidArgument (bad option, malformed
  // PEM, key not matching the certificate), kFailedPrecondition (file missing or unreadable, TLS
  // library shim not found, port already in use), kInternal (anything else CivetWeb reports).
  static Result<std::unique_ptr<AdminServer>> Start(const AdminServerOptions& options,
                                                    HealthFn health);

  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Stops listening and waits for the worker threads. Idempotent. Takes up to ~2 s: CivetWeb 1.15's
  // listener thread only checks for shutdown between 2 s polls.
  void Stop();
  // The port actually bound (the ephemeral one when options.port was 0).
  uint16_t port() const { return port_; }

  // Serves `method` `path` (exact match, e.g. "GET", "/api/status") with `handler`, replacing an
  // earlier handler for the same pair. A path known for other methods only answers 405.
  void AddRoute(std::string method, std::string path, HttpHandler handler);
  // Serves every method of every path under `prefix` (e.g. "/fhir/") that no exact route
  // matches; the handler answers 404/405 itself. The longest matching prefix wins.
  void AddPrefixRoute(std::string prefix, HttpHandler handler);

 private:
  struct Impl;  // CivetWeb context and callbacks, in admin_server.cc.
  explicit AdminServer(AdminServerOptions options);

  // Routes one request (the body is already read and within bounds).
  HttpResponse Dispatch(const HttpRequest& request) const;

  const AdminServerOptions options_;
  std::unique_ptr<Impl> impl_;  // Owns the CivetWeb context; null once stopped.
  uint16_t port_ = 0;
  mutable Mutex routes_mu_;
  // path -> method -> handler.
  std::map<std::string, std::map<std::string, HttpHandler>> routes_ EDS_GUARDED_BY(routes_mu_);
  std::map<std::string, HttpHandler> prefix_routes_ EDS_GUARDED_BY(routes_mu_);
  Mutex stop_mu_;
};

}  // namespace eds::webadmin
