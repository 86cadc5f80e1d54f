// UTF-8 validation shared by the parsers: RFC 3629 rules (no overlong forms, no surrogates, no
// code point above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace eds {

// Length of the valid UTF-8 sequence starting at s[i] (1 for ASCII), or 0 when it is invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i);

}  // namespace eds
