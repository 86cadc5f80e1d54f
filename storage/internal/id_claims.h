// Global logical ids held by writes between their owner look-up and their commit.
#pragma once

#include <condition_variable>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/mutex.h"

namespace eds::storage::internal {

class IdClaims;

// The ids one prepared write holds; released when it is destroyed (after its commit, or when
// the write is dropped).
class IdClaim {
 public:
  IdClaim() = default;
  ~IdClaim();
  IdClaim(IdClaim&& other) noexcept;
  IdClaim& operator=(IdClaim&& other) noexcept;
  IdClaim(const IdClaim&) = delete;
  IdClaim& operator=(const IdClaim&) = delete;

 private:
  friend class IdClaims;
  IdClaim(IdClaims* owner, std::vector<std::string> ids);
  void Release();
  IdClaims* owner_ = nullptr;
  std::vector<std::string> ids_;
};

// A write that files a global id looks up its owner entry to remove a version stored under
// another patient. Two writes of one id looking up at once would both miss the other's version
// and both keep theirs, so the second waits until the first is durable or dropped. All of a
// write's ids are taken at once (never one while waiting for another), so two writes cannot
// wait for each other.
class IdClaims {
 public:
  // Claims every id in `ids` (hashed logical ids; one may come twice), waiting while another
  // write holds any.
  IdClaim Claim(std::vector<std::string> ids);

 private:
  friend class IdClaim;
  void Release(const std::vector<std::string>& ids);
  Mutex mu_;
  std::condition_variable released_;
  std::unordered_set<std::string> held_ EDS_GUARDED_BY(mu_);
};

}  // namespace eds::storage::internal
