// Upstream sync with the real binaries: edsd delivers approved releases to edshub over HTTPS on
// loopback, through a proxy that injects faults; the delivery loop retries by itself; a SIGKILL of
// edsd in the middle of a delivery, or after the receiver stored a release whose answer was lost,
// still gives each approved release exactly once, in order, and nothing unapproved arrives.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "sync/upstream_client.h"
#include "tests/e2e/edsd_harness.h"
#include "tests/testing/fault_proxy.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"
#include "tests/testing/tls_client.h"

namespace eds::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

class SyncE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = MakeTestCa(dir_.path(), "ca").value();
    hub_cert_ = MakeServerCert(dir_.path(), "hub", ca_, "127.0.0.1").value();
  }
  void TearDown() override {
    if (edsd_) {
      edsd_->Signal(SIGTERM);
      EXPECT_TRUE(edsd_->WaitExit(seconds(10)).has_value()) << edsd_->Log();
    }
    if (hub_) {
      hub_->Signal(SIGTERM);
      EXPECT_TRUE(hub_->WaitExit(seconds(10)).has_value()) << hub_->Log();
    }
  }

  void StartEdsd(uint16_t upstream_port) {
    if (config_.empty() && upstream_port == 0) {
      config_ = WriteTestConfig(dir_, admin_port_);
    } else if (config_.empty()) {
      config_ = WriteTestConfig(
          dir_, admin_port_,
          "[sync]\nenabled = true\nupstream_url = \"https://127.0.0.1:" +
              std::to_string(upstream_port) + "\"\nca_file = \"" + ca_.cert_path +
              "\"\nschedule = \"0 0 1 1 *\"\njitter_s = 0\nretry_initial_s = 1\n"
              "retry_max_s = 2\nread_timeout_ms = 3000\ntotal_timeout_ms = 10000\n");
    }
    NotifySocket notify(dir_.Sub("notify-" + std::to_string(++starts_) + ".sock"));
    edsd_ = std::make_unique<EdsdProcess>(
        BuiltBinary("edsd"), std::vector<std::string>{"--config", config_},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify.path()},
        dir_.Sub("edsd-" + std::to_string(starts_) + ".log"));
    ASSERT_TRUE(notify.WaitFor("READY=1", seconds(20), nullptr)) << edsd_->Log();
  }

  // Enrols the node of `identity` (edsctl identity) and serves releases on hub_port_.
  void StartHub(const json& identity) {
    const std::vector<std::string> base = {BuiltBinary("edshub"), "--data-dir", dir_.Sub("hub"),
                                           "--key-file", dir_.Sub("hub-master.key")};
    std::vector<std::string> enrol = base;
    enrol.insert(enrol.end(), {"enrol", identity["public_key"].get<std::string>()});
    const auto enrolled = RunCommand(enrol, seconds(30));
    ASSERT_EQ(enrolled.exit_code, 0) << enrolled.output;
    EXPECT_EQ(enrolled.output, identity["node_id"].get<std::string>() + "\n");
    hub_ = std::make_unique<EdsdProcess>(
        base[0],
        std::vector<std::string>{base[1], base[2], base[3], base[4], "serve", "--cert",
                                 hub_cert_.cert_path, "--key", hub_cert_.key_path, "--port",
                                 std::to_string(hub_port_)},
        std::vector<std::string>{}, dir_.Sub("hub.log"));
    ASSERT_TRUE(hub_->WaitForLog("listening on", seconds(20))) << hub_->Log();
  }

  CommandResult Edsctl(std::vector<std::string> args) {
    args.insert(args.begin(), {BuiltBinary("edsctl"), "--config", config_});
    return RunCommand(args, seconds(60));
  }
  json EdsctlJson(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    const auto r = Edsctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return json::parse(r.output, nullptr, false);
  }
  void ComputeAndApprove(const std::string& period, bool approve = true) {
    const auto computed = EdsctlJson({"release", "compute", period});
    ASSERT_EQ(computed.value("state", ""), "checked") << computed.dump();
    if (!approve) return;
    const auto approved = Edsctl({"release", "approve", computed["id"].get<std::string>(),
                                  "--reviewer", "dpo", "--comment", "tables checked"});
    ASSERT_EQ(approved.exit_code, 0) << approved.output;
  }
  // What the receiver holds, through its HTTPS listing.
  json Received() {
    TlsClientOptions o;
    o.trusted_cert_path = hub_cert_.cert_path;
    TlsHttpClient client(o);
    auto reply = client.Request(hub_port_, "GET", "/releases");
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return json::array();
    return json::parse(reply->body, nullptr, false);
  }
  bool WaitReceived(size_t n, seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (Received().size() >= n) return true;
      std::this_thread::sleep_for(milliseconds(200));
    }
    return false;
  }

  TempDir dir_;
  CertFiles ca_;
  CertFiles hub_cert_;
  std::string config_;
  int starts_ = 0;
  uint16_t hub_port_ = 0;
  uint16_t admin_port_ = FreeLoopbackPort();
  std::unique_ptr<EdsdProcess> edsd_;
  std::unique_ptr<EdsdProcess> hub_;
};

TEST_F(SyncE2eTest, ApprovedReleasesArriveExactlyOnceThroughFaultsAndCrashes) {
  // The proxy's port is known before the hub's: start it towards a port fixed now.
  hub_port_ = FreeLoopbackPort();
  auto proxy = FaultProxy::Start(hub_port_).value();
  StartEdsd(proxy->port());
  const json identity = EdsctlJson({"identity"});
  ASSERT_EQ(identity.value("node_id", "").rfind("node-", 0), 0u) << identity.dump();

  StartHub(identity);

  // 1. The upstream answers 503: the release waits, the reason is shown, and the loop retries by
  //    itself once the upstream is back.
  ComputeAndApprove("2025-01");
  ComputeAndApprove("2025-06", /*approve=*/false);
  ASSERT_TRUE(proxy->SetMode(FaultConfig::HttpStatus(503, hub_cert_)).ok());
  const auto failed = Edsctl({"sync", "now"});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.output.find("HTTP 503"), std::string::npos) << failed.output;
  const json status = EdsctlJson({"sync", "status"});
  EXPECT_EQ(status["queued"], 1);
  EXPECT_NE(status["last_error"].get<std::string>().find("503"), std::string::npos);
  const auto shown = Edsctl({"sync", "status"});
  EXPECT_NE(shown.output.find("last failure"), std::string::npos) << shown.output;
  ASSERT_TRUE(proxy->SetMode(FaultConfig::Pass()).ok());
  ASSERT_TRUE(WaitReceived(1, seconds(20))) << edsd_->Log();

  // 2. SIGKILL while a delivery is held up on the way: after a restart it goes, once.
  ComputeAndApprove("2025-02");
  ASSERT_TRUE(proxy->SetMode(FaultConfig::Delay(milliseconds(4000))).ok());
  std::thread pending([this] { Edsctl({"sync", "now"}); });
  std::this_thread::sleep_for(milliseconds(800));
  edsd_->Signal(SIGKILL);
  ASSERT_TRUE(edsd_->WaitExit(seconds(5)).has_value());
  pending.join();
  ASSERT_TRUE(proxy->SetMode(FaultConfig::Pass()).ok());
  StartEdsd(proxy->port());
  ASSERT_EQ(Edsctl({"sync", "now"}).exit_code, 0);
  EXPECT_EQ(Received().size(), 2u);

  // 3. The receiver stores the release but its answer is cut; edsd is killed before it retries.
  //    After the restart the resend is a duplicate: the receiver keeps one copy.
  ComputeAndApprove("2025-03");
  // A short answer's size through the proxy, handshake included, puts the cut inside the body of
  // the longer answer that carries the receipt.
  sync::UpstreamOptions probe_options;
  probe_options.url = "https://127.0.0.1:" + std::to_string(proxy->port());
  probe_options.ca_file = ca_.cert_path;
  auto probe = sync::UpstreamClient::Create(probe_options).value();
  const uint64_t before = proxy->ResponseBytes();
  ASSERT_EQ(probe->Post("/releases", {}, "application/fhir+json", "{}").value().status, 400);
  const size_t cut = static_cast<size_t>(proxy->ResponseBytes() - before) - 10;
  ASSERT_TRUE(proxy->SetMode(FaultConfig::CutResponse(cut)).ok());
  EXPECT_NE(Edsctl({"sync", "now"}).exit_code, 0);
  EXPECT_EQ(Received().size(), 3u);  // stored upstream, though edsd never heard back
  EXPECT_EQ(EdsctlJson({"sync", "status"})["queued"], 1);
  edsd_->Signal(SIGKILL);
  ASSERT_TRUE(edsd_->WaitExit(seconds(5)).has_value());
  ASSERT_TRUE(proxy->SetMode(FaultConfig::Pass()).ok());
  StartEdsd(proxy->port());
  ASSERT_EQ(Edsctl({"sync", "now"}).exit_code, 0);

  const json received = Received();
  ASSERT_EQ(received.size(), 3u) << received.dump();
  const std::vector<std::string> periods = {"2025-01", "2025-02", "2025-03"};
  for (size_t i = 0; i < received.size(); ++i) {
    EXPECT_EQ(received[i]["sequence"], i + 1);
    EXPECT_EQ(received[i]["period"], periods[i]);
    EXPECT_EQ(received[i]["node_id"], identity["node_id"]);
  }
  const json final_status = EdsctlJson({"sync", "status"});
  EXPECT_EQ(final_status["queued"], 0);
  const json releases = EdsctlJson({"release", "list"});
  for (const auto& r : releases["releases"]) {
    EXPECT_EQ(r["state"], r["period"] == "2025-06" ? "checked" : "delivered") << r.dump();
  }
}

// No [sync] in the config file: the first-boot setup page's upstream URL and CA configure the
// running node, and the next `sync now` delivers.
TEST_F(SyncE2eTest, TheSetupPageConfiguresTheUpstream) {
  StartEdsd(0);
  const json identity = EdsctlJson({"identity"});
  EXPECT_EQ(EdsctlJson({"sync", "status"})["enabled"], false);
  hub_port_ = FreeLoopbackPort();
  StartHub(identity);
  ComputeAndApprove("2025-01");

  std::smatch m;
  const std::string log = edsd_->Log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("setup token ([0-9a-f]{64})"))) << log;
  std::ifstream ca_in(ca_.cert_path);
  const std::string ca_pem((std::istreambuf_iterator<char>(ca_in)), {});
  const json setup = {
      {"token", m[1].str()},
      {"admin", {{"name", "it-admin"}, {"password", "Sx9!upstream-setup"}, {"language", "fr"}}},
      {"settings",
       {{"hospital_name", "CH Test"},
        {"time_zone", "Europe/Paris"},
        {"upstream_url", "https://127.0.0.1:" + std::to_string(hub_port_)},
        {"upstream_ca_pem", ca_pem},
        {"schedule", "0 6 * * *"}}}};
  TlsHttpClient client(TlsClientOptions{});
  auto reply = client.Request(admin_port_, "POST", "/api/setup", setup.dump(),
                              "Content-Type: application/json\r\n");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  ASSERT_EQ(reply->status, 200) << reply->body;

  EXPECT_EQ(EdsctlJson({"sync", "status"})["enabled"], true);
  const auto sent = Edsctl({"sync", "now"});
  ASSERT_EQ(sent.exit_code, 0) << sent.output << edsd_->Log();
  ASSERT_EQ(Received().size(), 1u);
  // After a restart the saved settings still hold.
  edsd_->Signal(SIGTERM);
  ASSERT_TRUE(edsd_->WaitExit(seconds(10)).has_value());
  StartEdsd(0);
  EXPECT_EQ(EdsctlJson({"sync", "status"})["enabled"], true);
}

}  // namespace
}  // namespace eds::testing
