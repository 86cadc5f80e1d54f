// LoginThrottle: slows password guessing. Failed logins are counted per account name and per
// client address within a window; past the limit that name (or address) is locked out for
// `lockout`, whatever password comes next. A success clears the account's count. In memory;
// thread-safe; `clock` must outlive it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/mutex.h"

namespace eds::webadmin {

struct ThrottleOptions {
  int max_account_failures = 5;
  int max_address_failures = 20;
  std::chrono::seconds window{15 * 60};
  std::chrono::seconds lockout{15 * 60};
};

class LoginThrottle {
 public:
  LoginThrottle(Clock& clock, ThrottleOptions options) : clock_(clock), options_(options) {}

  // How long `account` or `address` stays locked out, or nullopt when a login may be tried.
  std::optional<std::chrono::seconds> LockedFor(const std::string& account,
                                                const std::string& address);
  // Counts a failure; returns true when it starts a lockout (of the account or the address).
  bool Failure(const std::string& account, const std::string& address);
  void Success(const std::string& account);

 private:
  struct Counter {
    int failures = 0;
    std::chrono::steady_clock::time_point first;
    std::chrono::steady_clock::time_point locked_until;
  };
  // Counts into `c`; true when this failure reaches `limit` and locks.
  bool Count(Counter& c, int limit, std::chrono::steady_clock::time_point now) const;

  Clock& clock_;
  const ThrottleOptions options_;
  Mutex mu_;
  std::map<std::string, Counter> accounts_ EDS_GUARDED_BY(mu_);
  std::map<std::string, Counter> addresses_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::webadmin
