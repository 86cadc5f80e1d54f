#include "storage/record_codec.h"

#include <sodium.h>
#define ZDICT_STATIC_LINKING_ONLY  // ZDICT_trainFromBuffer_fastCover and its parameters
#include <zdict.h>
#define ZSTD_STATIC_LINKING_ONLY  // magicless frames and frame parameters
#include <zstd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/internal/record_format.h"

namespace eds::storage {

using internal::kRecordNonceSize;
using internal::kRecordTagSize;
using internal::kXChaChaNonceSize;
using internal::RecordCompression;
using internal::RecordHeader;

namespace {

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// zstd contexts are expensive to create and not thread-safe: one of each per thread and envelope
// version. Version 2 frames are magicless and name no dictionary (the envelope header does).
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx = [] {
    std::unique_ptr<ZSTD_CCtx, CCtxDeleter> c(ZSTD_createCCtx());
    EDS_CHECK(c != nullptr, "zstd compression context");
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_dictIDFlag, 0);
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_contentSizeFlag, 1);
    // Record blocks are tens of KiB: above zstd's cut-off (8 KiB at the default level) it would
    // copy the dictionary's tables into the context for each one instead of using them in place.
    ZSTD_CCtx_setParameter(c.get(), ZSTD_c_forceAttachDict, ZSTD_dictForceAttach);
    return c;
  }();
  return ctx.get();
}
ZSTD_CCtx* ThreadCCtxV1() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
// Version 1 frames, with the magic number and the dictionary id.
ZSTD_DCtx* ThreadDCtxV1() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx = [] {
    std::unique_ptr<ZSTD_DCtx, DCtxDeleter> d(ZSTD_createDCtx());
    EDS_CHECK(d != nullptr, "zstd decompression context");
    ZSTD_DCtx_setParameter(d.get(), ZSTD_d_format, ZSTD_f_zstd1_magicless);
    return d;
  }();
  return ctx.get();
}

// Nonces come from the system's random generator in blocks: one getrandom call per envelope
// costs more than the rest of sealing a small record.
void RandomNonce(char* out, size_t size) {
  thread_local std::array<char, 64 * kXChaChaNonceSize> block;
  thread_local size_t used = block.size();
  if (used + size > block.size()) {
    randombytes_buf(block.data(), block.size());
    used = 0;
  }
  // Nonces are public (they are stored in the header); they only must never repeat.
  std::memcpy(out, block.data() + used, size);
  used += size;
}

// Below this, zstd does not pay for its cost (most facts values; they stay uncompressed).
constexpr size_t kMinCompressBytes = 64;

std::string AssociatedData(std::string_view envelope, const RecordHeader& header,
                           std::string_view record_key) {
  std::string ad(envelope.substr(0, header.nonce_offset));
  ad += record_key;
  return ad;
}

// The XChaCha20 nonce of an envelope: version 1 stores all 24 bytes; version 2 stores 16 random
// ones (a repeat under one data key is a 2^-128 event per pair) and pads them with zeros.
std::array<unsigned char, kXChaChaNonceSize> NonceOf(std::string_view envelope,
                                                     const RecordHeader& header) {
  std::array<unsigned char, kXChaChaNonceSize> nonce{};
  std::memcpy(nonce.data(), envelope.data() + header.nonce_offset, header.nonce_size);
  return nonce;
}

Status AuthenticationFailed() {
  return DataLossError(
      "record failed authentication: tampered, moved under another key, or wrong data key");
}

}  // namespace

namespace internal {

Result<RecordHeader> ParseRecordHeader(std::string_view envelope) {
  const Status truncated = DataLossError("record envelope is truncated");
  if (envelope.size() < 2) return truncated;
  RecordHeader h;
  h.version = static_cast<uint8_t>(envelope[0]);
  h.compression = static_cast<RecordCompression>(envelope[1]);
  if (h.version == kRecordFormatV1) {
    if (envelope.size() < 6) return truncated;
    h.dictionary_id = GetBigEndian32(envelope, 2);
    h.nonce_offset = 6;
    h.nonce_size = kRecordNonceSizeV1;
  } else if (h.version == kRecordFormatVersion) {
    size_t pos = 2;
    const auto id = GetVarint32(envelope, &pos);
    if (!id) return truncated;
    h.dictionary_id = *id;
    h.nonce_offset = pos;
    h.nonce_size = kRecordNonceSize;
  } else {
    return DataLossError("record envelope has unknown version " + std::to_string(h.version));
  }
  h.size = h.nonce_offset + h.nonce_size;
  if (envelope.size() < h.size) return truncated;
  return h;
}

RecordHeader AppendRecordHeader(uint8_t version, RecordCompression compression,
                                uint32_t dictionary_id, std::string& out) {
  RecordHeader h;
  h.version = version;
  h.compression = compression;
  h.dictionary_id = dictionary_id;
  const size_t start = out.size();
  out.push_back(static_cast<char>(version));
  out.push_back(static_cast<char>(compression));
  if (version == kRecordFormatV1) {
    PutBigEndian32(out, dictionary_id);
    h.nonce_size = kRecordNonceSizeV1;
  } else {
    PutVarint32(out, dictionary_id);
    h.nonce_size = kRecordNonceSize;
  }
  h.nonce_offset = out.size() - start;
  h.size = h.nonce_offset + h.nonce_size;
  out.resize(start + h.size);
  RandomNonce(out.data() + start + h.nonce_offset, h.nonce_size);
  return h;
}

}  // namespace internal

struct RecordCodec::Impl {
  struct Dictionary {
    ZSTD_CDict* cdict = nullptr;
    ZSTD_DDict* ddict = nullptr;
  };
  RecordCodecOptions options;
  std::atomic<uint8_t> write_version{internal::kRecordFormatVersion};
  mutable std::shared_mutex mu;
  std::map<uint32_t, Dictionary> dictionaries;  // guarded by mu
  uint32_t current = 0;                         // guarded by mu

  ~Impl() {
    for (auto& [id, d] : dictionaries) {
      ZSTD_freeCDict(d.cdict);
      ZSTD_freeDDict(d.ddict);
    }
  }
};

RecordCodec::RecordCodec(RecordCodecOptions options) : impl_(std::make_unique<Impl>()) {
  EDS_CHECK(sodium_init() >= 0, "libsodium failed to initialise");
  impl_->options = options;
}

RecordCodec::~RecordCodec() = default;

Status RecordCodec::AddDictionary(uint32_t id, std::string_view dictionary, bool make_current) {
  if (id == 0) return InvalidArgumentError("dictionary id 0 is reserved");
  Impl::Dictionary d;
  d.cdict =
      ZSTD_createCDict(dictionary.data(), dictionary.size(), impl_->options.compression_level);
  d.ddict = ZSTD_createDDict(dictionary.data(), dictionary.size());
  if (d.cdict == nullptr || d.ddict == nullptr) {
    ZSTD_freeCDict(d.cdict);
    ZSTD_freeDDict(d.ddict);
    return DataLossError("zstd dictionary " + std::to_string(id) + " is unusable");
  }
  std::unique_lock lock(impl_->mu);
  auto [it, inserted] = impl_->dictionaries.emplace(id, d);
  if (!inserted) {
    ZSTD_freeCDict(d.cdict);
    ZSTD_freeDDict(d.ddict);
  }
  if (make_current) impl_->current = id;
  return OkStatus();
}

void RecordCodec::set_write_version(uint8_t version) {
  EDS_CHECK(version == internal::kRecordFormatV1 || version == internal::kRecordFormatVersion,
            "unknown record envelope version");
  impl_->write_version = version;
}

uint32_t RecordCodec::current_dictionary() const {
  std::shared_lock lock(impl_->mu);
  return impl_->current;
}

Result<std::string> RecordCodec::Encode(std::string_view record_key, std::string_view plaintext,
                                        KeyView data_key) const {
  if (plaintext.size() > impl_->options.max_record_bytes) {
    return InvalidArgumentError("record of " + std::to_string(plaintext.size()) +
                                " bytes is over the limit");
  }
  const uint8_t version = impl_->write_version;
  const bool v1 = version == internal::kRecordFormatV1;
  std::string compressed;
  uint32_t dict_id = 0;
  size_t n = plaintext.size();
  if (plaintext.size() >= kMinCompressBytes) {
    compressed.resize(ZSTD_compressBound(plaintext.size()));
    ZSTD_CCtx* cctx = v1 ? ThreadCCtxV1() : ThreadCCtx();
    std::shared_lock lock(impl_->mu);
    dict_id = impl_->current;
    // A referenced dictionary brings its own level; without one, the codec's level applies.
    ZSTD_CCtx_refCDict(cctx, dict_id != 0 ? impl_->dictionaries.at(dict_id).cdict : nullptr);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, impl_->options.compression_level);
    n = ZSTD_compress2(cctx, compressed.data(), compressed.size(), plaintext.data(),
                       plaintext.size());
    ZSTD_CCtx_refCDict(cctx, nullptr);  // the dictionary may not outlive this codec
    if (ZSTD_isError(n)) return InternalError(std::string("zstd: ") + ZSTD_getErrorName(n));
  }

  RecordCompression kind = RecordCompression::kNone;
  std::string_view body = plaintext;
  if (n < plaintext.size()) {
    kind = dict_id != 0 ? RecordCompression::kZstdDictionary : RecordCompression::kZstd;
    body = std::string_view(compressed.data(), n);
  } else {
    dict_id = 0;  // compression did not pay
  }

  std::string out;
  out.reserve(2 + 4 + kXChaChaNonceSize + body.size() + kRecordTagSize);
  const RecordHeader header = internal::AppendRecordHeader(version, kind, dict_id, out);
  const std::string ad = AssociatedData(out, header, record_key);
  const auto nonce = NonceOf(out, header);
  out.resize(header.size + body.size() + kRecordTagSize);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(out.data() + header.size), &clen,
      reinterpret_cast<const unsigned char*>(body.data()), body.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce.data(),
      data_key.data());
  out.resize(header.size + clen);
  return out;
}

Result<std::string> RecordCodec::Decode(std::string_view record_key, std::string_view envelope,
                                        KeyView data_key) const {
  EDS_ASSIGN_OR_RETURN(const RecordHeader header, internal::ParseRecordHeader(envelope));
  if (envelope.size() < header.size + kRecordTagSize) {
    return DataLossError("record envelope is truncated");
  }
  const std::string ad = AssociatedData(envelope, header, record_key);
  const auto nonce = NonceOf(envelope, header);
  const std::string_view cipher = envelope.substr(header.size);
  std::string body(cipher.size() - kRecordTagSize, '\0');
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(body.data()), &mlen, nullptr,
          reinterpret_cast<const unsigned char*>(cipher.data()), cipher.size(),
          reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nonce.data(),
          data_key.data()) != 0) {
    return AuthenticationFailed();
  }
  body.resize(mlen);

  const auto kind = header.compression;
  if (kind == RecordCompression::kNone) return body;
  if (kind != RecordCompression::kZstd && kind != RecordCompression::kZstdDictionary) {
    return DataLossError("record envelope has unknown compression");
  }
  const bool v1 = header.version == internal::kRecordFormatV1;
  ZSTD_frameHeader frame{};
  if (ZSTD_getFrameHeader_advanced(&frame, body.data(), body.size(),
                                   v1 ? ZSTD_f_zstd1 : ZSTD_f_zstd1_magicless) != 0 ||
      frame.frameType != ZSTD_frame || frame.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN ||
      frame.frameContentSize > impl_->options.max_record_bytes) {
    return DataLossError("record holds a bad zstd frame");
  }
  std::string plain(static_cast<size_t>(frame.frameContentSize), '\0');
  ZSTD_DCtx* dctx = v1 ? ThreadDCtxV1() : ThreadDCtx();
  size_t n = 0;
  if (kind == RecordCompression::kZstdDictionary) {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->dictionaries.find(header.dictionary_id);
    if (it == impl_->dictionaries.end()) {
      return DataLossError("record needs zstd dictionary " + std::to_string(header.dictionary_id) +
                           ", which is not in the store");
    }
    ZSTD_DCtx_refDDict(dctx, it->second.ddict);
    n = ZSTD_decompressDCtx(dctx, plain.data(), plain.size(), body.data(), body.size());
    ZSTD_DCtx_refDDict(dctx, nullptr);  // the dictionary may not outlive this codec
  } else {
    n = ZSTD_decompressDCtx(dctx, plain.data(), plain.size(), body.data(), body.size());
  }
  if (ZSTD_isError(n) || n != plain.size()) return DataLossError("record zstd frame is corrupt");
  return plain;
}

Result<std::string> RecordCodec::TrainDictionary(const std::vector<std::string>& samples,
                                                 size_t capacity) {
  std::string joined;
  std::vector<size_t> sizes;
  sizes.reserve(samples.size());
  for (const auto& s : samples) {
    joined += s;
    sizes.push_back(s.size());
  }
  std::string dict(capacity, '\0');
  // Fixed segment and d-mer sizes: the default search over them picks, for some sample sets,
  // a small dictionary that compresses FHIR records half as well (k = 1024 and d = 8 did best
  // on Synthea), and it takes four times as long.
  ZDICT_fastCover_params_t params{};
  params.k = 1024;
  params.d = 8;
  params.f = 20;
  params.accel = 1;
  params.nbThreads = 1;
  params.zParams.compressionLevel = 3;
  const size_t n =
      ZDICT_trainFromBuffer_fastCover(dict.data(), dict.size(), joined.data(), sizes.data(),
                                      static_cast<unsigned>(sizes.size()), params);
  sodium_memzero(joined.data(), joined.size());
  if (ZDICT_isError(n)) {
    return FailedPreconditionError(std::string("zstd dictionary training failed: ") +
                                   ZDICT_getErrorName(n));
  }
  dict.resize(n);
  return dict;
}

size_t RecordCodec::CompressedBytes(const std::vector<std::string>& samples,
                                    std::string_view dictionary, int level) {
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter> cctx(ZSTD_createCCtx());
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level);
  if (!dictionary.empty()) {
    ZSTD_CCtx_loadDictionary(cctx.get(), dictionary.data(), dictionary.size());
  }
  size_t total = 0;
  std::string out;
  for (const auto& s : samples) {
    out.resize(ZSTD_compressBound(s.size()));
    const size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), s.data(), s.size());
    total += ZSTD_isError(n) ? s.size() : std::min(n, s.size());
  }
  sodium_memzero(out.data(), out.size());
  return total;
}

}  // namespace eds::storage
