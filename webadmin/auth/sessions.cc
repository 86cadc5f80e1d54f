#include "webadmin/auth/sessions.h"

#include <sodium.h>

#include "common/encoding.h"

namespace eds::webadmin {

std::string RandomToken() {
  std::string bytes(32, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  return HexEncode(bytes);
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

Session SessionTable::Create(const std::string& user, Role role) {
  Session s;
  s.id = RandomToken();
  s.csrf = RandomToken();
  s.user = user;
  s.role = role;
  s.created = s.last_seen = clock_.Monotonic();
  MutexLock lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = Expired(it->second, s.created) ? sessions_.erase(it) : std::next(it);
  }
  if (sessions_.size() >= options_.max_sessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.created < oldest->second.created) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> SessionTable::Touch(std::string_view id) {
  const auto now = clock_.Monotonic();
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return it->second;
}

void SessionTable::Remove(std::string_view id) {
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it != sessions_.end()) sessions_.erase(it);
}

void SessionTable::RemoveUser(std::string_view user) {
  MutexLock lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.user == user ? sessions_.erase(it) : std::next(it);
  }
}

size_t SessionTable::size() const {
  MutexLock lock(mu_);
  return sessions_.size();
}

bool SessionTable::Expired(const Session& s, std::chrono::steady_clock::time_point now) const {
  return now - s.last_seen >= options_.idle || now - s.created >= options_.absolute;
}

}  // namespace eds::webadmin
