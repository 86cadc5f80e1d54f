// Constants of the record envelope; the format is documented in docs/formats/record.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace eds::storage::internal {

// Version 2 is written; version 1 (a 30-byte header) stays readable.
inline constexpr uint8_t kRecordFormatV1 = 1;
inline constexpr uint8_t kRecordFormatVersion = 2;

enum class RecordCompression : uint8_t {
  kNone = 0,            // stored raw: compression did not pay
  kZstd = 1,            // zstd frame, no dictionary
  kZstdDictionary = 2,  // zstd frame made with the dictionary named in the header
};

// Version 2: version(1) | compression(1) | dictionary id (LEB128, 1..5) | nonce (16).
// Its zstd frames carry neither the zstd magic number nor the dictionary id (the header names
// it). The XChaCha20 nonce is the 16 stored random bytes followed by 8 zero bytes.
inline constexpr size_t kRecordNonceSize = 16;
// Version 1: version(1) | compression(1) | dictionary id (4, big-endian) | nonce (24).
inline constexpr size_t kRecordNonceSizeV1 = 24;
inline constexpr size_t kXChaChaNonceSize = 24;
inline constexpr size_t kRecordTagSize = 16;

struct RecordHeader {
  uint8_t version = 0;
  RecordCompression compression = RecordCompression::kNone;
  uint32_t dictionary_id = 0;
  size_t nonce_offset = 0;  // the bytes before it are authenticated with the record key
  size_t nonce_size = 0;
  size_t size = 0;  // where the ciphertext starts
};

// The header of `envelope`; kDataLoss naming an unknown version or a header cut short. The
// compression kind is not checked here.
Result<RecordHeader> ParseRecordHeader(std::string_view envelope);
// Appends the header of an envelope of `version`, with a fresh random nonce, to `out`.
RecordHeader AppendRecordHeader(uint8_t version, RecordCompression compression,
                                uint32_t dictionary_id, std::string& out);

}  // namespace eds::storage::internal
