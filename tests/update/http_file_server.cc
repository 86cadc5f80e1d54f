#include "tests/update/http_file_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <sstream>

namespace eds::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

HttpFileServer::HttpFileServer(std::filesystem::path root)
    : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
      root_(std::move(root)) {
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
}

HttpFileServer::~HttpFileServer() {
  stopping_ = true;
  // Wakes the blocking accept.
  boost::system::error_code ec;
  tcp::socket wake(io_);
  wake.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_), ec);
  thread_.join();
}

std::string HttpFileServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + path;
}

void HttpFileServer::SetRoot(std::filesystem::path root) {
  std::lock_guard<std::mutex> lock(mu_);
  root_ = std::move(root);
}

std::vector<std::string> HttpFileServer::Requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void HttpFileServer::Serve() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    if (ec || stopping_) continue;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) continue;
    std::string target(request.target());
    std::filesystem::path file;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(target);
      file = root_ / target.substr(1);
    }
    http::response<http::string_body> response;
    response.version(11);
    response.set(http::field::connection, "close");
    std::ifstream in(file, std::ios::binary);
    if (target.find("..") != std::string::npos || !in || std::filesystem::is_directory(file)) {
      response.result(http::status::not_found);
    } else {
      std::ostringstream body;
      body << in.rdbuf();
      response.result(http::status::ok);
      response.body() = body.str();
    }
    response.prepare_payload();
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
}

}  // namespace eds::testing
