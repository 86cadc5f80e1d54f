// Column families and key layouts of the store (docs/formats/record.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/encoding.h"

namespace eds::storage::internal {

enum class Cf : int {
  kDefault = 0,
  kRecords = 1,
  kKeys = 2,
  kAudit = 3,
  kMeta = 4,
  kAliases = 5,
  kFacts = 6,
  kOwners = 7,
  kFactBuckets = 8,
  kOutbox = 9,
};
inline constexpr std::array<const char*, 10> kCfNames = {
    "default", "records", "keys",   "audit",        "meta",
    "aliases", "facts",   "owners", "fact_buckets", "outbox"};

// keys CF
inline constexpr std::string_view kMasterKeyIdKey = "m";
inline constexpr std::string_view kIndexSecretKey = "s/index";
inline constexpr std::string_view kAuditSecretKey = "s/audit";
inline constexpr std::string_view kDictSecretKey = "s/dict";
inline constexpr std::string_view kAliasSecretKey = "s/alias";
// Named secrets that other modules ask for (Store::Secret): "s/n/" + name.
inline std::string NamedSecretKey(std::string_view name) { return "s/n/" + std::string(name); }
// aliases CF: keyed hash of the alias (16) -> pseudonym sealed under the alias key.
inline std::string AliasContext(std::string_view hashed_alias) {
  return "eds alias v1:" + std::string(hashed_alias);
}
inline std::string DataKeyKey(uint64_t patient_no) {
  std::string k = "p";
  PutBigEndian64(k, patient_no);
  return k;
}
inline std::string PatientIndexKey(std::string_view hashed_pseudonym) {
  std::string k;
  k.reserve(1 + hashed_pseudonym.size());
  k.push_back('h');
  k.append(hashed_pseudonym);
  return k;
}
inline std::string DataKeyContext(uint64_t patient_no) {
  std::string c = "eds data key v1:";
  PutBigEndian64(c, patient_no);
  return c;
}
inline std::string SecretContext(std::string_view name) {
  return "eds store secret v1:" + std::string(name);
}

// records CF: patient number (8, big-endian) || keyed hash of the logical id (16)
inline constexpr size_t kRecordKeySize = 24;
inline std::string RecordKey(uint64_t patient_no, std::string_view hashed_logical_id) {
  std::string k;
  PutBigEndian64(k, patient_no);
  k += hashed_logical_id;
  return k;
}

// records CF, format 3: a record block holds several records of one patient, sealed together
// (they compress several times better than alone). Its key is the patient number (8) || a
// random block id (8): 16 bytes, so it never meets a record key. Each record in it keeps its
// own record key, whose value is then a reference: kRecordRefTag || block id (8) || slot (1).
// The tag is no envelope version, so a reference is never taken for an envelope.
inline constexpr size_t kBlockKeySize = 16;
inline constexpr size_t kBlockIdSize = 8;
inline constexpr uint8_t kRecordRefTag = 0x80;
inline constexpr size_t kRecordRefSize = 1 + kBlockIdSize + 1;
inline std::string BlockKey(uint64_t patient_no, std::string_view block_id) {
  std::string k;
  PutBigEndian64(k, patient_no);
  k += block_id;
  return k;
}
// A block is authenticated with a prefix so it can never pass for a record or facts value.
inline std::string BlockAssociatedData(std::string_view block_key) {
  return "b" + std::string(block_key);
}

// facts CF: the record key of the record the facts come from. Authenticated with a prefix so a
// facts value can never pass for a record value or the reverse.
inline std::string FactsAssociatedData(std::string_view record_key) {
  return "f" + std::string(record_key);
}
// owners CF: keyed hash of the logical id (16) -> patient number (8, big-endian). Says no more
// than the record key itself.

// fact_buckets CF: BLAKE2b-64(index key, "bucket:" || bucket) (8) || patient number (8) -> "".
// Written by earlier versions, before the aggregate engine kept its facts in memory; no longer
// written, still opened (RocksDB opens every family), and a patient's entries go with it.
inline constexpr size_t kBucketHashSize = 8;

// audit CF: sequence number (8, big-endian)
inline std::string AuditKey(uint64_t seq) {
  std::string k;
  PutBigEndian64(k, seq);
  return k;
}

// outbox CF: sequence number (8, big-endian) -> entry sealed under the system data key, with
// the key as associated data (prefixed so an entry can never pass for a record).
inline std::string OutboxKey(uint64_t seq) {
  std::string k;
  PutBigEndian64(k, seq);
  return k;
}
inline std::string OutboxAssociatedData(std::string_view key) { return "o" + std::string(key); }

// meta CF
inline constexpr std::string_view kFormatKey = "format";
// The store layout's format: 1 holds version-1 record envelopes only, 2 may also hold version 2,
// 3 may also hold record blocks (docs/formats/record.md). A store of a newer format is refused
// rather than misread.
inline constexpr int kStoreFormat = 3;
inline constexpr std::string_view kAuditHeadKey = "audit/head";  // seq (8) || hash (32)
inline constexpr std::string_view kDictCurrentKey = "dict/current";
inline std::string DictKey(uint32_t id) {
  std::string k = "dict/";
  PutBigEndian32(k, id);
  return k;
}
inline constexpr std::string_view kBackupPrefix = "backup/";
// "gc/" || block key (16): a block that lost a record to a newer version, for the collector.
inline constexpr std::string_view kGcPrefix = "gc/";
// The highest outbox sequence ever used (8, big-endian): sequences are never reused, even after
// their entries leave the outbox.
inline constexpr std::string_view kOutboxLastKey = "outbox/last";

}  // namespace eds::storage::internal
