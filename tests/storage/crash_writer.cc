// Child process of the SIGKILL test: writes batches from two threads through the durable path and
// prints "first count" after each acknowledged batch. Arguments: data dir, master key (hex),
// first sequence number.
#include <cstdio>
#include <mutex>
#include <thread>

#include "common/encoding.h"
#include "storage/store.h"
#include "tests/storage/crash_writer_payload.h"

int main(int argc, char** argv) {
  using namespace eds::storage;
  if (argc != 4) return 2;
  auto key = SecretKey::FromBytes(*eds::HexDecode(argv[2]));
  StoreOptions options;
  options.data_dir = argv[1];
  options.dictionary_training_records = 300;
  auto store = Store::Open(options, std::move(key).value());
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  std::mutex mu;
  uint64_t next = std::stoull(argv[3]);
  auto writer = [&] {
    for (;;) {
      uint64_t first = 0;
      const uint64_t count = 1 + next % 7;
      {
        std::lock_guard<std::mutex> lock(mu);
        first = next;
        next += count;
      }
      std::vector<RecordWrite> batch;
      for (uint64_t s = first; s < first + count; ++s) {
        batch.push_back({CrashWriterPatient(s), CrashWriterLogicalId(s), CrashWriterPayload(s)});
      }
      if (!(*store)->Write(batch, {"crash-writer", "record.write", "", ""}).ok()) return;
      std::lock_guard<std::mutex> lock(mu);
      std::printf("%lu %lu\n", first, count);
      std::fflush(stdout);
    }
  };
  std::thread a(writer), b(writer);
  a.join();
  b.join();
  return 0;
}
