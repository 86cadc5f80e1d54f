#include "update/version.h"

#include <cstdint>
#include <string>
#include <vector>

namespace eds::update {
namespace {

Result<std::vector<uint64_t>> Parts(std::string_view v) {
  std::vector<uint64_t> parts;
  uint64_t current = 0;
  size_t digits = 0;
  for (size_t i = 0; i <= v.size(); ++i) {
    if (i == v.size() || v[i] == '.') {
      if (digits == 0) return InvalidArgumentError("not a version: '" + std::string(v) + "'");
      parts.push_back(current);
      current = 0;
      digits = 0;
    } else if (v[i] >= '0' && v[i] <= '9' && digits < 18) {
      current = current * 10 + static_cast<uint64_t>(v[i] - '0');
      ++digits;
    } else {
      return InvalidArgumentError("not a version: '" + std::string(v) + "'");
    }
  }
  return parts;
}

}  // namespace

Result<int> CompareVersions(std::string_view a, std::string_view b) {
  auto pa = Parts(a);
  if (!pa.ok()) return pa.status();
  auto pb = Parts(b);
  if (!pb.ok()) return pb.status();
  const size_t n = std::max(pa->size(), pb->size());
  for (size_t i = 0; i < n; ++i) {
    const uint64_t x = i < pa->size() ? (*pa)[i] : 0;
    const uint64_t y = i < pb->size() ? (*pb)[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

}  // namespace eds::update
