// Fuzz target for MllpDecoder. The first input byte picks the size limit (1..2041 bytes), the
// second seeds the chunk sizes; the rest is the byte stream, fed in chunks of 1..97 bytes.
// Checks: chunking never changes the outcome (messages, error code, frame state); no message
// exceeds the limit or holds a framing byte; decoded messages re-frame and decode to themselves.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/mllp/framing.h"

namespace {

using eds::ingest::MllpDecoder;

struct Outcome {
  std::vector<std::string> messages;
  eds::StatusCode code = eds::StatusCode::kOk;
  bool in_frame = false;
};

void Require(bool condition) {
  if (!condition) std::abort();
}

void Drain(MllpDecoder& decoder, Outcome& out) {
  while (decoder.HasMessage()) out.messages.push_back(decoder.TakeMessage());
}

Outcome DecodeWhole(std::string_view stream, size_t max_bytes) {
  MllpDecoder decoder(max_bytes);
  Outcome out;
  out.code = decoder.Feed(stream).code();
  Drain(decoder, out);
  out.in_frame = decoder.in_frame();
  return out;
}

Outcome DecodeChunked(std::string_view stream, size_t max_bytes, uint32_t seed) {
  MllpDecoder decoder(max_bytes);
  Outcome out;
  uint32_t state = seed | 1u;
  while (!stream.empty()) {
    // xorshift32: cheap, deterministic chunk sizes from the input itself.
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    const size_t chunk = std::min<size_t>(stream.size(), 1 + state % 97);
    const eds::Status status = decoder.Feed(stream.substr(0, chunk));
    // Once failed, the decoder must keep returning the same error.
    if (out.code != eds::StatusCode::kOk) Require(status.code() == out.code);
    out.code = status.code();
    Drain(decoder, out);
    stream.remove_prefix(chunk);
  }
  out.in_frame = decoder.in_frame();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t max_bytes = 1 + size_t{data[0]} * 8;
  const uint32_t seed = data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  const Outcome whole = DecodeWhole(stream, max_bytes);
  const Outcome chunked = DecodeChunked(stream, max_bytes, seed);
  Require(whole.code == chunked.code);
  Require(whole.messages == chunked.messages);
  if (whole.code == eds::StatusCode::kOk) Require(whole.in_frame == chunked.in_frame);

  std::string reframed;
  for (const std::string& m : whole.messages) {
    Require(m.size() <= max_bytes);
    Require(m.find(eds::ingest::kMllpStartBlock) == std::string::npos);
    Require(m.find(eds::ingest::kMllpEndBlock) == std::string::npos);
    eds::ingest::AppendMllpFrame(m, reframed);
  }
  const Outcome again = DecodeWhole(reframed, max_bytes);
  Require(again.code == eds::StatusCode::kOk && !again.in_frame);
  Require(again.messages == whole.messages);
  return 0;
}
