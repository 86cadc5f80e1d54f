#include "update/http_fetcher.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>

namespace eds::update {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct Url {
  std::string host;
  std::string port = "80";
  std::string target;
};

Result<Url> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgumentError("only http:// URLs are fetched here: " + std::string(url));
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Url out;
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    out.host = std::string(authority.substr(0, colon));
    out.port = std::string(authority.substr(colon + 1));
  } else {
    out.host = std::string(authority);
  }
  if (out.host.empty()) return InvalidArgumentError("URL has no host: " + std::string(url));
  return out;
}

}  // namespace

Result<std::string> HttpFetcher::Fetch(std::string_view url, uint64_t max_length) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::request<http::empty_body> request(http::verb::get, parsed->target, 11);
  request.set(http::field::host, parsed->host);
  request.set(http::field::user_agent, "eds-node-update");
  request.set(http::field::connection, "close");
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_length);
  parser.header_limit(16 * 1024);

  beast::error_code failure;
  auto fail = [&failure](beast::error_code ec) {
    if (!failure) failure = ec;
  };
  // Reads piece by piece and checks the length itself after each piece: Beast's body_limit was
  // seen not to stop a body that arrived in the same read as the header.
  std::function<void()> read_some = [&] {
    http::async_read_some(stream, buffer, parser, [&](beast::error_code ec, size_t) {
      if (ec) return fail(ec);
      const auto declared = parser.content_length();
      if ((declared && *declared > max_length) || parser.get().body().size() > max_length) {
        return fail(http::error::body_limit);
      }
      if (!parser.is_done()) read_some();
    });
  };
  stream.expires_after(timeout_);
  resolver.async_resolve(
      parsed->host, parsed->port, [&](beast::error_code ec, tcp::resolver::results_type found) {
        if (ec) return fail(ec);
        stream.async_connect(found, [&](beast::error_code ec2, const tcp::endpoint&) {
          if (ec2) return fail(ec2);
          http::async_write(stream, request, [&](beast::error_code ec3, size_t) {
            if (ec3) return fail(ec3);
            read_some();
          });
        });
      });
  // The stream's expiry bounds every step; the resolver is bounded by the same deadline.
  io.run_for(timeout_ + std::chrono::seconds(1));
  if (!io.stopped()) {
    return UnavailableError("timed out fetching " + std::string(url));
  }
  if (failure == http::error::body_limit || failure == http::error::buffer_overflow) {
    return ResourceExhaustedError(std::string(url) + " is longer than " +
                                  std::to_string(max_length) + " bytes");
  }
  if (failure) {
    return UnavailableError("fetching " + std::string(url) + ": " + failure.message());
  }
  const unsigned status = parser.get().result_int();
  if (status == 404 || status == 403) return NotFoundError("no file at " + std::string(url));
  if (status != 200) {
    return UnavailableError("fetching " + std::string(url) + ": HTTP " + std::to_string(status));
  }
  return std::move(parser.get().body());
}

}  // namespace eds::update
