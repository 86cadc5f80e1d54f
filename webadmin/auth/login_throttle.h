// LoginThrottle: slows password guessing. Failed logins are counted per account name and per
// client address within a window; past the limit that name (or address) is locked out for
// `lockout`, whatever password comes next. A success clears the account's count. Times are wall
// clock so that the state can be exported and kept across restarts (the admin API saves it in
// the store with each failure): a restart does not lift a lockout. Thread-safe; `clock` must
// outlive it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/result.h"

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
  // Clears the account's count; returns whether it had one.
  bool Success(const std::string& account);

  // The counts and lockouts still in force, as JSON text.
  std::string Export();
  // Adds an export's entries (those already over are dropped). kDataLoss for text that is not an
  // export.
  Status Import(std::string_view text);

 private:
  using Time = std::chrono::system_clock::time_point;
  struct Counter {
    int failures = 0;
    Time first;
    Time locked_until;
  };
  // Counts into `c`; true when this failure reaches `limit` and locks.
  bool Count(Counter& c, int limit, Time now) const;
  bool Stale(const Counter& c, Time now) const;

  Clock& clock_;
  const ThrottleOptions options_;
  Mutex mu_;
  std::map<std::string, Counter> accounts_ EDS_GUARDED_BY(mu_);
  std::map<std::string, Counter> addresses_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::webadmin
