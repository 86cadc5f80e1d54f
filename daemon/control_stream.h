// ControlStream: one connection of the control socket switched to streaming (the import command,
// docs/formats/control.md): JSON lines and length-prefixed frames over a connected UNIX stream
// socket, with blocking reads and writes bounded by deadlines (poll). Used by both sides: edsd's
// import threads and edsctl. On the daemon side a wake descriptor (readable once the server
// stops) ends every wait early with kCancelled. Not thread-safe; owns its descriptor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace eds::daemon {

// Frames: 4-byte big-endian length, then that many bytes; length 0 ends the stream.
inline constexpr size_t kMaxImportFrameBytes = size_t{8} << 20;

class ControlStream {
 public:
  // Takes `fd` (a connected stream socket). `buffered`: bytes already read from it.
  // `wake_fd` >= 0 is polled beside it and never read or closed here.
  explicit ControlStream(int fd, std::string buffered = "", int wake_fd = -1);
  ~ControlStream();
  ControlStream(const ControlStream&) = delete;
  ControlStream& operator=(const ControlStream&) = delete;

  // Connects to edsd's control socket (client side).
  static Result<std::unique_ptr<ControlStream>> Connect(const std::string& socket_path);

  // One JSON value and '\n'.
  Status WriteLine(const nlohmann::json& value, std::chrono::milliseconds timeout);
  // One line (at most `max_bytes`), parsed as JSON. kUnavailable when the peer closed first,
  // kDeadlineExceeded after `timeout`, kDataLoss for a line that is not JSON.
  Result<nlohmann::json> ReadLine(std::chrono::milliseconds timeout, size_t max_bytes = 1 << 24);
  Status WriteFrame(std::string_view payload, std::chrono::milliseconds timeout);
  // The next frame's length (4 bytes), waiting at most `timeout`.
  Result<uint32_t> ReadFrameLength(std::chrono::milliseconds timeout);
  // `length` bytes of frame payload into `out`; each read waits at most `timeout`. On an error
  // `out` holds no frame.
  Status ReadFramePayload(uint32_t length, std::string* out, std::chrono::milliseconds timeout);

  // Whether the wake descriptor became readable (the server stops).
  bool Woken() const;
  void Close();

 private:
  // Reads until in_ holds at least `want` bytes.
  Status Fill(size_t want, std::chrono::steady_clock::time_point deadline);
  Status WriteAll(std::string_view data, std::chrono::milliseconds timeout);
  // Waits until fd_ is ready for `events`.
  Status Wait(short events, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int wake_fd_ = -1;
  std::string in_;  // bytes read and not consumed yet
};

}  // namespace eds::daemon
