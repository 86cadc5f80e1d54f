// MLLP framing (docs/formats/mllp.md): a message travels as 0x0B <message> 0x1C 0x0D.
// MllpFrame wraps a message; MllpDecoder cuts a byte stream into messages, one read at a time.
// The decoder never resynchronises: the first framing error is sticky and the connection that fed
// it must be closed. Errors: kInvalidArgument (bytes outside a frame, a start block inside a
// frame, 0x1C not followed by 0x0D), kResourceExhausted (a frame over the size limit).
// Thread-compatible: one decoder per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace eds::ingest {

// The framing bytes, as written down in docs/formats/mllp.md.
inline constexpr char kMllpStartBlock = '\x0b';
inline constexpr char kMllpEndBlock = '\x1c';
inline constexpr char kMllpCarriageReturn = '\x0d';
// Bytes a frame adds around its message.
inline constexpr size_t kMllpFrameOverhead = 3;

// Returns `message` framed. The message must not contain 0x0B or 0x1C (HL7 text never does).
std::string MllpFrame(std::string_view message);
// Appends `message` framed to `out`, so a caller can reuse one buffer for every frame it writes.
void AppendMllpFrame(std::string_view message, std::string& out);

class MllpDecoder {
 public:
  // `max_message_bytes` bounds the message between 0x0B and 0x1C; a longer frame is an error as
  // soon as the limit is passed, without waiting for its end.
  explicit MllpDecoder(size_t max_message_bytes);

  // Consumes `bytes`. Every frame they complete is queued for TakeMessage(). CR and LF between
  // frames are skipped (senders commonly add them); anything else there is an error. Once an
  // error is returned, every later call returns it again and ignores its input; messages
  // completed before the error stay queued.
  Status Feed(std::string_view bytes);

  // Whether a complete message is queued.
  bool HasMessage() const { return head_ < messages_.size(); }
  // Removes and returns the oldest queued message. Precondition: HasMessage().
  std::string TakeMessage();

  // True between a start block and the end of its frame (the peer owes us the rest).
  bool in_frame() const { return state_ != State::kBetweenFrames; }
  // Number of start blocks seen so far; tells a caller that a new frame began during a Feed.
  uint64_t frames_started() const { return frames_started_; }
  // OK, or the sticky framing error.
  const Status& status() const { return status_; }
  size_t max_message_bytes() const { return max_message_bytes_; }

 private:
  enum class State { kBetweenFrames, kInFrame, kAfterEndBlock };

  Status Fail(Status error);

  size_t max_message_bytes_;
  State state_ = State::kBetweenFrames;
  uint64_t frames_started_ = 0;
  Status status_;
  std::string current_;  // the message of the frame being received
  // Completed messages; [head_, size()) are queued. Kept as a vector that is cleared once drained
  // so that steady traffic allocates nothing here.
  std::vector<std::string> messages_;
  size_t head_ = 0;
};

}  // namespace eds::ingest
