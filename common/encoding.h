// Byte helpers: hex and base64 (RFC 4648, with padding), big-endian and LEB128 integers.
// Byte strings are std::string (they may hold any byte, including NUL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eds {

std::string HexEncode(std::string_view bytes);
// Lower- or upper-case hex; nullopt on odd length or a non-hex character.
std::optional<std::string> HexDecode(std::string_view hex);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; nullopt on any malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

void PutBigEndian64(std::string& out, uint64_t v);
void PutBigEndian32(std::string& out, uint32_t v);
// Reads 8 (or 4) bytes at `pos`; the caller checks the length first.
uint64_t GetBigEndian64(std::string_view in, size_t pos = 0);
uint32_t GetBigEndian32(std::string_view in, size_t pos = 0);

// Unsigned LEB128: 7 bits a byte, low first, high bit set on every byte but the last.
void PutVarint32(std::string& out, uint32_t v);
// Reads a varint at `*pos` and moves `*pos` past it; nullopt when it is cut short or longer than
// a uint32_t takes (5 bytes), and then `*pos` is unchanged.
std::optional<uint32_t> GetVarint32(std::string_view in, size_t* pos);

}  // namespace eds
