// HttpFileServer: serves the files under a directory over plain HTTP on 127.0.0.1 (a free port),
// one request per connection, on its own thread; GET only, 404 for anything missing. Records
// the paths requested so tests can see what a client fetched. For tests only.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace eds::testing {

class HttpFileServer {
 public:
  explicit HttpFileServer(std::filesystem::path root);
  ~HttpFileServer();
  HttpFileServer(const HttpFileServer&) = delete;
  HttpFileServer& operator=(const HttpFileServer&) = delete;

  uint16_t port() const { return port_; }
  std::string Url(const std::string& path = "") const;
  // Serves another directory from the next request on.
  void SetRoot(std::filesystem::path root);
  std::vector<std::string> Requests();

 private:
  void Serve();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::filesystem::path root_;         // guarded by mu_
  std::vector<std::string> requests_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace eds::testing
