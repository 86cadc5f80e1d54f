#include "webadmin/auth/login_throttle.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace eds::webadmin {
namespace {

// Entries are dropped once idle for long, so random names cannot grow the maps for ever.
constexpr size_t kMaxEntries = 10000;

int64_t Millis(std::chrono::system_clock::time_point t) { return UnixMillis(t); }

std::chrono::system_clock::time_point FromMillis(int64_t ms) {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace

std::optional<std::chrono::seconds> LoginThrottle::LockedFor(const std::string& account,
                                                             const std::string& address) {
  const Time now = clock_.Now();
  MutexLock lock(mu_);
  Time until = now;
  if (auto it = accounts_.find(account); it != accounts_.end()) {
    until = std::max(until, it->second.locked_until);
  }
  if (auto it = addresses_.find(address); it != addresses_.end()) {
    until = std::max(until, it->second.locked_until);
  }
  if (until <= now) return std::nullopt;
  return std::chrono::ceil<std::chrono::seconds>(until - now);
}

bool LoginThrottle::Count(Counter& c, int limit, Time now) const {
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

bool LoginThrottle::Stale(const Counter& c, Time now) const {
  return c.locked_until <= now && (c.failures == 0 || now - c.first >= options_.window);
}

bool LoginThrottle::Failure(const std::string& account, const std::string& address) {
  const Time now = clock_.Now();
  MutexLock lock(mu_);
  for (auto* map : {&accounts_, &addresses_}) {
    if (map->size() < kMaxEntries) continue;
    std::erase_if(*map, [&](const auto& entry) { return Stale(entry.second, now); });
  }
  const bool by_account = Count(accounts_[account], options_.max_account_failures, now);
  const bool by_address = Count(addresses_[address], options_.max_address_failures, now);
  return by_account || by_address;
}

bool LoginThrottle::Success(const std::string& account) {
  MutexLock lock(mu_);
  return accounts_.erase(account) > 0;
}

std::string LoginThrottle::Export() {
  const Time now = clock_.Now();
  MutexLock lock(mu_);
  nlohmann::json out = {{"accounts", nlohmann::json::object()},
                        {"addresses", nlohmann::json::object()}};
  for (const auto& [key, map] : {std::pair{"accounts", &accounts_}, {"addresses", &addresses_}}) {
    for (const auto& [name, c] : *map) {
      if (Stale(c, now)) continue;
      out[key][name] = {c.failures, Millis(c.first), Millis(c.locked_until)};
    }
  }
  return out.dump();
}

Status LoginThrottle::Import(std::string_view text) {
  const nlohmann::json in = nlohmann::json::parse(text, nullptr, false);
  const Time now = clock_.Now();
  MutexLock lock(mu_);
  for (const auto& [key, map] : {std::pair{"accounts", &accounts_}, {"addresses", &addresses_}}) {
    if (!in.is_object() || !in.contains(key) || !in[key].is_object()) {
      return DataLossError("the saved sign-in throttle is not readable");
    }
    for (const auto& [name, v] : in[key].items()) {
      if (!v.is_array() || v.size() != 3 || !v[0].is_number_integer() ||
          !v[1].is_number_integer() || !v[2].is_number_integer()) {
        return DataLossError("the saved sign-in throttle is not readable");
      }
      const Counter c{v[0].get<int>(), FromMillis(v[1].get<int64_t>()),
                      FromMillis(v[2].get<int64_t>())};
      if (!Stale(c, now)) (*map)[name] = c;
    }
  }
  return OkStatus();
}

}  // namespace eds::webadmin
