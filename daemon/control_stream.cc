#include "daemon/control_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/encoding.h"

namespace eds::daemon {
namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return 0;
  return left.count() > 1000 ? 1000 : static_cast<int>(left.count());
}

}  // namespace

ControlStream::ControlStream(int fd, std::string buffered, int wake_fd)
    : fd_(fd), wake_fd_(wake_fd), in_(std::move(buffered)) {
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

ControlStream::~ControlStream() { Close(); }

void ControlStream::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::unique_ptr<ControlStream>> ControlStream::Connect(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return InvalidArgumentError("control socket path too long: " + socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return InternalError(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    return UnavailableError("cannot connect to edsd at " + socket_path + ": " + std::strerror(err) +
                            " (is edsd running?)");
  }
  return std::make_unique<ControlStream>(fd);
}

bool ControlStream::Woken() const {
  if (wake_fd_ < 0) return false;
  pollfd p{wake_fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

Status ControlStream::Wait(short events, Clock::time_point deadline) {
  if (fd_ < 0) return UnavailableError("the connection is closed");
  for (;;) {
    pollfd p[2] = {{fd_, events, 0}, {wake_fd_, POLLIN, 0}};
    const nfds_t n = wake_fd_ >= 0 ? 2 : 1;
    const int r = ::poll(p, n, MillisLeft(deadline));
    if (r < 0 && errno != EINTR) return InternalError(std::string("poll: ") + std::strerror(errno));
    if (n == 2 && (p[1].revents & POLLIN) != 0) return CancelledError("edsd is stopping");
    if (r > 0 && p[0].revents != 0) return OkStatus();
    if (Clock::now() >= deadline) return DeadlineExceededError("timed out");
  }
}

Status ControlStream::Fill(size_t want, Clock::time_point deadline) {
  char buf[64 * 1024];
  while (in_.size() < want) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return UnavailableError("the peer closed the connection");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return UnavailableError(std::string("read: ") + std::strerror(errno));
    }
    Status s = Wait(POLLIN, deadline);
    if (!s.ok()) return s;
  }
  return OkStatus();
}

Status ControlStream::WriteAll(std::string_view data, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    if (fd_ < 0) return UnavailableError("the connection is closed");
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return UnavailableError(std::string("write: ") + std::strerror(errno));
    }
    Status s = Wait(POLLOUT, deadline);
    if (!s.ok()) return s;
  }
  return OkStatus();
}

Status ControlStream::WriteLine(const nlohmann::json& value, std::chrono::milliseconds timeout) {
  return WriteAll(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  timeout);
}

Result<nlohmann::json> ControlStream::ReadLine(std::chrono::milliseconds timeout,
                                               size_t max_bytes) {
  const auto deadline = Clock::now() + timeout;
  size_t end = in_.find('\n');
  while (end == std::string::npos) {
    if (in_.size() > max_bytes) return ResourceExhaustedError("line too long");
    Status s = Fill(in_.size() + 1, deadline);
    if (!s.ok()) return s;
    end = in_.find('\n');
  }
  auto value = nlohmann::json::parse(std::string_view(in_).substr(0, end), nullptr, false);
  in_.erase(0, end + 1);
  if (value.is_discarded()) return DataLossError("the peer sent a line that is not JSON");
  return value;
}

Status ControlStream::WriteFrame(std::string_view payload, std::chrono::milliseconds timeout) {
  std::string header;
  PutBigEndian32(header, static_cast<uint32_t>(payload.size()));
  Status s = WriteAll(header, timeout);
  if (!s.ok()) return s;
  return WriteAll(payload, timeout);
}

Result<uint32_t> ControlStream::ReadFrameLength(std::chrono::milliseconds timeout) {
  Status s = Fill(4, Clock::now() + timeout);
  if (!s.ok()) return s;
  const uint32_t length = GetBigEndian32(in_);
  in_.erase(0, 4);
  return length;
}

Status ControlStream::ReadFramePayload(uint32_t length, std::string* out,
                                       std::chrono::milliseconds timeout) {
  // Sized once: growing it before each recv zero-filled the rest of a large chunk every time.
  out->resize(length);
  size_t have = std::min<size_t>(length, in_.size());
  in_.copy(out->data(), have);
  in_.erase(0, have);
  while (have < length) {
    const ssize_t n = ::recv(fd_, out->data() + have, length - have, 0);
    if (n > 0) {
      have += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return UnavailableError("the peer closed the connection");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return UnavailableError(std::string("read: ") + std::strerror(errno));
    }
    Status s = Wait(POLLIN, Clock::now() + timeout);
    if (!s.ok()) return s;
  }
  return OkStatus();
}

}  // namespace eds::daemon
