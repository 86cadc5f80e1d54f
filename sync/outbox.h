// Outbox: approved releases, signed and queued in order in the store's outbox column family, sent
// to the upstream head first until it confirms. Signing and queueing, and delivery and removal,
// are each one atomic store write together with the release's transition, so a crash at any
// point neither loses a release nor gives one two sequence numbers. Delivery is at-least-once; the
// receiver dedupes on (node id, sequence). Only approved releases ever enter (invariant 3: the
// outbox reads releases, never records). Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aggregate/release.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "storage/store.h"
#include "sync/identity.h"
#include "sync/upstream_client.h"

namespace eds::sync {

inline constexpr std::string_view kReleasesPath = "/releases";

struct QueuedRelease {
  uint64_t seq = 0;
  std::string release_id;
  std::string period;
  size_t bytes = 0;  // Bundle bytes
};

// What IT staff see in `edsctl sync status`.
struct DeliveryState {
  uint64_t queued = 0;
  uint64_t consecutive_failures = 0;
  std::string last_attempt_at;
  std::string last_error;  // why the head of the queue did not go
  std::string last_error_at;
  std::string last_delivery_at;
  std::string last_delivered;  // release id
  uint64_t delivered_total = 0;
};

struct DeliveryReport {
  size_t delivered = 0;
  uint64_t request_bytes = 0;   // HTTP bytes sent, answered or not
  uint64_t response_bytes = 0;  // HTTP bytes of the answers
  Status failure;               // OK when the queue emptied or `max` releases went
};

class Outbox {
 public:
  // All must outlive it.
  Outbox(storage::Store& store, aggregate::ReleaseBook& releases, const NodeIdentity& identity,
         Clock& clock);

  // Restores the delivery state kept in the store.
  Status Load();
  // Signs and queues every approved release, oldest first (and finishes queueing any signed one a
  // crash left behind). Returns how many were queued.
  Result<size_t> QueueApproved(const std::string& actor);
  Result<std::vector<QueuedRelease>> Pending(size_t limit);
  // Sends queued releases in order until the queue is empty, one fails (later ones wait: order is
  // kept), or `max` went.
  Result<DeliveryReport> Deliver(UpstreamClient& client, size_t max);
  DeliveryState State() const;

 private:
  Status SaveState(const std::string& action);
  Status Failed(const std::string& release_id, aggregate::ReleaseState state, const Status& why);

  storage::Store& store_;
  aggregate::ReleaseBook& releases_;
  const NodeIdentity& identity_;
  Clock& clock_;
  Mutex mu_;  // one queueing or delivery run at a time
  mutable Mutex state_mu_;
  DeliveryState state_ EDS_GUARDED_BY(state_mu_);
};

// How an upstream answer maps to an outcome: 200/201 delivered (the body is the receipt); 409 the
// sequence was used with other bytes; 403 the node or signature is refused; others retried.
Status ClassifyAnswer(const HttpResponse& response);

}  // namespace eds::sync
