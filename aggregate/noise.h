// Optional noise on released counts, off by default, applied after suppression:
// - rounding to a base (never below k);
// - consistent cell-key perturbation (the ABS cell-key method): every patient (or event) has a
//   fixed random key; a cell's key is the sum of its contributors' keys, so the same cell always
//   gets the same noise and repeated releases cannot average it away.
// A shown count is then within Tolerance() of the true one; the disclosure audit knows it.
#pragma once

#include <cstdint>

namespace eds::aggregate {

struct NoiseOptions {
  uint64_t rounding_base = 0;  // 0: off
  bool cell_key = false;
  bool operator==(const NoiseOptions&) const = default;
};

inline constexpr int64_t kMaxCellKeyNoise = 2;

// The noise of a cell of `count` with cell key `key`: -2..+2, zero-centred, the same for the
// same (count, key).
int64_t CellKeyNoise(uint64_t count, uint32_t key);
// The count shown for a released cell of true value `count` (at least k, or 0 for 0).
uint64_t ShownCount(uint64_t count, uint32_t key, uint64_t k, const NoiseOptions& noise);
// The largest difference between a shown count and the true one.
uint64_t Tolerance(const NoiseOptions& noise);

}  // namespace eds::aggregate
