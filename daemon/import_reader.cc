#include "daemon/import_reader.h"

#include <algorithm>

namespace eds::daemon {
namespace {
// Waits for a frame are cut into slices of this, so that a stop is noticed soon.
constexpr auto kWaitSlice = std::chrono::milliseconds(100);
}  // namespace

ImportReader::ImportReader(ControlStream& stream, uint64_t first_line,
                           std::chrono::milliseconds idle_timeout)
    : stream_(stream), first_line_(first_line), idle_timeout_(idle_timeout) {
  thread_ = std::thread([this] { Run(); });
}

ImportReader::~ImportReader() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

ImportReader::Item ImportReader::Next() {
  MutexLock lock(mu_);
  lock.Wait(cv_, [this]() EDS_REQUIRES(mu_) { return slot_.has_value(); });
  Item item = std::move(*slot_);
  slot_.reset();
  cv_.notify_all();
  return item;
}

bool ImportReader::Stopping() {
  MutexLock lock(mu_);
  return stop_;
}

void ImportReader::Run() {
  uint64_t line = first_line_;
  for (;;) {
    Item item = ReadOne(line);
    const bool ended = !item.chunk.has_value();
    if (!ended) line = item.chunk->end_line;
    MutexLock lock(mu_);
    // One chunk waits here while the caller stores the one before it.
    lock.Wait(cv_, [this]() EDS_REQUIRES(mu_) { return !slot_.has_value() || stop_; });
    if (stop_) return;
    slot_ = std::move(item);
    cv_.notify_all();
    if (ended) return;
  }
}

ImportReader::Item ImportReader::ReadOne(uint64_t first_line) {
  const auto deadline = std::chrono::steady_clock::now() + idle_timeout_;
  Result<uint32_t> length = DeadlineExceededError("no frame yet");
  while (!length.ok() && length.status().code() == StatusCode::kDeadlineExceeded) {
    if (Stopping()) return {std::nullopt, false, "stopped", ""};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return {std::nullopt, false, "idle timeout",
              "no chunk within the idle timeout; the import is closed"};
    }
    length = stream_.ReadFrameLength(std::min<std::chrono::milliseconds>(left, kWaitSlice));
  }
  if (!length.ok()) return {std::nullopt, false, std::string(length.status().message()), ""};
  if (*length == 0) return {std::nullopt, true, "done", ""};
  if (*length > kMaxImportFrameBytes) {
    return {std::nullopt, false, "chunk too large",
            "a chunk of " + std::to_string(*length) + " bytes is larger than the limit of " +
                std::to_string(kMaxImportFrameBytes) + " bytes"};
  }
  std::string frame;
  Status read = stream_.ReadFramePayload(*length, &frame, idle_timeout_);
  if (!read.ok()) return {std::nullopt, false, std::string(read.message()), ""};
  return {ingest::BulkIngest::Read(frame, first_line), false, "", ""};
}

}  // namespace eds::daemon
