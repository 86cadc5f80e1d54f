// NdjsonFile: reads an NDJSON file as its decompressed bytes, block by block. The compression is
// told by the file's first bytes, not its name: gzip (1f 8b; concatenated members are one
// stream), zstd (28 b5 2f fd; concatenated frames too; windows up to 2 GiB, so files made with
// `zstd --long` read), else plain. Not thread-safe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "common/result.h"

namespace eds::cli {

enum class Compression { kNone, kGzip, kZstd };

class NdjsonFile {
 public:
  // kNotFound/kPermissionDenied/kUnavailable when the file cannot be opened or read.
  static Result<std::unique_ptr<NdjsonFile>> Open(const std::string& path);
  ~NdjsonFile();
  NdjsonFile(const NdjsonFile&) = delete;
  NdjsonFile& operator=(const NdjsonFile&) = delete;

  // Up to `capacity` decompressed bytes into `out`; 0 at the end of the file. kDataLoss for
  // corrupt or truncated compressed data, kUnavailable for a read error.
  Result<size_t> Read(char* out, size_t capacity);

  Compression compression() const { return compression_; }
  uint64_t size() const { return size_; }  // on disk
  // Bytes of the file decoded so far (read ahead and not decoded yet: not counted).
  uint64_t bytes_consumed() const { return bytes_read_ - (in_end_ - in_pos_); }
  const std::string& path() const { return path_; }

  struct Decoder;

 private:
  NdjsonFile() = default;
  Status Fill();  // more of the file into the input buffer, once it is used up

  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
  uint64_t bytes_read_ = 0;
  bool eof_ = false;
  Compression compression_ = Compression::kNone;
  std::string in_;     // input buffer
  size_t in_pos_ = 0;  // first unused byte of in_
  size_t in_end_ = 0;  // end of the valid bytes of in_
  std::unique_ptr<Decoder> decoder_;
};

// The source id of a file for the daemon's import progress: hex of BLAKE2b-128 over its size
// (decimal), "\n" and its first 1 MiB as stored (compressed or not).
Result<std::string> ImportSourceId(const std::string& path);

}  // namespace eds::cli
