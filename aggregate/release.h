// Releases and their lifecycle:
//   computed -> checked -> approved | rejected ; approved -> signed -> queued -> delivered
//   (queued -> failed -> queued: retried).
// A release is computed for one period over the enabled packs (objecting patients excluded),
// goes through disclosure control, and is checked again on the exact Bundle bytes before it can
// be approved; approval and rejection need a named reviewer and a comment. Releases live in the
// store (encrypted, bound to no patient); every transition is one durable, audited write.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aggregate/disclosure.h"
#include "aggregate/fact_index.h"
#include "aggregate/measure_report.h"
#include "aggregate/noise.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "storage/store.h"

namespace eds::aggregate {

enum class ReleaseState {
  kComputed,
  kChecked,
  kApproved,
  kRejected,
  kSigned,
  kQueued,
  kDelivered,
  kFailed,
};
std::string_view StateName(ReleaseState s);
std::optional<ReleaseState> ParseState(std::string_view name);
bool TransitionAllowed(ReleaseState from, ReleaseState to);

struct Transition {
  ReleaseState state = ReleaseState::kComputed;
  std::string at;  // RFC 3339
  std::string actor;
  std::string comment;
};

struct Release {
  std::string id;
  std::string period;
  std::vector<std::string> packs;  // "id@version"
  ReleaseState state = ReleaseState::kComputed;
  std::string bundle;  // the exact bytes that will be signed
  std::vector<Decision> decisions;
  uint64_t k = kDefaultK;
  NoiseOptions noise;
  std::vector<Transition> history;
};

struct ReleaseSummary {
  std::string id;
  std::string period;
  ReleaseState state = ReleaseState::kComputed;
  std::string updated;
};

struct ReleaseOptions {
  uint64_t k = kDefaultK;
  std::string reporter;     // the hospital's name in MeasureReport.reporter
  NoiseOptions noise = {};  // off by default
};

// What a release's Bundle shows: each cell's count, or nullopt when masked.
using ShownCells = std::map<CellId, std::optional<uint64_t>>;
Result<ShownCells> CellsOfBundle(const std::string& bundle);

// The check on the exact bytes: every shown count is 0 or at least k, every cell the packs
// define is present with its stratifiers, and no masked cell can be pinned by an exact solve.
// Errors: kFailedPrecondition naming the first problem.
// `tolerance`: how far a shown count may be from the true one (Tolerance() of the noise).
Status CheckReleaseBytes(const std::string& bundle, const std::vector<MeasurePack>& packs,
                         uint64_t k, uint64_t tolerance = 0);

class ReleaseBook {
 public:
  // `store` and `clock` must outlive it.
  ReleaseBook(storage::Store& store, Clock& clock) : store_(store), clock_(clock) {}
  ~ReleaseBook();  // stops watching the store's facts (the store must still be open)
  ReleaseBook(const ReleaseBook&) = delete;
  ReleaseBook& operator=(const ReleaseBook&) = delete;

  // Computes, controls and checks a new release of `packs` for `period`; `excluded` holds the
  // patient numbers of objecting patients. Returns it in state checked.
  Result<Release> Compute(const std::vector<MeasurePack>& packs, const std::string& period,
                          const std::set<uint64_t>& excluded, const ReleaseOptions& options,
                          const std::string& actor);
  Result<std::vector<ReleaseSummary>> List();
  Result<Release> Get(const std::string& id);
  // Reviewer decisions: `reviewer` and `comment` must not be empty; approval re-runs the check
  // on the stored bytes. kFailedPrecondition when the state does not allow it.
  Status Approve(const std::string& id, const std::vector<MeasurePack>& packs,
                 const std::string& reviewer, const std::string& comment);
  Status Reject(const std::string& id, const std::string& reviewer, const std::string& comment);
  // Later states (sync): signed, queued, delivered, failed. `outbox` changes commit atomically
  // with the transition.
  Status Advance(const std::string& id, ReleaseState to, const std::string& actor,
                 const std::string& comment, const std::vector<storage::OutboxWrite>& outbox = {});
  // Stops watching the store's facts and frees them (before the store closes); the next
  // computation loads them again.
  void DropFacts();

 private:
  Status Save(const Release& r, const std::string& action,
              const std::vector<storage::OutboxWrite>& outbox = {});
  Status MoveLocked(Release& r, ReleaseState to, const std::string& actor,
                    const std::string& comment,
                    const std::vector<storage::OutboxWrite>& outbox = {});
  Result<std::vector<PastRelease>> PastReleases(const std::set<std::string>& measures);

  Result<std::vector<ReleaseSummary>> ReadList();

  storage::Store& store_;
  Clock& clock_;
  Mutex mu_;  // one transition at a time
  // The facts in memory: loaded at the first computation, then kept current by the store.
  FactIndex facts_;
  bool watching_ EDS_GUARDED_BY(mu_) = false;
  Mutex list_mu_;
  std::optional<std::vector<ReleaseSummary>> list_ EDS_GUARDED_BY(list_mu_);
};

}  // namespace eds::aggregate
