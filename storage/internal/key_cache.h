// KeyCache: a bounded cache of 32-byte data keys, all held in one locked allocation
// (sodium_malloc: mlock, guard pages, excluded from core dumps), so caching thousands of keys
// costs one mapping, not four per key. Slots are reused round-robin once full. Not thread-safe:
// the store calls it under its key mutex.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "storage/secret_key.h"

namespace eds::storage::internal {

class KeyCache {
 public:
  explicit KeyCache(size_t capacity);
  ~KeyCache();
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // Copies the key of `id` into `out`; false when not cached.
  bool Get(uint64_t id, KeyBytes* out) const;
  void Put(uint64_t id, KeyView key);
  void Erase(uint64_t id);
  size_t size() const { return index_.size(); }

 private:
  size_t capacity_;
  uint8_t* block_;                              // capacity_ * 32 bytes, locked
  std::unordered_map<uint64_t, size_t> index_;  // id -> slot
  std::vector<uint64_t> owner_;                 // slot -> id
  std::vector<bool> used_;
  size_t hand_ = 0;  // next slot to reuse
};

}  // namespace eds::storage::internal
