// sync_benchmark: the upstream sync's figures, in one process over real HTTPS on loopback: edsd's
// outbox and client on one side, edshub's receiver (its own store and HTTPS server) on the other.
// Run by hand, never by ctest.
//   sync_benchmark --store DIR --pack FILE --period 2019-06 [--runs 5] [--backlog 1000]
//     DIR holds data/ and master.key (32 raw bytes), as `aggregate_benchmark load` makes them;
//     releases are written into it (use a copy).
//     1. Bytes on the wire: one release of the pack for the period, approved and delivered: the
//        Bundle, the HTTP request (headers and body) and the answer.
//     2. Approval to receipt: `runs` times, a release of the pack for another period is computed,
//        then timed from Approve() to the receipt (sign, queue, send, durable delivered state),
//        the work `edsctl release approve` then `edsctl sync now` asks for; median.
//     3. Backlog drain: `backlog` approved releases of a one-measure pack (computing 1 000
//        releases of the full pack would measure the engine, not the outbox) are queued while the
//        upstream is unreachable, then the outbox is drained in order; releases/s.
// One JSON summary line on stdout; exit status 1 on any error.
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aggregate/measure_pack.h"
#include "aggregate/period.h"
#include "aggregate/release.h"
#include "common/clock.h"
#include "common/status_macros.h"
#include "hub/http_api.h"
#include "hub/receiver.h"
#include "storage/store.h"
#include "sync/identity.h"
#include "sync/outbox.h"
#include "sync/upstream_client.h"
#include "webadmin/admin_server.h"
#include "webadmin/tls_certificate.h"

namespace eds {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The month `n` months after `period` (YYYY-MM).
std::string MonthAfter(const std::string& period, int n) {
  int y = std::stoi(period.substr(0, 4));
  int m = std::stoi(period.substr(5, 2)) - 1 + n;
  y += m / 12;
  m %= 12;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", y, m + 1);
  return buf;
}

Status Run(const std::string& store_dir, const std::string& pack_file, const std::string& period,
           int runs, int backlog) {
  std::ifstream key_in(fs::path(store_dir) / "master.key", std::ios::binary);
  std::string key_bytes((std::istreambuf_iterator<char>(key_in)), {});
  EDS_ASSIGN_OR_RETURN(storage::SecretKey master, storage::SecretKey::FromBytes(key_bytes));
  storage::StoreOptions options;
  options.data_dir = (fs::path(store_dir) / "data").string();
  EDS_ASSIGN_OR_RETURN(auto store, storage::Store::Open(options, std::move(master)));
  EDS_ASSIGN_OR_RETURN(aggregate::MeasurePack pack, aggregate::LoadMeasurePack(pack_file));
  aggregate::ReleaseBook book(*store, SystemClock::Get());
  EDS_ASSIGN_OR_RETURN(sync::NodeIdentity identity, sync::NodeIdentity::Load(*store));
  sync::Outbox outbox(*store, book, identity, SystemClock::Get());
  EDS_RETURN_IF_ERROR(outbox.Load());

  // The receiver, with a certificate of its own that the client trusts.
  const fs::path hub_dir = fs::path(store_dir) / "hub";
  fs::remove_all(hub_dir);
  fs::create_directories(hub_dir);
  const std::string cert = (hub_dir / "hub.crt").string();
  const std::string key = (hub_dir / "hub.key").string();
  EDS_RETURN_IF_ERROR(webadmin::EnsureDevCertificate(cert, key, "127.0.0.1"));
  storage::StoreOptions hub_options;
  hub_options.data_dir = (hub_dir / "data").string();
  EDS_ASSIGN_OR_RETURN(auto hub_store,
                       storage::Store::Open(hub_options, storage::SecretKey::Random()));
  hub::Receiver receiver(*hub_store, SystemClock::Get());
  EDS_RETURN_IF_ERROR(receiver.Enrol(identity.PublicKeyBase64(), "bench").status());
  webadmin::AdminServerOptions server_options;
  server_options.bind_address = "127.0.0.1";
  server_options.port = 0;
  server_options.cert_path = cert;
  server_options.key_path = key;
  server_options.max_request_bytes = 16 << 20;
  EDS_ASSIGN_OR_RETURN(auto server,
                       webadmin::AdminServer::Start(server_options, [] { return json{}; }));
  hub::AddRoutes(*server, receiver);
  sync::UpstreamOptions client_options;
  client_options.url = "https://127.0.0.1:" + std::to_string(server->port());
  client_options.ca_file = cert;
  EDS_ASSIGN_OR_RETURN(auto client, sync::UpstreamClient::Create(client_options));

  const aggregate::ReleaseOptions release_options{11, "bench hospital", {}};
  auto approve = [&](const std::string& p,
                     const std::vector<aggregate::MeasurePack>& packs) -> Result<std::string> {
    EDS_ASSIGN_OR_RETURN(aggregate::Release r,
                         book.Compute(packs, p, {}, release_options, "bench"));
    EDS_RETURN_IF_ERROR(book.Approve(r.id, packs, "bench", "benchmark"));
    return r.id;
  };

  // 1. One release of the pack: its size on the wire.
  EDS_ASSIGN_OR_RETURN(std::string first, approve(period, {pack}));
  EDS_ASSIGN_OR_RETURN(size_t queued, outbox.QueueApproved("bench"));
  EDS_ASSIGN_OR_RETURN(sync::DeliveryReport one, outbox.Deliver(*client, 10));
  if (!one.failure.ok() || one.delivered != 1 || queued != 1) {
    return InternalError("first delivery failed: " + one.failure.ToString());
  }
  EDS_ASSIGN_OR_RETURN(aggregate::Release delivered, book.Get(first));

  // 2. Approval to receipt, for releases of the following months.
  std::vector<double> latencies;
  for (int i = 1; i <= runs; ++i) {
    EDS_ASSIGN_OR_RETURN(aggregate::Release r,
                         book.Compute({pack}, MonthAfter(period, i), {}, release_options, "bench"));
    const auto start = Steady::now();
    EDS_RETURN_IF_ERROR(book.Approve(r.id, {pack}, "bench", "benchmark"));
    EDS_RETURN_IF_ERROR(outbox.QueueApproved("bench").status());
    EDS_ASSIGN_OR_RETURN(sync::DeliveryReport report, outbox.Deliver(*client, 10));
    latencies.push_back(Ms(Steady::now() - start));
    if (report.delivered != 1)
      return InternalError("delivery failed: " + report.failure.ToString());
  }

  // 3. A backlog built while the upstream is away, then drained.
  aggregate::MeasurePack small = pack;
  small.id = "bench-small";
  small.measures.resize(1);
  small.measures[0].stratifiers.clear();
  sync::UpstreamOptions away = client_options;
  away.url = "https://127.0.0.1:1";
  EDS_ASSIGN_OR_RETURN(auto unreachable, sync::UpstreamClient::Create(away));
  const auto build_start = Steady::now();
  for (int i = 0; i < backlog; ++i) {
    EDS_RETURN_IF_ERROR(approve(MonthAfter("1900-01", i), {small}).status());
  }
  EDS_ASSIGN_OR_RETURN(size_t backlog_queued, outbox.QueueApproved("bench"));
  const double build_s = Ms(Steady::now() - build_start) / 1000;
  EDS_ASSIGN_OR_RETURN(sync::DeliveryReport offline, outbox.Deliver(*unreachable, 10));
  if (offline.failure.ok()) return InternalError("the unreachable upstream took a release");
  EDS_ASSIGN_OR_RETURN(auto pending, outbox.Pending(1));
  const size_t small_bundle = pending.empty() ? 0 : pending[0].bytes;
  const auto drain_start = Steady::now();
  EDS_ASSIGN_OR_RETURN(sync::DeliveryReport drained,
                       outbox.Deliver(*client, static_cast<size_t>(backlog) + 10));
  const double drain_s = Ms(Steady::now() - drain_start) / 1000;
  if (!drained.failure.ok() || drained.delivered != backlog_queued) {
    return InternalError("drain stopped: " + drained.failure.ToString());
  }
  EDS_ASSIGN_OR_RETURN(auto received, receiver.List());
  for (size_t i = 0; i < received.size(); ++i) {
    if (received[i].sequence != i + 1) return InternalError("the receiver's order is broken");
  }
  server->Stop();

  const json summary = {{"period", period},
                        {"pack", pack.id + "@" + pack.version},
                        {"measures", pack.measures.size()},
                        {"bundle_bytes", delivered.bundle.size()},
                        {"request_bytes", one.request_bytes},
                        {"response_bytes", one.response_bytes},
                        {"approval_to_receipt_ms_median", Median(latencies)},
                        {"approval_to_receipt_ms_all", latencies},
                        {"backlog", backlog_queued},
                        {"backlog_build_s", build_s},
                        {"backlog_bundle_bytes", small_bundle},
                        {"drain_s", drain_s},
                        {"drain_releases_per_s", static_cast<double>(drained.delivered) / drain_s},
                        {"drain_request_bytes", drained.request_bytes},
                        {"received_total", received.size()}};
  std::printf("%s\n", summary.dump().c_str());
  return OkStatus();
}

}  // namespace
}  // namespace eds

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  std::string store, pack, period = "2019-06";
  int runs = 5, backlog = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--store") store = argv[i + 1];
    if (flag == "--pack") pack = argv[i + 1];
    if (flag == "--period") period = argv[i + 1];
    if (flag == "--runs") runs = std::stoi(argv[i + 1]);
    if (flag == "--backlog") backlog = std::stoi(argv[i + 1]);
  }
  if (store.empty() || pack.empty()) {
    std::fputs(
        "usage: sync_benchmark --store DIR --pack FILE [--period P] [--runs N] "
        "[--backlog N]\n",
        stderr);
    return 2;
  }
  eds::Status s = eds::Run(store, pack, period, runs, backlog);
  if (!s.ok()) {
    std::fprintf(stderr, "sync_benchmark: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}
