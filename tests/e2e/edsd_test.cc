// The real edsd process: systemd notify sequence, signals, configuration errors, HTTPS health.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/e2e/edsd_harness.h"
#include "tests/testing/tls_client.h"

namespace eds::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class EdsdTest : public ::testing::Test {
 protected:
  EdsdTest() : port_(FreeLoopbackPort()), notify_(dir_.Sub("notify.sock")) {
    config_ = WriteTestConfig(dir_, port_);
  }

  std::unique_ptr<EdsdProcess> Start(std::vector<std::string> env = {}) {
    env.push_back("NOTIFY_SOCKET=" + notify_.path());
    return std::make_unique<EdsdProcess>(BuiltBinary("edsd"),
                                         std::vector<std::string>{"--config", config_}, env,
                                         dir_.Sub("edsd.log"));
  }

  TempDir dir_;
  uint16_t port_;
  NotifySocket notify_;
  std::string config_;
};

TEST_F(EdsdTest, NotifiesReadyWatchdogAndStoppingAndExitsCleanlyOnSigterm) {
  auto edsd = Start({"WATCHDOG_USEC=400000"});
  std::vector<std::string> seen;
  ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), &seen)) << edsd->Log();
  // STATUS lines come before READY: the store opened, then the listeners started.
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[0], "STATUS=opening the store");
  EXPECT_NE(std::find(seen.begin(), seen.end(), "STATUS=starting the admin server"), seen.end());
  // The admin server answers as soon as READY was sent.
  TlsHttpClient client({});
  auto health = client.Request(port_, "GET", "/api/health");
  ASSERT_TRUE(health.ok()) << health.status().ToString();
  EXPECT_EQ(health->status, 200);

  // Pings at half of WATCHDOG_USEC: at least two in a second.
  int pings = 0;
  const auto until = std::chrono::steady_clock::now() + seconds(1);
  while (std::chrono::steady_clock::now() < until) {
    auto m = notify_.Receive(milliseconds(300));
    if (m && *m == "WATCHDOG=1") ++pings;
  }
  EXPECT_GE(pings, 2);

  const auto stop_started = std::chrono::steady_clock::now();
  edsd->Signal(SIGTERM);
  seen.clear();
  EXPECT_TRUE(notify_.WaitFor("STOPPING=1", seconds(5), &seen));
  auto status = edsd->WaitExit(seconds(5));
  ASSERT_TRUE(status.has_value()) << "edsd did not exit within 5 s";
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, seconds(5));
  EXPECT_NE(edsd->Log().find("stopped"), std::string::npos);
}

TEST_F(EdsdTest, SigintStopsLikeSigterm) {
  auto edsd = Start();
  ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << edsd->Log();
  edsd->Signal(SIGINT);
  auto status = edsd->WaitExit(seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST_F(EdsdTest, SighupAppliesLogLevelAndNamesSettingsThatNeedARestart) {
  auto edsd = Start();
  ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << edsd->Log();
  {
    std::ofstream out(config_);
    out << "[storage]\ndata_dir = \"data\"\nmaster_key_file = \"master.key\"\n"
        << "create_master_key_file = true\n[admin]\nbind = \"127.0.0.1\"\nport = " << port_
        << "\ntls_cert = \"tls/admin.crt\"\ntls_key = \"tls/admin.key\"\n"
        << "generate_dev_certificate = true\nthreads = 3\n[control]\nsocket = \"edsd.sock\"\n"
        << "[log]\nlevel = \"warning\"\n";
  }
  edsd->Signal(SIGHUP);
  std::vector<std::string> seen;
  ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(5), &seen));
  // RELOADING=1 (with MONOTONIC_USEC) precedes the READY=1 that ends the reload.
  EXPECT_NE(std::find_if(seen.begin(), seen.end(),
                         [](const std::string& m) { return m.rfind("RELOADING=1\n", 0) == 0; }),
            seen.end());
  EXPECT_TRUE(edsd->WaitForLog("needs a restart: admin.threads", seconds(5))) << edsd->Log();
  EXPECT_NE(edsd->Log().find("setting applied: log.level"), std::string::npos);

  // A broken file on reload keeps the running settings and says why.
  { std::ofstream(config_) << "[admin]\nport = \"eighty\"\n"; }
  edsd->Signal(SIGHUP);
  EXPECT_TRUE(edsd->WaitForLog("admin.port", seconds(5))) << edsd->Log();
  TlsHttpClient client({});
  EXPECT_TRUE(client.Request(port_, "GET", "/api/health").ok());
  edsd->Signal(SIGTERM);
  ASSERT_TRUE(edsd->WaitExit(seconds(5)).has_value());
}

TEST_F(EdsdTest, BadConfigStopsStartUpNamingKeyAndLine) {
  { std::ofstream(config_) << "[storage]\ndata_dir = \"data\"\n\n[admin]\nport = 70000\n"; }
  auto edsd = Start();
  auto status = edsd->WaitExit(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 78);
  EXPECT_NE(edsd->Log().find("edsd.toml:5: admin.port: 70000 is out of range 1..65535"),
            std::string::npos)
      << edsd->Log();
  EXPECT_FALSE(notify_.Receive(milliseconds(100)).has_value()) << "no READY for a bad config";
}

TEST_F(EdsdTest, HealthAnswersJsonOverTls12AndTls13Only) {
  auto edsd = Start();
  ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << edsd->Log();
  TlsClientOptions pinned;
  pinned.trusted_cert_path = dir_.Sub("tls/admin.crt");  // the generated dev certificate
  auto reply = TlsHttpClient(pinned).Request(port_, "GET", "/api/health");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->tls_version, "TLSv1.3");
  auto j = nlohmann::json::parse(reply->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["store"]["state"], "open");
  EXPECT_TRUE(j.contains("version"));
  EXPECT_TRUE(j["uptime_s"].is_number());

  TlsClientOptions tls12;
  tls12.max_version = 0x0303;  // TLS1_2_VERSION
  auto r12 = TlsHttpClient(tls12).Request(port_, "GET", "/api/health");
  ASSERT_TRUE(r12.ok());
  EXPECT_EQ(r12->tls_version, "TLSv1.2");
  TlsClientOptions tls11;
  tls11.max_version = 0x0302;  // TLS1_1_VERSION
  tls11.allow_legacy = true;
  EXPECT_FALSE(TlsHttpClient(tls11).Handshake(port_).ok());
  edsd->Signal(SIGTERM);
  ASSERT_TRUE(edsd->WaitExit(seconds(5)).has_value());
}

TEST_F(EdsdTest, SecondDaemonOnTheSameDataDirIsRefused) {
  auto first = Start();
  ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << first->Log();
  TempDir other;
  EdsdProcess second(BuiltBinary("edsd"), {"--config", config_}, {}, other.Sub("log"));
  auto status = second.WaitExit(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(WEXITSTATUS(*status), 0);
  TlsHttpClient client({});
  EXPECT_TRUE(client.Request(port_, "GET", "/api/health").ok()) << "the first keeps running";
}

}  // namespace
}  // namespace eds::testing
