// RecordCodec: turns a record's plaintext into its stored envelope and back.
// Compress (zstd, with the store's current dictionary when one exists; raw when compression does
// not pay), then encrypt with XChaCha20-Poly1305 (IETF) under the patient's data key, with the
// envelope header and the record's RocksDB key as associated data. A tampered envelope, one moved
// under another key, or the wrong data key is kDataLoss, never garbage. Format:
// docs/formats/record.md. Thread-safe; dictionaries are added, never removed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/secret_key.h"

namespace eds::storage {

struct RecordCodecOptions {
  int compression_level = 3;                   // zstd level, 1..19
  size_t max_record_bytes = 64 * 1024 * 1024;  // larger plaintexts are refused
};

class RecordCodec {
 public:
  explicit RecordCodec(RecordCodecOptions options = {});
  ~RecordCodec();
  RecordCodec(const RecordCodec&) = delete;
  RecordCodec& operator=(const RecordCodec&) = delete;

  Result<std::string> Encode(std::string_view record_key, std::string_view plaintext,
                             KeyView data_key) const;
  // The envelope version Encode writes: 2 (the default), or 1 while an edsd that reads version 1
  // only may still open the store (docs/formats/record.md). Decode reads both.
  void set_write_version(uint8_t version);
  Result<std::string> Decode(std::string_view record_key, std::string_view envelope,
                             KeyView data_key) const;

  // Makes a trained dictionary available under `id` (> 0). With `make_current`, new records
  // use it. Old records name their dictionary, so every dictionary must stay loaded.
  Status AddDictionary(uint32_t id, std::string_view dictionary, bool make_current);
  uint32_t current_dictionary() const;

  // Trains a zstd dictionary of at most `capacity` bytes from sample plaintexts.
  static Result<std::string> TrainDictionary(const std::vector<std::string>& samples,
                                             size_t capacity = 64 * 1024);
  // Bytes `samples` take compressed at `level` with `dictionary` ("" for none): how a new
  // dictionary is judged against the current one before records use it.
  static size_t CompressedBytes(const std::vector<std::string>& samples,
                                std::string_view dictionary, int level);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eds::storage
