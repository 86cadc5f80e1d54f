// AdminServer routing, limits, lifecycle and start-up errors, over real HTTPS on loopback.
#include "webadmin/admin_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/testing/status_matchers.h"
#include "tests/testing/tls_client.h"
#include "tests/webadmin/test_server.h"
#include "webadmin/tls_certificate.h"

namespace eds::webadmin {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ::eds::testing::TlsHttpClient;
using ::testing::HasSubstr;

class AdminServerTest : public AdminServerFixture {
 protected:
  Result<testing::HttpReply> Send(const std::string& method, const std::string& path,
                                  const std::string& body = "", const std::string& headers = "") {
    return TlsHttpClient(ClientOptions()).Request(server_->port(), method, path, body, headers);
  }
  Result<std::unique_ptr<AdminServer>> TryStart() {
    return AdminServer::Start(options_, [] { return nlohmann::json::object(); });
  }
};

TEST_F(AdminServerTest, UnknownPathIsJson404WithSecurityHeaders) {
  StartServer();
  auto reply = Send("GET", "/api/nope");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->headers.at("content-type"), "application/json");
  EXPECT_EQ(reply->body, R"({"error":"not found"})");
  EXPECT_EQ(reply->headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(reply->headers.at("cache-control"), "no-store");

  auto root = Send("GET", "/");
  ASSERT_THAT(root, IsOk());
  EXPECT_EQ(root->status, 404);
  EXPECT_EQ(root->headers.count("cache-control"), 0u);  // Only /api answers are no-store.
  EXPECT_EQ(root->headers.at("strict-transport-security"), "max-age=31536000");
}

TEST_F(AdminServerTest, MalformedRequestErrorFromCivetWebCarriesSecurityHeaders) {
  StartServer();
  auto reply = Send("GET", "no-leading-slash");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->headers.at("strict-transport-security"), "max-age=31536000");
  EXPECT_EQ(reply->headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(reply->headers.at("content-security-policy"),
            "default-src 'self'; frame-ancestors 'none'");
  EXPECT_EQ(reply->headers.at("referrer-policy"), "no-referrer");
}

TEST_F(AdminServerTest, WrongMethodIs405ListingAllowedMethods) {
  StartServer();
  auto reply = Send("POST", "/api/health", "{}");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->headers.at("allow"), "GET");
  EXPECT_EQ(reply->body, R"({"error":"method not allowed"})");
}

TEST_F(AdminServerTest, BodyOverTheLimitIs413AndAtTheLimitIsServed) {
  options_.max_request_bytes = 1024;
  StartServer();
  server_->AddRoute("POST", "/api/echo", [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", r.body, {}};
  });
  auto over = Send("POST", "/api/echo", std::string(4096, 'x'));
  ASSERT_THAT(over, IsOk());
  EXPECT_EQ(over->status, 413);
  EXPECT_EQ(over->headers.at("x-content-type-options"), "nosniff");
  auto at = Send("POST", "/api/echo", std::string(1024, 'y'));
  ASSERT_THAT(at, IsOk());
  EXPECT_EQ(at->status, 200);
  EXPECT_EQ(at->body, std::string(1024, 'y'));
}

TEST_F(AdminServerTest, DeclaredHugeBodyIs413WithoutWaitingForIt) {
  StartServer();
  const auto start = std::chrono::steady_clock::now();
  auto reply = Send("POST", "/api/health", "", "Content-Length: 1000000000\r\n");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 413);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
}

TEST_F(AdminServerTest, ChunkedBodyOverTheLimitIs413) {
  options_.max_request_bytes = 100;
  StartServer();
  server_->AddRoute("POST", "/api/echo", [](const HttpRequest&) { return HttpResponse{}; });
  std::string chunk(80, 'z');
  std::string body = "50\r\n" + chunk + "\r\n50\r\n" + chunk + "\r\n0\r\n\r\n";
  auto reply = Send("POST", "/api/echo", body, "Transfer-Encoding: chunked\r\n");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 413);
}

TEST_F(AdminServerTest, RouteAddedWhileServingAnswersWithRequestDetails) {
  StartServer();
  server_->AddRoute("PUT", "/api/items", [](const HttpRequest& r) {
    HttpResponse response =
        HttpResponse::Json(201, {{"body", r.body},
                                 {"query", r.query},
                                 {"remote", r.remote_addr},
                                 {"marker", std::string(FindHeader(r.headers, "x-test-marker"))}});
    response.headers.emplace_back("X-Route", "items");
    response.headers.emplace_back("X-Injected", "a\r\nSet-Cookie: stolen=1");
    response.headers.emplace_back("Referrer-Policy", "same-origin");
    return response;
  });
  auto reply = Send("PUT", "/api/items?limit=5&x=%20", "payload", "X-Test-Marker: m1\r\n");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 201);
  auto body = nlohmann::json::parse(reply->body, nullptr, false);
  EXPECT_EQ(body["body"], "payload");
  EXPECT_EQ(body["query"], "limit=5&x=%20");
  EXPECT_EQ(body["remote"], "127.0.0.1");
  EXPECT_EQ(body["marker"], "m1");
  EXPECT_EQ(reply->headers.at("x-route"), "items");
  EXPECT_EQ(reply->headers.count("x-injected"), 0u);
  EXPECT_EQ(reply->headers.count("set-cookie"), 0u);
  EXPECT_EQ(reply->headers.at("referrer-policy"), "same-origin");  // A route may override one.
  EXPECT_EQ(reply->headers.at("content-security-policy"),
            "default-src 'self'; frame-ancestors 'none'");
}

TEST_F(AdminServerTest, ThrowingRouteAnswers500AndServerKeepsServing) {
  StartServer();
  server_->AddRoute("GET", "/api/throws", [](const HttpRequest&) -> HttpResponse {
    return HttpResponse::Json(200, nlohmann::json::parse("not json"));  // Throws parse_error.
  });
  auto reply = Send("GET", "/api/throws");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 500);
  EXPECT_THAT(Send("GET", "/api/health"), IsOk());
}

// Uses about `depth` KiB of stack; the volatile buffer keeps every frame's kilobyte.
int DeepRecursion(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  return depth == 0 ? frame[0] : DeepRecursion(depth - 1) + frame[0];
}

TEST_F(AdminServerTest, ARouteNeedingMoreStackThanCivetWebGivesItsWorkersIsAnswered) {
  // CivetWeb's workers have 100 KiB stacks; the routes run where 1 MiB fits.
  StartServer();
  server_->AddRoute("GET", "/api/deep", [](const HttpRequest&) {
    return HttpResponse::Json(200, {{"sum", DeepRecursion(1024)}});
  });
  auto reply = Send("GET", "/api/deep");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(nlohmann::json::parse(reply->body)["sum"], DeepRecursion(1024));
  EXPECT_THAT(Send("GET", "/api/health"), IsOk());
}

TEST_F(AdminServerTest, SilentClientIsDroppedAfterRequestTimeoutFreeingTheWorker) {
  options_.num_threads = 1;
  options_.request_timeout_ms = 500;
  StartServer();
  // Connects and never starts the TLS handshake, holding the only worker.
  int idle = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(idle, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval tv{5, 0};
  setsockopt(idle, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  auto reply = Send("GET", "/api/health");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 200);
  char byte;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_LE(recv(idle, &byte, 1, 0), 0);  // Closed by the server, not by our 5 s timeout.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(4000));
  close(idle);
}

TEST_F(AdminServerTest, ConnectingAfterStopFailsAndStopIsIdempotent) {
  StartServer();
  const uint16_t port = server_->port();
  ASSERT_THAT(Send("GET", "/api/health"), IsOk());
  server_->Stop();
  server_->Stop();
  auto options = ClientOptions();
  options.timeout = std::chrono::milliseconds(1000);
  EXPECT_THAT(TlsHttpClient(options).Request(port, "GET", "/api/health"),
              StatusIs(StatusCode::kUnavailable));
}

TEST_F(AdminServerTest, MissingKeyFileIsFailedPreconditionNamingIt) {
  std::filesystem::remove(key_path_);
  auto started = TryStart();
  EXPECT_THAT(started, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(started.status().message(), HasSubstr(key_path_));
}

TEST_F(AdminServerTest, MissingCertificateFileIsFailedPreconditionNamingIt) {
  options_.cert_path = dir_.Sub("absent.crt");
  auto started = TryStart();
  EXPECT_THAT(started, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(started.status().message(), HasSubstr(options_.cert_path));
}

TEST_F(AdminServerTest, KeyOfAnotherCertificateIsInvalidArgument) {
  const std::string other_cert = dir_.Sub("other/admin.crt");
  const std::string other_key = dir_.Sub("other/admin.key");
  ASSERT_THAT(EnsureDevCertificate(other_cert, other_key, "other.test"), IsOk());
  options_.key_path = other_key;
  auto started = TryStart();
  EXPECT_THAT(started, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(started.status().message(), HasSubstr("does not match"));
}

TEST_F(AdminServerTest, GarbageKeyFileIsInvalidArgument) {
  FILE* f = std::fopen(key_path_.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", f);
  std::fclose(f);
  EXPECT_THAT(TryStart(), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(AdminServerTest, PortInUseIsFailedPrecondition) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  options_.port = ntohs(addr.sin_port);
  auto started = TryStart();
  close(fd);
  EXPECT_THAT(started, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(started.status().message(), HasSubstr(std::to_string(options_.port)));
}

TEST_F(AdminServerTest, BadOptionsAreInvalidArgument) {
  AdminServerOptions base = options_;
  options_.bind_address = "admin.local";
  EXPECT_THAT(TryStart(), StatusIs(StatusCode::kInvalidArgument));
  options_ = base;
  options_.num_threads = 0;
  EXPECT_THAT(TryStart(), StatusIs(StatusCode::kInvalidArgument));
  options_ = base;
  options_.request_timeout_ms = 0;
  EXPECT_THAT(TryStart(), StatusIs(StatusCode::kInvalidArgument));
  options_ = base;
  EXPECT_THAT(AdminServer::Start(options_, nullptr), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(AdminServerTest, Ipv6BindAddressWorksOnlyWhereCivetWebHasIpv6) {
  options_.bind_address = "::1";
  auto started = TryStart();
  if (mg_check_feature(MG_FEATURES_IPV6) != 0) {
    ASSERT_THAT(started, IsOk());
    EXPECT_NE((*started)->port(), 0);
  } else {
    EXPECT_THAT(started, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(started.status().message(), HasSubstr("IPv6"));
  }
}

}  // namespace
}  // namespace eds::webadmin
