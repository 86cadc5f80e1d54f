#include "storage/internal/id_claims.h"

#include <algorithm>
#include <utility>

namespace eds::storage::internal {

IdClaim::IdClaim(IdClaims* owner, std::vector<std::string> ids)
    : owner_(owner), ids_(std::move(ids)) {}

IdClaim::~IdClaim() { Release(); }

IdClaim::IdClaim(IdClaim&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), ids_(std::move(other.ids_)) {}

IdClaim& IdClaim::operator=(IdClaim&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = std::exchange(other.owner_, nullptr);
    ids_ = std::move(other.ids_);
  }
  return *this;
}

void IdClaim::Release() {
  if (owner_ != nullptr) owner_->Release(ids_);
  owner_ = nullptr;
  ids_.clear();
}

IdClaim IdClaims::Claim(std::vector<std::string> ids) {
  if (ids.empty()) return {};
  MutexLock lock(mu_);
  lock.Wait(released_, [&]() EDS_REQUIRES(mu_) {
    return std::none_of(ids.begin(), ids.end(),
                        [&](const std::string& id) EDS_REQUIRES(mu_) { return held_.count(id); });
  });
  held_.insert(ids.begin(), ids.end());
  return IdClaim(this, std::move(ids));
}

void IdClaims::Release(const std::vector<std::string>& ids) {
  {
    MutexLock lock(mu_);
    for (const auto& id : ids) held_.erase(id);
  }
  released_.notify_all();
}

}  // namespace eds::storage::internal
