// Release versions of installable items: dot-separated non-negative integers ("2.10.1").
// Compared numerically part by part; missing parts count as 0 ("2.1" == "2.1.0").
#pragma once

#include <string_view>

#include "common/result.h"

namespace eds::update {

// kInvalidArgument unless both are versions; otherwise <0, 0 or >0 like strcmp.
Result<int> CompareVersions(std::string_view a, std::string_view b);

}  // namespace eds::update
