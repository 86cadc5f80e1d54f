// ImportReader: the frames of an import stream read and validated on a thread of their own, one
// chunk ahead of the filing. Reading needs nothing from the store, so the next chunk is read
// while the ones before it are filed and committed; the client keeps three chunks in flight.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "common/mutex.h"
#include "daemon/control_stream.h"
#include "ingest/bulk_ingest.h"

namespace eds::daemon {

class ImportReader {
 public:
  struct Item {
    std::optional<ingest::ReadChunk> chunk;  // nullopt: the stream ended
    bool done = false;  // it ended with the empty frame, as a complete import does
    // When the stream ended: why (for the log), and the failure to answer the client with
    // ("" when it ended with the empty frame, or the client is gone).
    std::string ended;
    std::string failure;
  };

  // Reads from `stream` (which the caller may write to meanwhile), numbering lines from
  // `first_line`; waits at most `idle_timeout` for a frame.
  ImportReader(ControlStream& stream, uint64_t first_line, std::chrono::milliseconds idle_timeout);
  ~ImportReader();  // stops reading and joins
  ImportReader(const ImportReader&) = delete;
  ImportReader& operator=(const ImportReader&) = delete;

  // The next chunk, or the end of the stream (returned once; the reader stops after it).
  Item Next();

 private:
  void Run();
  Item ReadOne(uint64_t first_line);
  bool Stopping();

  ControlStream& stream_;
  const uint64_t first_line_;
  const std::chrono::milliseconds idle_timeout_;
  Mutex mu_;
  std::condition_variable cv_;
  std::optional<Item> slot_ EDS_GUARDED_BY(mu_);
  bool stop_ EDS_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace eds::daemon
