#include "webadmin/auth/login_throttle.h"

#include <algorithm>

namespace eds::webadmin {
namespace {

// Entries are dropped once idle for long, so random names cannot grow the maps for ever.
constexpr size_t kMaxEntries = 10000;

}  // namespace

std::optional<std::chrono::seconds> LoginThrottle::LockedFor(const std::string& account,
                                                             const std::string& address) {
  const auto now = clock_.Monotonic();
  MutexLock lock(mu_);
  std::chrono::steady_clock::time_point until = now;
  if (auto it = accounts_.find(account); it != accounts_.end()) {
    until = std::max(until, it->second.locked_until);
  }
  if (auto it = addresses_.find(address); it != addresses_.end()) {
    until = std::max(until, it->second.locked_until);
  }
  if (until <= now) return std::nullopt;
  return std::chrono::ceil<std::chrono::seconds>(until - now);
}

bool LoginThrottle::Count(Counter& c, int limit, std::chrono::steady_clock::time_point now) const {
  if (c.failures == 0 || now - c.first >= options_.window) {
    c.failures = 0;
    c.first = now;
  }
  ++c.failures;
  if (c.failures < limit) return false;
  c.failures = 0;
  c.locked_until = now + options_.lockout;
  return true;
}

bool LoginThrottle::Failure(const std::string& account, const std::string& address) {
  const auto now = clock_.Monotonic();
  MutexLock lock(mu_);
  for (auto* map : {&accounts_, &addresses_}) {
    if (map->size() < kMaxEntries) continue;
    for (auto it = map->begin(); it != map->end();) {
      const bool stale =
          it->second.locked_until <= now && now - it->second.first >= options_.window;
      it = stale ? map->erase(it) : std::next(it);
    }
  }
  const bool by_account = Count(accounts_[account], options_.max_account_failures, now);
  const bool by_address = Count(addresses_[address], options_.max_address_failures, now);
  return by_account || by_address;
}

void LoginThrottle::Success(const std::string& account) {
  MutexLock lock(mu_);
  accounts_.erase(account);
}

}  // namespace eds::webadmin
