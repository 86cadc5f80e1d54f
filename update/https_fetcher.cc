#include "update/https_fetcher.h"

#include "common/status_macros.h"

namespace eds::update {

Result<std::unique_ptr<HttpsFetcher>> HttpsFetcher::Create(const sync::UpstreamOptions& options) {
  EDS_ASSIGN_OR_RETURN(auto client, sync::UpstreamClient::Create(options));
  return std::unique_ptr<HttpsFetcher>(new HttpsFetcher(std::move(client)));
}

Result<std::string> HttpsFetcher::Fetch(std::string_view url, uint64_t max_length) {
  EDS_ASSIGN_OR_RETURN(sync::HttpResponse r, client_->Get(url, static_cast<size_t>(max_length)));
  if (r.status == 404 || r.status == 403) return NotFoundError("no " + std::string(url));
  if (r.status != 200) {
    return UnavailableError(std::string(url) + ": HTTP " + std::to_string(r.status));
  }
  return std::move(r.body);
}

}  // namespace eds::update
