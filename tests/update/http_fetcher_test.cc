// HttpFetcher against real loopback servers: files, missing files, a server that never stops
// sending (endless data) and one that never answers (bounded by the timeout).
#include "update/http_fetcher.h"

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/update/http_file_server.h"
#include "update/file_util.h"

namespace eds::update {
namespace {

using ::eds::testing::HttpFileServer;
using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ::eds::testing::TempDir;
using tcp = boost::asio::ip::tcp;

// Accepts one connection, reads the request, then answers with `head` followed by `body_bytes`
// bytes (or forever when negative) until the peer goes away.
class RawServer {
 public:
  RawServer(std::string head, int64_t body_bytes)
      : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this, head, body_bytes] {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      boost::asio::streambuf request;
      boost::asio::read_until(socket, request, "\r\n\r\n", ec);
      if (head.empty()) {
        // Never answers; waits for the client to give up.
        char c;
        socket.read_some(boost::asio::buffer(&c, 1), ec);
        return;
      }
      boost::asio::write(socket, boost::asio::buffer(head), ec);
      const std::string chunk(4096, 'x');
      for (int64_t sent = 0; !ec && (body_bytes < 0 || sent < body_bytes); sent += 4096) {
        boost::asio::write(socket, boost::asio::buffer(chunk), ec);
      }
    });
  }
  ~RawServer() { thread_.join(); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/f"; }

 private:
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(HttpFetcherTest, FetchesAFile) {
  TempDir dir;
  ASSERT_THAT(WriteFileAtomic(dir.path() / "a.json", "{}"), IsOk());
  HttpFileServer server(dir.path());
  HttpFetcher fetcher(std::chrono::seconds(5));
  auto got = fetcher.Fetch(server.Url("a.json"), 100);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(*got, "{}");
  EXPECT_THAT(fetcher.Fetch(server.Url("a.json"), 1), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(fetcher.Fetch(server.Url("missing.json"), 100), StatusIs(StatusCode::kNotFound));
}

TEST(HttpFetcherTest, StopsReadingEndlessDataWithoutALength) {
  RawServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", -1);
  HttpFetcher fetcher(std::chrono::seconds(5));
  EXPECT_THAT(fetcher.Fetch(server.Url(), 16384), StatusIs(StatusCode::kResourceExhausted));
}

TEST(HttpFetcherTest, StopsReadingEndlessChunkedData) {
  // One chunk header announcing far more than allowed, then a stream of bytes.
  RawServer server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n", -1);
  HttpFetcher fetcher(std::chrono::seconds(5));
  EXPECT_THAT(fetcher.Fetch(server.Url(), 16384), StatusIs(StatusCode::kResourceExhausted));
}

TEST(HttpFetcherTest, GivesUpOnASilentServerAfterItsTimeout) {
  RawServer server("", 0);
  HttpFetcher fetcher(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(fetcher.Fetch(server.Url(), 100), StatusIs(StatusCode::kUnavailable));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(HttpFetcherTest, ReportsARefusedConnectionAsUnavailable) {
  uint16_t port;
  {
    boost::asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  HttpFetcher fetcher(std::chrono::seconds(5));
  EXPECT_THAT(fetcher.Fetch("http://127.0.0.1:" + std::to_string(port) + "/x", 100),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(fetcher.Fetch("https://127.0.0.1/x", 100), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace eds::update
