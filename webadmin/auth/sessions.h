// SessionTable: signed-in browsers. A session id is 256 random bits (hex), made anew at each
// login; each session carries its own CSRF token, which state-changing requests echo in the
// X-CSRF-Token header. A session ends after `idle` without requests or `absolute` after login,
// whichever comes first. In memory only: a restart signs everyone out. Thread-safe; `clock` must
// outlive the table.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/mutex.h"
#include "webadmin/auth/accounts.h"

namespace eds::webadmin {

struct SessionOptions {
  std::chrono::seconds idle{30 * 60};           // default 30 min
  std::chrono::seconds absolute{12 * 60 * 60};  // default 12 h
  size_t max_sessions = 1000;                   // the oldest goes when a login would exceed it
};

struct Session {
  std::string id;    // 64 hex characters
  std::string csrf;  // 64 hex characters
  std::string user;
  Role role = Role::kViewer;
  std::chrono::steady_clock::time_point created;
  std::chrono::steady_clock::time_point last_seen;
};

class SessionTable {
 public:
  SessionTable(Clock& clock, SessionOptions options) : clock_(clock), options_(options) {}

  Session Create(const std::string& user, Role role);
  // The live session `id` (its idle timer restarted), or nullopt when unknown or expired.
  std::optional<Session> Touch(std::string_view id);
  void Remove(std::string_view id);
  // Ends every session of `user` (role or password changed, account removed).
  void RemoveUser(std::string_view user);
  size_t size() const;

 private:
  bool Expired(const Session& s, std::chrono::steady_clock::time_point now) const;

  Clock& clock_;
  const SessionOptions options_;
  mutable Mutex mu_;
  std::map<std::string, Session, std::less<>> sessions_ EDS_GUARDED_BY(mu_);
};

// 32 random bytes in hex.
std::string RandomToken();
// Compares two secrets in time independent of where they differ.
bool SecretsEqual(std::string_view a, std::string_view b);

}  // namespace eds::webadmin
