// Constants of the record envelope; the format is documented in docs/formats/record.md.
#pragma once

#include <cstddef>
#include <cstdint>

namespace eds::storage::internal {

inline constexpr uint8_t kRecordFormatVersion = 1;

enum class RecordCompression : uint8_t {
  kNone = 0,            // stored raw: compression did not pay
  kZstd = 1,            // zstd frame, no dictionary
  kZstdDictionary = 2,  // zstd frame made with the dictionary named in the header
};

// version(1) | compression(1) | dictionary id (4, big-endian) | nonce (24)
inline constexpr size_t kRecordHeaderAuthenticated = 6;
inline constexpr size_t kRecordNonceSize = 24;
inline constexpr size_t kRecordHeaderSize = kRecordHeaderAuthenticated + kRecordNonceSize;
inline constexpr size_t kRecordTagSize = 16;

}  // namespace eds::storage::internal
