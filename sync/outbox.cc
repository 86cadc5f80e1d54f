#include "sync/outbox.h"

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "sync/envelope.h"

namespace eds::sync {
namespace {

using aggregate::ReleaseState;
using nlohmann::json;

constexpr std::string_view kStateId = "sync-state";
constexpr std::string_view kActor = "sync";
constexpr size_t kScanLimit = 1 << 20;

// The first line of an upstream's error body, bounded: enough to say why, never a flood.
std::string Excerpt(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

}  // namespace

Status ClassifyAnswer(const HttpResponse& r) {
  if (r.status == 200 || r.status == 201) return OkStatus();
  const std::string what = "upstream answered HTTP " + std::to_string(r.status);
  if (r.status == 409) {
    return AlreadyExistsError(what + ": this sequence number was used with other bytes (" +
                              Excerpt(r.body) + ")");
  }
  if (r.status == 403 || r.status == 401) {
    return PermissionDeniedError(what + ": node or signature refused (" + Excerpt(r.body) + ")");
  }
  if (r.status >= 500) return UnavailableError(what);
  return FailedPreconditionError(what + " (" + Excerpt(r.body) + ")");
}

Outbox::Outbox(storage::Store& store, aggregate::ReleaseBook& releases,
               const NodeIdentity& identity, Clock& clock)
    : store_(store), releases_(releases), identity_(identity), clock_(clock) {}

Status Outbox::Load() {
  EDS_ASSIGN_OR_RETURN(bool exists, store_.Exists("", kStateId));
  DeliveryState s;
  if (exists) {
    EDS_ASSIGN_OR_RETURN(std::string text,
                         store_.Read("", kStateId, {"system", "sync.state", "", ""}));
    const json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return DataLossError("sync state is corrupt");
    s.consecutive_failures = j.value("consecutive_failures", uint64_t{0});
    s.last_attempt_at = j.value("last_attempt_at", "");
    s.last_error = j.value("last_error", "");
    s.last_error_at = j.value("last_error_at", "");
    s.last_delivery_at = j.value("last_delivery_at", "");
    s.last_delivered = j.value("last_delivered", "");
    s.delivered_total = j.value("delivered_total", uint64_t{0});
  }
  EDS_ASSIGN_OR_RETURN(auto pending, store_.ReadOutbox(kScanLimit));
  s.queued = pending.size();
  MutexLock lock(state_mu_);
  state_ = std::move(s);
  return OkStatus();
}

Status Outbox::SaveState(const std::string& action) {
  json j;
  {
    MutexLock lock(state_mu_);
    j = {{"consecutive_failures", state_.consecutive_failures},
         {"last_attempt_at", state_.last_attempt_at},
         {"last_error", state_.last_error},
         {"last_error_at", state_.last_error_at},
         {"last_delivery_at", state_.last_delivery_at},
         {"last_delivered", state_.last_delivered},
         {"delivered_total", state_.delivered_total}};
  }
  return store_.Write({{"", std::string(kStateId), j.dump()}},
                      {std::string(kActor), action, "outbox", ""});
}

DeliveryState Outbox::State() const {
  MutexLock lock(state_mu_);
  return state_;
}

Result<size_t> Outbox::QueueApproved(const std::string& actor) {
  MutexLock lock(mu_);
  EDS_ASSIGN_OR_RETURN(auto list, releases_.List());
  size_t queued = 0;
  for (const auto& summary : list) {
    if (summary.state == ReleaseState::kSigned) {
      // A crash came between signing and queueing: its envelope is already in the outbox.
      EDS_RETURN_IF_ERROR(releases_.Advance(summary.id, ReleaseState::kQueued, actor, ""));
      continue;
    }
    if (summary.state != ReleaseState::kApproved) continue;
    EDS_ASSIGN_OR_RETURN(aggregate::Release release, releases_.Get(summary.id));
    EDS_ASSIGN_OR_RETURN(uint64_t last, store_.LastOutboxSequence());
    EDS_ASSIGN_OR_RETURN(SignedRelease signed_release,
                         SignRelease(release, last + 1, identity_, FormatRfc3339(clock_.Now())));
    EDS_RETURN_IF_ERROR(releases_.Advance(summary.id, ReleaseState::kSigned, actor,
                                          "sequence " + std::to_string(last + 1),
                                          {{last + 1, EncodeSignedRelease(signed_release)}}));
    EDS_RETURN_IF_ERROR(releases_.Advance(summary.id, ReleaseState::kQueued, actor, ""));
    ++queued;
    MutexLock state_lock(state_mu_);
    ++state_.queued;
  }
  return queued;
}

Result<std::vector<QueuedRelease>> Outbox::Pending(size_t limit) {
  EDS_ASSIGN_OR_RETURN(auto entries, store_.ReadOutbox(limit));
  std::vector<QueuedRelease> out;
  for (const auto& e : entries) {
    EDS_ASSIGN_OR_RETURN(SignedRelease r, DecodeSignedRelease(e.value));
    EDS_ASSIGN_OR_RETURN(EnvelopeHeader h, ParseHeader(r.header));
    out.push_back({e.seq, h.release_id, h.period, r.bundle.size()});
  }
  return out;
}

Status Outbox::Failed(const std::string& release_id, ReleaseState state, const Status& why) {
  {
    MutexLock lock(state_mu_);
    ++state_.consecutive_failures;
    state_.last_error = why.message();
    state_.last_error_at = FormatRfc3339(clock_.Now());
  }
  // The first failure shows on the release itself; later ones only in the sync state.
  if (state == ReleaseState::kQueued) {
    EDS_RETURN_IF_ERROR(
        releases_.Advance(release_id, ReleaseState::kFailed, std::string(kActor), why.message()));
  }
  return SaveState("sync.failed");
}

Result<DeliveryReport> Outbox::Deliver(UpstreamClient& client, size_t max) {
  MutexLock lock(mu_);
  DeliveryReport report;
  while (report.delivered < max) {
    EDS_ASSIGN_OR_RETURN(auto head, store_.ReadOutbox(1));
    if (head.empty()) break;
    const uint64_t seq = head[0].seq;
    EDS_ASSIGN_OR_RETURN(SignedRelease envelope, DecodeSignedRelease(head[0].value));
    EDS_ASSIGN_OR_RETURN(EnvelopeHeader header, ParseHeader(envelope.header));
    EDS_ASSIGN_OR_RETURN(aggregate::Release release, releases_.Get(header.release_id));
    if (release.state == ReleaseState::kSigned) {
      EDS_RETURN_IF_ERROR(
          releases_.Advance(release.id, ReleaseState::kQueued, std::string(kActor), ""));
      release.state = ReleaseState::kQueued;
    }
    {
      MutexLock state_lock(state_mu_);
      state_.last_attempt_at = FormatRfc3339(clock_.Now());
    }
    auto answer = client.Post(kReleasesPath,
                              {{std::string(kHeaderField), Base64Encode(envelope.header)},
                               {std::string(kSignatureField), Base64Encode(envelope.signature)}},
                              "application/fhir+json", envelope.bundle);
    if (answer.ok()) {
      report.request_bytes += answer->request_bytes;
      report.response_bytes += answer->response_bytes;
    }
    Status outcome = answer.ok() ? ClassifyAnswer(*answer) : answer.status();
    if (!outcome.ok()) {
      EDS_RETURN_IF_ERROR(Failed(release.id, release.state, outcome));
      report.failure = outcome;
      return report;
    }
    const json receipt = json::parse(answer->body, nullptr, false);
    const std::string receipt_id =
        receipt.is_object() ? receipt.value("receipt_id", "") : std::string();
    EDS_RETURN_IF_ERROR(releases_.Advance(
        release.id, ReleaseState::kDelivered, std::string(kActor),
        "sequence " + std::to_string(seq) + ", receipt " + receipt_id, {{seq, std::nullopt}}));
    ++report.delivered;
    MutexLock state_lock(state_mu_);
    state_.consecutive_failures = 0;
    state_.last_error.clear();
    state_.last_delivery_at = FormatRfc3339(clock_.Now());
    state_.last_delivered = release.id;
    ++state_.delivered_total;
    if (state_.queued > 0) --state_.queued;
  }
  if (report.delivered > 0) EDS_RETURN_IF_ERROR(SaveState("sync.delivered"));
  return report;
}

}  // namespace eds::sync
