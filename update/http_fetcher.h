// HttpFetcher: a Fetcher over plain HTTP/1.1 (Boost.Beast), one connection per request, for
// repositories on loopback or a trusted network path (TUF makes the transport untrusted anyway;
// HTTPS comes from the sync module's client). Each request is bounded by `timeout`.
// Errors: kInvalidArgument for a URL that is not http://host[:port]/path, kNotFound for 403/404,
// kUnavailable for network failures and other statuses, kResourceExhausted past max_length.
#pragma once

#include <chrono>

#include "update/fetcher.h"

namespace eds::update {

class HttpFetcher final : public Fetcher {
 public:
  explicit HttpFetcher(std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : timeout_(timeout) {}
  Result<std::string> Fetch(std::string_view url, uint64_t max_length) override;

 private:
  std::chrono::milliseconds timeout_;
};

}  // namespace eds::update
