#include "ingest/ingest_errors.h"

#include <chrono>

namespace eds::ingest {

void IngestErrorLog::Add(IngestError error) {
  if (error.at_ms == 0) {
    error.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  }
  MutexLock lock(mu_);
  if (errors_.size() >= capacity_) errors_.pop_front();
  errors_.push_back(std::move(error));
}

std::vector<IngestError> IngestErrorLog::Recent() const {
  MutexLock lock(mu_);
  return {errors_.rbegin(), errors_.rend()};
}

}  // namespace eds::ingest
