#include "storage/internal/key_cache.h"

#include <sodium.h>

#include <cstring>

#include "common/status_macros.h"

namespace eds::storage::internal {

KeyCache::KeyCache(size_t capacity)
    : capacity_(capacity), owner_(capacity), used_(capacity, false) {
  EDS_CHECK(capacity > 0, "key cache needs a capacity");
  EDS_CHECK(sodium_init() >= 0, "libsodium failed to initialise");
  block_ = static_cast<uint8_t*>(sodium_malloc(capacity * SecretKey::kSize));
  EDS_CHECK(block_ != nullptr, "sodium_malloc failed for the key cache");
}

KeyCache::~KeyCache() { sodium_free(block_); }

bool KeyCache::Get(uint64_t id, KeyBytes* out) const {
  auto it = index_.find(id);
  if (it == index_.end()) return false;
  std::memcpy(out->data(), block_ + it->second * SecretKey::kSize, SecretKey::kSize);
  return true;
}

void KeyCache::Put(uint64_t id, KeyView key) {
  size_t slot = 0;
  if (auto it = index_.find(id); it != index_.end()) {
    slot = it->second;
  } else {
    slot = hand_;
    hand_ = (hand_ + 1) % capacity_;
    if (used_[slot]) index_.erase(owner_[slot]);
    owner_[slot] = id;
    used_[slot] = true;
    index_[id] = slot;
  }
  std::memcpy(block_ + slot * SecretKey::kSize, key.data(), SecretKey::kSize);
}

void KeyCache::Erase(uint64_t id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  sodium_memzero(block_ + it->second * SecretKey::kSize, SecretKey::kSize);
  used_[it->second] = false;
  index_.erase(it);
}

}  // namespace eds::storage::internal
