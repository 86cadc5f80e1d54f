// The dashboard's status, the sync state and "sync now", and /metrics.
#include <sys/statvfs.h>

#include <algorithm>
#include <map>
#include <optional>

#include "sync/status_json.h"
#include "webadmin/internal/api_state.h"

namespace eds::webadmin::internal {
namespace {

std::map<std::string, uint64_t> ReleasesByState(State& state) {
  std::map<std::string, uint64_t> out;
  for (int i = 0; i <= static_cast<int>(aggregate::ReleaseState::kFailed); ++i) {
    out[std::string(aggregate::StateName(static_cast<aggregate::ReleaseState>(i)))] = 0;
  }
  if (state.ctx.releases == nullptr) return out;
  auto list = state.ctx.releases->List();
  if (!list.ok()) return out;
  for (const auto& r : *list) ++out[std::string(aggregate::StateName(r.state))];
  return out;
}

json SyncJson(State& state) {
  if (state.ctx.outbox == nullptr) return {{"enabled", false}};
  auto pending = state.ctx.outbox->Pending(100);
  return sync::DeliveryJson(state.ctx.outbox->State(),
                            pending.ok() ? *pending : std::vector<sync::QueuedRelease>{},
                            state.ctx.sync);
}

// Prometheus label values escape backslash, quote and newline.
std::string Label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? 'n' : c;
  }
  return out;
}

struct DiskSpace {
  uint64_t free_bytes = 0;
  uint64_t total_bytes = 0;
};

// The space left on the file system of the data dir (what the store grows into).
std::optional<DiskSpace> DataDiskSpace(State& state) {
  struct statvfs v {};
  if (::statvfs(state.ctx.store->data_dir().c_str(), &v) != 0) return std::nullopt;
  return DiskSpace{uint64_t{v.f_bavail} * v.f_frsize, uint64_t{v.f_blocks} * v.f_frsize};
}

// What needs a person's attention, most urgent first; each alert has a code the UI words, a
// level (critical, warning, info) and a detail (a number or a reason, never patient data).
json Alerts(State& state, const std::optional<DiskSpace>& disk, const json& sync,
            const std::map<std::string, uint64_t>& releases) {
  json critical = json::array(), warning = json::array(), info = json::array();
  auto add = [](json& list, const char* code, const json& detail) {
    list.push_back({{"code", code}, {"detail", detail}});
  };
  if (disk && disk->total_bytes > 0) {
    // Under 5 % free is critical, under 15 % a warning (integer percent, no rounding surprises).
    const uint64_t percent_free = disk->free_bytes / (disk->total_bytes / 100 + 1);
    if (percent_free < 5) {
      add(critical, "disk_low", disk->free_bytes);
    } else if (percent_free < 15) {
      add(warning, "disk_low", disk->free_bytes);
    }
  }
  if (!sync.value("enabled", false)) {
    add(warning, "sync_off", "");
  } else if (sync.value("consecutive_failures", 0) > 0) {
    add(warning, "sync_failing", sync.value("last_error", ""));
  }
  if (auto it = releases.find("failed"); it != releases.end() && it->second > 0) {
    add(warning, "releases_failed", it->second);
  }
  if (auto it = releases.find("checked"); it != releases.end() && it->second > 0) {
    add(info, "releases_to_review", it->second);
  }
  if (state.ctx.ingest_errors != nullptr) {
    const int64_t day_ago = UnixMillis(state.clock->Now()) - 24 * 3'600'000LL;
    size_t recent = 0;
    for (const ingest::IngestError& e : state.ctx.ingest_errors->Recent()) {
      recent += e.at_ms >= day_ago ? 1u : 0u;
    }
    if (recent > 0) add(warning, "feed_refusals", recent);
  }
  json out = json::array();
  for (const auto& [level, list] :
       {std::pair{"critical", &critical}, {"warning", &warning}, {"info", &info}}) {
    for (json a : *list) {
      a["level"] = level;
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace

HttpResponse GetStatus(State& state, Call&) {
  const storage::StoreStats s = state.ctx.store->Stats();
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - state.ctx.started);
  // A chart is a few hundred pixels wide: more points than that only weigh on every refresh.
  constexpr size_t kChartPoints = 400;
  const std::vector<StatsPoint> points = Samples(state);
  json history = json::array();
  const size_t n = points.size();
  const size_t shown = std::min(n, kChartPoints);
  for (size_t k = 0; k < shown; ++k) {
    // Evenly spaced picks from the oldest to the newest point.
    const StatsPoint& p = points[shown < 2 ? k : k * (n - 1) / (shown - 1)];
    history.push_back({{"t", p.time_ms}, {"records", p.records}, {"disk_bytes", p.disk_bytes}});
  }
  size_t valid_tokens = 0;
  if (state.ctx.tokens != nullptr) {
    for (const auto& t : state.ctx.tokens->List()) valid_tokens += t.revoked.empty() ? 1u : 0u;
  }
  json feeds = {{"fhir_tokens", valid_tokens}, {"mllp_enabled", state.ctx.mllp != nullptr}};
  if (state.ctx.mllp != nullptr)
    feeds["mllp_connections"] = state.ctx.mllp->stats().connections_active;
  const std::optional<DiskSpace> disk = DataDiskSpace(state);
  const json sync = SyncJson(state);
  const std::map<std::string, uint64_t> releases = ReleasesByState(state);
  return Ok({{"version", state.ctx.version},
             {"uptime_s", uptime.count()},
             {"store",
              {{"records", s.records_estimate},
               {"patients", s.patients},
               {"audit_entries", s.audit_entries},
               {"disk_bytes", s.disk_bytes},
               {"disk_free_bytes", disk ? json(disk->free_bytes) : json(nullptr)},
               {"disk_total_bytes", disk ? json(disk->total_bytes) : json(nullptr)}}},
             {"feeds", feeds},
             {"releases", releases},
             {"sync", sync},
             {"alerts", Alerts(state, disk, sync, releases)},
             {"history", history}});
}

HttpResponse GetSync(State& state, Call&) { return Ok(SyncJson(state)); }

HttpResponse SyncNow(State& state, Call& call) {
  state.ctx.store->Audit({call.actor(), "admin.sync-now", "", ""}).IgnoreError();
  if (state.ctx.sync == nullptr || !state.ctx.sync->Configured()) {
    return HttpResponse::JsonError(409,
                                   "sync is off: set the upstream URL on the setup page, or "
                                   "sync.enabled, upstream_url and ca_file");
  }
  auto report = state.ctx.sync->RunNow();
  if (!report.ok()) return ErrorResponse(report.status());
  json out = {{"ok", report->failure.ok()}, {"delivered", report->delivered}};
  if (!report->failure.ok()) out["error"] = report->failure.message();
  return Ok(out);
}

std::string MetricsText(State& state) {
  const storage::StoreStats s = state.ctx.store->Stats();
  std::string out;
  auto gauge = [&out](const char* name, const char* help, const std::string& samples) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + samples;
  };
  auto line = [](const char* name, uint64_t v, const std::string& labels = "") {
    return std::string(name) + (labels.empty() ? "" : "{" + labels + "}") + " " +
           std::to_string(v) + "\n";
  };
  gauge("eds_store_records", "Records in the store (estimate).",
        line("eds_store_records", s.records_estimate));
  gauge("eds_store_patients", "Patients with records.", line("eds_store_patients", s.patients));
  gauge("eds_store_disk_bytes", "Bytes of the store's files on disk.",
        line("eds_store_disk_bytes", s.disk_bytes));
  gauge("eds_audit_entries", "Entries in the audit log.",
        line("eds_audit_entries", s.audit_entries));
  std::string by_state;
  for (const auto& [name, n] : ReleasesByState(state)) {
    by_state += line("eds_releases", n, "state=\"" + Label(name) + "\"");
  }
  gauge("eds_releases", "Releases by lifecycle state.", by_state);
  if (state.ctx.outbox != nullptr) {
    const sync::DeliveryState d = state.ctx.outbox->State();
    gauge("eds_outbox_depth", "Releases queued for the upstream.",
          line("eds_outbox_depth", d.queued));
    gauge("eds_sync_consecutive_failures", "Failed delivery attempts since the last success.",
          line("eds_sync_consecutive_failures", d.consecutive_failures));
    out +=
        "# HELP eds_sync_delivered_total Releases delivered upstream.\n"
        "# TYPE eds_sync_delivered_total counter\n" +
        line("eds_sync_delivered_total", d.delivered_total);
    gauge("eds_sync_last_delivery_info", "The last delivery (time as a label; 0 when none).",
          line("eds_sync_last_delivery_info", d.last_delivery_at.empty() ? 0 : 1,
               "at=\"" + Label(d.last_delivery_at) + "\""));
  }
  if (state.ctx.hl7 != nullptr) {
    // Counters: Prometheus derives the rates. FHIR and bulk loads show in eds_store_records.
    const auto& h = state.ctx.hl7->stats();
    out +=
        "# HELP eds_ingest_messages_total HL7 v2 messages by outcome (ACK AA, resent, AE, AR).\n"
        "# TYPE eds_ingest_messages_total counter\n" +
        line("eds_ingest_messages_total", h.accepted.load(), "feed=\"mllp\",outcome=\"accepted\"") +
        line("eds_ingest_messages_total", h.duplicates.load(),
             "feed=\"mllp\",outcome=\"duplicate\"") +
        line("eds_ingest_messages_total", h.errors.load(), "feed=\"mllp\",outcome=\"error\"") +
        line("eds_ingest_messages_total", h.rejected.load(), "feed=\"mllp\",outcome=\"rejected\"");
  }
  if (state.ctx.mllp != nullptr) {
    const ingest::MllpListenerStats m = state.ctx.mllp->stats();
    gauge("eds_mllp_connections", "MLLP connections open now.",
          line("eds_mllp_connections", m.connections_active));
  }
  if (state.ctx.update_status) {
    const json u = state.ctx.update_status();
    std::string trusted;
    for (const char* role : {"root", "timestamp", "snapshot", "targets"}) {
      const json& t = u.contains("trusted") ? u["trusted"] : json::object();
      trusted += line("eds_update_trusted_version",
                      static_cast<uint64_t>(std::max<int64_t>(0, t.value(role, int64_t{0}))),
                      std::string("role=\"") + role + "\"");
    }
    gauge("eds_update_trusted_version", "Version of the trusted TUF metadata of each role.",
          trusted);
    const json& slots = u.contains("slots") ? u["slots"] : json::object();
    const json& last = u.contains("last") ? u["last"] : json::object();
    gauge("eds_update_info", "The firmware installed and the last update (as labels).",
          line("eds_update_info", 1,
               "firmware=\"" + Label(slots.value("installed_version", "")) + "\",pending=\"" +
                   Label(slots.value("pending", "")) + "\",last_at=\"" +
                   Label(last.value("at", "")) + "\""));
  }
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - state.ctx.started);
  gauge("eds_uptime_seconds", "Seconds since edsd started.",
        line("eds_uptime_seconds", static_cast<uint64_t>(uptime.count())));
  return out;
}

}  // namespace eds::webadmin::internal
