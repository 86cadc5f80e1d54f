#include "aggregate/noise.h"

#include <algorithm>

namespace eds::aggregate {

int64_t CellKeyNoise(uint64_t count, uint32_t key) {
  // A fixed perturbation table: P(-2)=.05, P(-1)=.20, P(0)=.50, P(+1)=.20, P(+2)=.05, read at
  // the position the cell key (mixed with the count, so cells of equal key and other counts do
  // not move together) takes in [0, 1).
  uint64_t x = (static_cast<uint64_t>(key) << 32) ^ count;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  const double u = static_cast<double>(x >> 11) / static_cast<double>(1ULL << 53);
  if (u < 0.05) return -2;
  if (u < 0.25) return -1;
  if (u < 0.75) return 0;
  if (u < 0.95) return 1;
  return 2;
}

uint64_t ShownCount(uint64_t count, uint32_t key, uint64_t k, const NoiseOptions& noise) {
  if (count == 0) return 0;
  int64_t shown = static_cast<int64_t>(count);
  if (noise.cell_key) shown += CellKeyNoise(count, key);
  if (noise.rounding_base > 1) {
    const int64_t b = static_cast<int64_t>(noise.rounding_base);
    shown = (shown + b / 2) / b * b;
  }
  // Never shown below k: a small shown count would say the cell is small.
  return static_cast<uint64_t>(std::max<int64_t>(shown, static_cast<int64_t>(k)));
}

uint64_t Tolerance(const NoiseOptions& noise) {
  uint64_t t = 0;
  if (noise.cell_key) t += kMaxCellKeyNoise;
  if (noise.rounding_base > 1) t += noise.rounding_base / 2;
  return t;
}

}  // namespace eds::aggregate
