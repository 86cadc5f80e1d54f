#include "tests/testing/fault_proxy.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"
#include "tests/testing/tls_client.h"

namespace eds::testing {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

// Long enough to need several reads through the proxy.
const std::string& UpstreamReply() {
  static const std::string reply = [] {
    std::string body;
    for (int i = 0; body.size() < 50000; ++i) body += "line " + std::to_string(i) + "\n";
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
  }();
  return reply;
}

// A loopback upstream: for each connection, reads a request up to its blank line, answers
// UpstreamReply() and closes. Counts connections and keeps the last request head.
class TestUpstream {
 public:
  TestUpstream() : acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestUpstream() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_.load(); }
  std::string last_request() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  struct Conn {
    explicit Conn(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string in;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      connections_.fetch_add(1);
      auto conn = std::make_shared<Conn>(std::move(socket));
      asio::async_read_until(conn->socket, asio::dynamic_buffer(conn->in, 1 << 16), "\r\n\r\n",
                             [this, conn](boost::system::error_code rec, size_t n) {
                               if (rec) return;
                               {
                                 std::lock_guard<std::mutex> lock(mu_);
                                 last_request_ = conn->in.substr(0, n);
                               }
                               asio::async_write(conn->socket, asio::buffer(UpstreamReply()),
                                                 [conn](boost::system::error_code, size_t) {
                                                   boost::system::error_code ignored;
                                                   conn->socket.close(ignored);
                                                 });
                             });
      Accept();
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::string last_request_;
};

struct Exchange {
  std::string received;
  bool reset = false;  // The connection ended with an error rather than a clean close.
  std::chrono::milliseconds elapsed{0};
};

// A plain blocking TCP client: sends `request`, then reads until the peer closes. Every call is
// bounded by a 5 s socket timeout.
Exchange TcpExchange(uint16_t port, const std::string& request) {
  Exchange out;
  const auto start = std::chrono::steady_clock::now();
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_GE(fd, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "connect: " << std::strerror(errno);
    close(fd);
    return out;
  }
  // A send racing a close from the proxy may fail; what the test checks is what comes back.
  (void)send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  char buf[4096];
  while (true) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      EXPECT_NE(errno, EAGAIN) << "timed out waiting for the proxy";
      out.reset = true;
      break;
    }
    out.received.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return out;
}

constexpr char kRequest[] = "GET /ping HTTP/1.1\r\nHost: upstream\r\n\r\n";

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<FaultProxy>> proxy = FaultProxy::Start(upstream_.port());
    ASSERT_THAT(proxy, IsOk());
    proxy_ = std::move(proxy).value();
  }

  // A CA, and a server certificate it signs for 127.0.0.1.
  void MakeCerts() {
    Result<CertFiles> ca = MakeTestCa(dir_.path(), "ca");
    ASSERT_THAT(ca, IsOk());
    ca_ = *ca;
    Result<CertFiles> server = MakeServerCert(dir_.path(), "server", ca_, "127.0.0.1");
    ASSERT_THAT(server, IsOk());
    server_ = *server;
  }

  TlsHttpClient ClientTrustingCa() {
    TlsClientOptions options;
    options.trusted_cert_path = ca_.cert_path;
    options.expected_host = "127.0.0.1";
    return TlsHttpClient(options);
  }

  TestUpstream upstream_;
  TempDir dir_;
  std::unique_ptr<FaultProxy> proxy_;
  CertFiles ca_;
  CertFiles server_;
};

TEST_F(FaultProxyTest, PassForwardsRequestAndWholeResponse) {
  const Exchange e = TcpExchange(proxy_->port(), kRequest);
  EXPECT_FALSE(e.reset);
  EXPECT_EQ(e.received, UpstreamReply());
  EXPECT_EQ(upstream_.last_request(), kRequest);
  EXPECT_EQ(upstream_.connections(), 1);
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kPass), 1);
}

TEST_F(FaultProxyTest, DropClosesAtOnceWithoutContactingUpstream) {
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::Drop()));
  const Exchange e = TcpExchange(proxy_->port(), kRequest);
  EXPECT_EQ(e.received, "");
  EXPECT_LT(e.elapsed, std::chrono::milliseconds(2000));
  EXPECT_EQ(upstream_.connections(), 0);
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kDrop), 1);
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kPass), 0);
}

TEST_F(FaultProxyTest, DelayHoldsTheConnectionThenPasses) {
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::Delay(std::chrono::milliseconds(400))));
  const Exchange e = TcpExchange(proxy_->port(), kRequest);
  EXPECT_GE(e.elapsed, std::chrono::milliseconds(400));
  EXPECT_EQ(e.received, UpstreamReply());
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kDelay), 1);
}

TEST_F(FaultProxyTest, CutResponseForwardsOnlyTheFirstBytes) {
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::CutResponse(100)));
  const Exchange e = TcpExchange(proxy_->port(), kRequest);
  EXPECT_EQ(e.received, UpstreamReply().substr(0, 100));
  EXPECT_EQ(upstream_.last_request(), kRequest);
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kCutResponse), 1);
}

TEST_F(FaultProxyTest, CutBeyondTheFirstReadStillCutsExactly) {
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::CutResponse(30000)));
  const Exchange e = TcpExchange(proxy_->port(), kRequest);
  EXPECT_EQ(e.received.size(), 30000u);
  EXPECT_EQ(e.received, UpstreamReply().substr(0, 30000));
}

TEST_F(FaultProxyTest, ModeChangesApplyToLaterConnectionsAndAreCounted) {
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::Drop()));
  EXPECT_EQ(TcpExchange(proxy_->port(), kRequest).received, "");
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::Pass()));
  EXPECT_EQ(TcpExchange(proxy_->port(), kRequest).received, UpstreamReply());
  EXPECT_EQ(TcpExchange(proxy_->port(), kRequest).received, UpstreamReply());
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kDrop), 1);
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kPass), 2);
  EXPECT_EQ(upstream_.connections(), 2);
}

TEST_F(FaultProxyTest, HttpStatusAnswersOverTlsWithoutUpstream) {
  ASSERT_NO_FATAL_FAILURE(MakeCerts());
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::HttpStatus(500, server_)));
  Result<HttpReply> reply = ClientTrustingCa().Request(proxy_->port(), "POST", "/fhir", "{}");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body, "fault proxy answered 500\n");

  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::HttpStatus(503, server_)));
  reply = ClientTrustingCa().Request(proxy_->port(), "GET", "/");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(upstream_.connections(), 0);
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kHttpStatus), 2);
  EXPECT_EQ(proxy_->TlsHandshakesCompleted(), 2);
}

TEST_F(FaultProxyTest, WrongCertSelfSignedForAnotherHostIsRefused) {
  ASSERT_NO_FATAL_FAILURE(MakeCerts());
  Result<CertFiles> other = MakeSelfSignedCert(dir_.path(), "other", "other.example");
  ASSERT_THAT(other, IsOk());
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::WrongCert(*other)));
  EXPECT_THAT(ClientTrustingCa().Handshake(proxy_->port()), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(proxy_->ConnectionsSeen(FaultMode::kWrongCert), 1);
  EXPECT_EQ(proxy_->TlsHandshakesCompleted(), 0);
  EXPECT_EQ(upstream_.connections(), 0);
}

TEST_F(FaultProxyTest, WrongCertExpiredIsRefused) {
  ASSERT_NO_FATAL_FAILURE(MakeCerts());
  Result<CertFiles> expired =
      MakeServerCert(dir_.path(), "expired", ca_, "127.0.0.1", CertValidity::Expired());
  ASSERT_THAT(expired, IsOk());
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::WrongCert(*expired)));
  EXPECT_THAT(ClientTrustingCa().Handshake(proxy_->port()), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(proxy_->TlsHandshakesCompleted(), 0);
}

TEST_F(FaultProxyTest, WrongCertSignedByTheCaForAnotherHostIsRefused) {
  ASSERT_NO_FATAL_FAILURE(MakeCerts());
  Result<CertFiles> other = MakeServerCert(dir_.path(), "other", ca_, "other.example");
  ASSERT_THAT(other, IsOk());
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::WrongCert(*other)));
  EXPECT_THAT(ClientTrustingCa().Handshake(proxy_->port()), StatusIs(StatusCode::kUnavailable));
}

// The control for the refusals above: the same mode with a certificate the client trusts goes
// through, so they fail because of the certificate.
TEST_F(FaultProxyTest, WrongCertModeWithATrustedCertAnswers200) {
  ASSERT_NO_FATAL_FAILURE(MakeCerts());
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::WrongCert(server_)));
  Result<HttpReply> reply = ClientTrustingCa().Request(proxy_->port(), "GET", "/");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(proxy_->TlsHandshakesCompleted(), 1);
}

TEST_F(FaultProxyTest, TlsModesNeedALoadableCertificate) {
  const CertFiles missing{dir_.Sub("missing.crt"), dir_.Sub("missing.key")};
  Status status = proxy_->SetMode(FaultConfig::HttpStatus(500, missing));
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("missing.crt"));
  EXPECT_THAT(proxy_->SetMode(FaultConfig::WrongCert(missing)),
              StatusIs(StatusCode::kInvalidArgument));
  ASSERT_NO_FATAL_FAILURE(MakeCerts());
  EXPECT_THAT(proxy_->SetMode(FaultConfig::HttpStatus(42, server_)),
              StatusIs(StatusCode::kInvalidArgument));
  // The mode in force is unchanged.
  EXPECT_EQ(TcpExchange(proxy_->port(), kRequest).received, UpstreamReply());
}

TEST_F(FaultProxyTest, StopClosesHeldConnections) {
  EDS_ASSERT_OK(proxy_->SetMode(FaultConfig::Delay(std::chrono::seconds(30))));
  std::thread stopper([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    proxy_->Stop();
  });
  const Exchange e = TcpExchange(proxy_->port(), kRequest);
  stopper.join();
  EXPECT_EQ(e.received, "");
  EXPECT_LT(e.elapsed, std::chrono::milliseconds(3000));
  EXPECT_EQ(upstream_.connections(), 0);
}

TEST_F(FaultProxyTest, ConnectionTimeoutBoundsAHeldConnection) {
  proxy_.reset();
  FaultProxyOptions options;
  options.connection_timeout = std::chrono::milliseconds(300);
  Result<std::unique_ptr<FaultProxy>> proxy = FaultProxy::Start(upstream_.port(), options);
  ASSERT_THAT(proxy, IsOk());
  EDS_ASSERT_OK((*proxy)->SetMode(FaultConfig::Delay(std::chrono::seconds(30))));
  const Exchange e = TcpExchange((*proxy)->port(), kRequest);
  EXPECT_EQ(e.received, "");
  EXPECT_GE(e.elapsed, std::chrono::milliseconds(300));
  EXPECT_LT(e.elapsed, std::chrono::milliseconds(3000));
}

}  // namespace
}  // namespace eds::testing
