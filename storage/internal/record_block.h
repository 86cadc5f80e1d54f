// Record blocks (store format 3): several records of one patient sealed in one envelope, and the
// references their record keys hold instead of an envelope. Layout: docs/formats/record.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace eds::storage::internal {

// Records compressed together shrink with their number (Synthea, bytes per record: 160 alone,
// 98 by 8, 80 by 32; a million imported resources took 252 MB on disk in blocks of up to 32, 244
// in blocks of up to 64). A read opens the whole block, so it stays small.
inline constexpr size_t kBlockMaxRecords = 64;
inline constexpr size_t kBlockMaxBytes = 256 * 1024;
// Bigger records go into envelopes of their own: they compress well alone.
inline constexpr size_t kBlockMaxRecordBytes = 64 * 1024;

struct BlockSlot {
  std::string_view hashed_id;  // the record key's second part
  std::string_view payload;
};

// The plaintext of a block: count (LEB128), the slots' hashed ids (16 bytes each), their sizes
// (LEB128 each), then the payloads one after the other.
std::string EncodeBlockBody(const std::vector<BlockSlot>& slots);
// The slots of a block's plaintext, viewing into `body`; kDataLoss when it is malformed.
Result<std::vector<BlockSlot>> ParseBlockBody(std::string_view body);

struct RecordRef {
  std::string block_id;  // kBlockIdSize bytes
  uint8_t slot = 0;
};
std::string EncodeRecordRef(std::string_view block_id, uint8_t slot);
// nullopt when `value` is not a reference (an envelope); kDataLoss when it is a broken one.
Result<std::optional<RecordRef>> ParseRecordRef(std::string_view value);

}  // namespace eds::storage::internal
