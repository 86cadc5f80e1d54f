// HttpsFetcher: the online Fetcher, over the sync module's HTTPS client (the same CA checks, pin,
// proxy and time limits as release delivery). Errors follow the Fetcher contract: kNotFound for
// 403/404 (the end of the root chain), kUnavailable for other statuses and network failures,
// kResourceExhausted past max_length, kInvalidArgument for a URL of another origin.
#pragma once

#include <memory>

#include "sync/upstream_client.h"
#include "update/fetcher.h"

namespace eds::update {

class HttpsFetcher final : public Fetcher {
 public:
  // Every fetched URL must share the origin (scheme, host, port) of `options.url`.
  static Result<std::unique_ptr<HttpsFetcher>> Create(const sync::UpstreamOptions& options);
  Result<std::string> Fetch(std::string_view url, uint64_t max_length) override;
  void Cancel() { client_->Cancel(); }

 private:
  explicit HttpsFetcher(std::unique_ptr<sync::UpstreamClient> client)
      : client_(std::move(client)) {}
  std::unique_ptr<sync::UpstreamClient> client_;
};

}  // namespace eds::update
