#include "cli/ndjson_file.h"

#include <sodium.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/encoding.h"

namespace eds::cli {
namespace {

constexpr size_t kInputBufferBytes = 256 * 1024;
constexpr size_t kSourceHeadBytes = 1 << 20;

Status OpenError(const std::string& path, int err) {
  const std::string message = "cannot read " + path + ": " + std::strerror(err);
  if (err == ENOENT) return NotFoundError(message);
  if (err == EACCES || err == EPERM) return PermissionDeniedError(message);
  return UnavailableError(message);
}

}  // namespace

struct NdjsonFile::Decoder {
  z_stream gz{};
  bool gz_ready = false;
  ZSTD_DCtx* zstd = nullptr;
  size_t zstd_last = 1;  // last ZSTD_decompressStream result: 0 once a frame is complete
  bool done = false;

  ~Decoder() {
    if (gz_ready) inflateEnd(&gz);
    if (zstd != nullptr) ZSTD_freeDCtx(zstd);
  }
};

Result<std::unique_ptr<NdjsonFile>> NdjsonFile::Open(const std::string& path) {
  std::unique_ptr<NdjsonFile> f(new NdjsonFile());
  f->path_ = path;
  f->file_ = std::fopen(path.c_str(), "rb");
  if (f->file_ == nullptr) return OpenError(path, errno);
  struct stat st {};
  if (::fstat(::fileno(f->file_), &st) != 0) return OpenError(path, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(path + " is not a regular file");
  f->size_ = static_cast<uint64_t>(st.st_size);
  f->in_.resize(kInputBufferBytes);
  f->decoder_ = std::make_unique<Decoder>();
  // The magic bytes: read until 4 are there or the file ends.
  while (f->in_end_ < 4 && !f->eof_) {
    Status s = f->Fill();
    if (!s.ok()) return s;
  }
  const auto* head = reinterpret_cast<const unsigned char*>(f->in_.data());
  if (f->in_end_ >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
    f->compression_ = Compression::kGzip;
    if (inflateInit2(&f->decoder_->gz, 15 + 16) != Z_OK)
      return InternalError("zlib: out of memory");
    f->decoder_->gz_ready = true;
  } else if (f->in_end_ >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f &&
             head[3] == 0xfd) {
    f->compression_ = Compression::kZstd;
    f->decoder_->zstd = ZSTD_createDCtx();
    if (f->decoder_->zstd == nullptr) return InternalError("zstd: out of memory");
    ZSTD_DCtx_setParameter(f->decoder_->zstd, ZSTD_d_windowLogMax, 31);
  }
  return f;
}

NdjsonFile::~NdjsonFile() {
  if (file_ != nullptr) std::fclose(file_);
}

Status NdjsonFile::Fill() {
  if (in_pos_ == in_end_) in_pos_ = in_end_ = 0;
  if (eof_ || in_end_ == in_.size()) return OkStatus();
  const size_t n = std::fread(in_.data() + in_end_, 1, in_.size() - in_end_, file_);
  in_end_ += n;
  bytes_read_ += n;
  if (n == 0 || in_end_ < in_.size()) {
    if (std::ferror(file_)) return UnavailableError("cannot read " + path_ + ": read error");
    if (std::feof(file_)) eof_ = true;
  }
  return OkStatus();
}

Result<size_t> NdjsonFile::Read(char* out, size_t capacity) {
  Decoder& d = *decoder_;
  if (d.done || capacity == 0) return size_t{0};
  for (;;) {
    if (in_pos_ == in_end_ && !eof_) {
      Status s = Fill();
      if (!s.ok()) return s;
    }
    const bool no_input = in_pos_ == in_end_;  // and the file is at its end
    switch (compression_) {
      case Compression::kNone: {
        if (no_input) {
          d.done = true;
          return size_t{0};
        }
        const size_t n = std::min(capacity, in_end_ - in_pos_);
        std::memcpy(out, in_.data() + in_pos_, n);
        in_pos_ += n;
        return n;
      }
      case Compression::kGzip: {
        z_stream& z = d.gz;
        z.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
        z.avail_in = static_cast<uInt>(in_end_ - in_pos_);
        z.next_out = reinterpret_cast<Bytef*>(out);
        z.avail_out = static_cast<uInt>(std::min<size_t>(capacity, 1u << 30));
        const uInt out_before = z.avail_out;
        const int ret = inflate(&z, Z_NO_FLUSH);
        in_pos_ = in_end_ - z.avail_in;
        const size_t produced = out_before - z.avail_out;
        if (ret == Z_STREAM_END) {
          // One gzip member ended; another may follow (concatenated members are one stream).
          if (in_pos_ == in_end_ && !eof_) {
            Status s = Fill();
            if (!s.ok()) return s;
          }
          if (in_pos_ == in_end_) {
            d.done = true;
          } else {
            inflateReset(&z);
          }
        } else if (ret == Z_BUF_ERROR || (ret == Z_OK && produced == 0)) {
          if (no_input) return DataLossError(path_ + ": truncated gzip data");
        } else if (ret != Z_OK) {
          return DataLossError(path_ + ": corrupt gzip data" +
                               (z.msg != nullptr ? std::string(" (") + z.msg + ")" : ""));
        }
        if (produced > 0) return produced;
        if (d.done) return size_t{0};
        break;
      }
      case Compression::kZstd: {
        if (no_input && d.zstd_last == 0) {
          d.done = true;
          return size_t{0};
        }
        ZSTD_inBuffer in{in_.data() + in_pos_, in_end_ - in_pos_, 0};
        ZSTD_outBuffer o{out, capacity, 0};
        const size_t ret = ZSTD_decompressStream(d.zstd, &o, &in);
        if (ZSTD_isError(ret)) {
          return DataLossError(path_ + ": corrupt zstd data (" + ZSTD_getErrorName(ret) + ")");
        }
        in_pos_ += in.pos;
        d.zstd_last = ret;
        if (o.pos > 0) return o.pos;
        if (no_input) return DataLossError(path_ + ": truncated zstd data");
        break;
      }
    }
  }
}

Result<std::string> ImportSourceId(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return OpenError(path, errno);
  struct stat st {};
  if (::fstat(::fileno(f), &st) != 0) {
    const int err = errno;
    std::fclose(f);
    return OpenError(path, err);
  }
  std::string head(kSourceHeadBytes, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), f));
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return UnavailableError("cannot read " + path + ": read error");
  const std::string input = std::to_string(st.st_size) + "\n" + head;
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(hash), sizeof hash));
}

}  // namespace eds::cli
