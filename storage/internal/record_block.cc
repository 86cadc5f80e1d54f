#include "storage/internal/record_block.h"

#include "common/encoding.h"
#include "storage/internal/column_families.h"

namespace eds::storage::internal {

namespace {
constexpr size_t kHashedIdSize = kRecordKeySize - 8;
}  // namespace

std::string EncodeBlockBody(const std::vector<BlockSlot>& slots) {
  size_t bytes = 5 + slots.size() * (kHashedIdSize + 5);
  for (const auto& s : slots) bytes += s.payload.size();
  std::string body;
  body.reserve(bytes);
  PutVarint32(body, static_cast<uint32_t>(slots.size()));
  for (const auto& s : slots) body += s.hashed_id;
  for (const auto& s : slots) PutVarint32(body, static_cast<uint32_t>(s.payload.size()));
  for (const auto& s : slots) body += s.payload;
  return body;
}

Result<std::vector<BlockSlot>> ParseBlockBody(std::string_view body) {
  size_t pos = 0;
  const auto count = GetVarint32(body, &pos);
  if (!count || *count == 0 || *count > kBlockMaxRecords ||
      body.size() - pos < size_t{*count} * kHashedIdSize) {
    return DataLossError("record block: bad slot count");
  }
  std::vector<BlockSlot> slots(*count);
  for (auto& s : slots) {
    s.hashed_id = body.substr(pos, kHashedIdSize);
    pos += kHashedIdSize;
  }
  std::vector<uint32_t> sizes(*count);
  for (auto& size : sizes) {
    const auto v = GetVarint32(body, &pos);
    if (!v) return DataLossError("record block: bad slot size");
    size = *v;
  }
  for (size_t i = 0; i < slots.size(); ++i) {
    if (body.size() - pos < sizes[i]) return DataLossError("record block: slot past its end");
    slots[i].payload = body.substr(pos, sizes[i]);
    pos += sizes[i];
  }
  if (pos != body.size()) return DataLossError("record block: bytes after the last slot");
  return slots;
}

std::string EncodeRecordRef(std::string_view block_id, uint8_t slot) {
  std::string ref;
  ref.reserve(kRecordRefSize);
  ref.push_back(static_cast<char>(kRecordRefTag));
  ref += block_id;
  ref.push_back(static_cast<char>(slot));
  return ref;
}

Result<std::optional<RecordRef>> ParseRecordRef(std::string_view value) {
  if (value.empty() || static_cast<uint8_t>(value[0]) != kRecordRefTag) {
    return std::optional<RecordRef>();
  }
  if (value.size() != kRecordRefSize) return DataLossError("record reference of a wrong size");
  RecordRef ref;
  ref.block_id = std::string(value.substr(1, kBlockIdSize));
  ref.slot = static_cast<uint8_t>(value[1 + kBlockIdSize]);
  if (ref.slot >= kBlockMaxRecords) return DataLossError("record reference past a block's end");
  return std::optional<RecordRef>(std::move(ref));
}

}  // namespace eds::storage::internal
