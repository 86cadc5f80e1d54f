// Receiver: the reference upstream. Enrols nodes by public key, takes signed releases
// (sync/envelope.h), keeps what it accepts in its own store, lists and exports it, and for the
// mutualized level sums the same measure and period across its nodes. Answers follow the sync
// protocol: 201 with a receipt for a new release; 200 with the original receipt for an exact
// duplicate; 409 for a sequence reused with other bytes; 403 for an unknown node or a bad
// signature; 400 for a malformed envelope. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aggregate/release.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "storage/store.h"
#include "sync/envelope.h"

namespace eds::hub {

struct EnrolledNode {
  std::string node_id;
  std::string public_key;  // 32 raw bytes
  std::string name;
  std::string enrolled_at;
};

struct ReceivedRelease {
  std::string node_id;
  uint64_t sequence = 0;
  std::string release_id;
  std::string period;
  std::string received_at;
  std::string receipt_id;
  size_t bytes = 0;
};

// The listing form of a received release (GET /releases, the release index).
nlohmann::json ToJson(const ReceivedRelease& r);

struct Answer {
  int status = 0;
  std::string body;  // JSON: the receipt, or {"error": ...}
};

// One summed cell: nullopt when the cell was masked at any node.
struct SummedCell {
  aggregate::CellId cell;
  std::optional<uint64_t> count;
};

struct MeasureSum {
  std::string measure;
  std::string period;
  std::vector<std::string> nodes;  // the nodes whose latest release for the period went in
  std::vector<SummedCell> cells;
};

class Receiver {
 public:
  Receiver(storage::Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // Enrols (or renames) the node of a base64 Ed25519 public key; returns its node id.
  Result<std::string> Enrol(const std::string& public_key_base64, const std::string& name);
  Result<std::vector<EnrolledNode>> Nodes();

  // A release as it arrived: the base64 header and signature fields and the body.
  Answer Accept(const std::string& header_base64, const std::string& signature_base64,
                const std::string& body);

  Result<std::vector<ReceivedRelease>> List();
  // The stored Bundle of one release.
  Result<std::string> Export(const std::string& node_id, uint64_t sequence);
  // Sums `measure` (its canonical URL) for `period` over each node's latest release of it.
  Result<MeasureSum> Sum(const std::string& measure, const std::string& period);

 private:
  Result<std::optional<EnrolledNode>> FindNode(const std::string& node_id);
  Result<std::vector<ReceivedRelease>> ListLocked() EDS_REQUIRES(mu_);

  storage::Store& store_;
  Clock& clock_;
  Mutex mu_;
};

}  // namespace eds::hub
