#include "ingest/mllp/framing.h"

#include <cstring>
#include <utility>

#include "common/status_macros.h"

namespace eds::ingest {

std::string MllpFrame(std::string_view message) {
  std::string out;
  AppendMllpFrame(message, out);
  return out;
}

void AppendMllpFrame(std::string_view message, std::string& out) {
  out.reserve(out.size() + message.size() + kMllpFrameOverhead);
  out.push_back(kMllpStartBlock);
  out.append(message);
  out.push_back(kMllpEndBlock);
  out.push_back(kMllpCarriageReturn);
}

MllpDecoder::MllpDecoder(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

std::string MllpDecoder::TakeMessage() {
  EDS_CHECK(HasMessage(), "TakeMessage without a queued message");
  std::string message = std::move(messages_[head_++]);
  if (head_ == messages_.size()) {
    messages_.clear();
    head_ = 0;
  }
  return message;
}

Status MllpDecoder::Fail(Status error) {
  status_ = std::move(error);
  current_.clear();
  current_.shrink_to_fit();
  return status_;
}

Status MllpDecoder::Feed(std::string_view bytes) {
  if (!status_.ok()) return status_;
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  while (p < end) {
    switch (state_) {
      case State::kBetweenFrames:
        if (*p == kMllpCarriageReturn || *p == '\n') {
          ++p;
          break;
        }
        if (*p != kMllpStartBlock) {
          return Fail(InvalidArgumentError("data outside an MLLP frame"));
        }
        ++p;
        ++frames_started_;
        state_ = State::kInFrame;
        break;
      case State::kInFrame: {
        // memchr is vectorised; the message bytes are copied in one piece per read.
        const size_t left = static_cast<size_t>(end - p);
        const auto* stop = static_cast<const char*>(std::memchr(p, kMllpEndBlock, left));
        const char* body_end = stop != nullptr ? stop : end;
        const auto* nested = static_cast<const char*>(
            std::memchr(p, kMllpStartBlock, static_cast<size_t>(body_end - p)));
        if (nested != nullptr) body_end = nested;
        const size_t chunk = static_cast<size_t>(body_end - p);
        if (chunk > max_message_bytes_ - current_.size()) {
          return Fail(ResourceExhaustedError("MLLP frame larger than " +
                                             std::to_string(max_message_bytes_) + " bytes"));
        }
        current_.append(p, chunk);
        p = body_end;
        if (nested != nullptr) {
          // A new frame before the end of this one: the sender truncated a message.
          return Fail(InvalidArgumentError("MLLP start block inside a frame"));
        }
        if (stop != nullptr) {
          ++p;
          state_ = State::kAfterEndBlock;
        }
        break;
      }
      case State::kAfterEndBlock:
        if (*p != kMllpCarriageReturn) {
          return Fail(InvalidArgumentError("MLLP end block 0x1C not followed by 0x0D"));
        }
        ++p;
        messages_.push_back(std::move(current_));
        // A moved-from string is left valid but unspecified; make it empty explicitly.
        current_ = std::string();
        state_ = State::kBetweenFrames;
        break;
    }
  }
  return OkStatus();
}

}  // namespace eds::ingest
