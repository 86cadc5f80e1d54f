// The admin UI in a real browser against the real edsd: tests/clients/admin_ui.mjs drives
// Debian's Chromium headless through playwright-core. Screenshots of every page are kept in the
// build tree (tests/e2e/admin_ui_screenshots) as artifacts.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/e2e/edsd_harness.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"
#include "tests/testing/tls_client.h"

namespace eds::testing {
namespace {

using std::chrono::seconds;

TEST(AdminUiTest, SetupLockoutTokensAndReviewInHeadlessChromium) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium"))
      << "Chromium is missing: run scripts/setup.sh (as root)";
  ASSERT_TRUE(std::filesystem::exists(SourcePath("tests/clients/node_modules/playwright-core")))
      << "playwright-core is missing: run scripts/setup.sh (npm ci in tests/clients)";
  TempDir dir;
  NotifySocket notify(dir.Sub("notify.sock"));
  const uint16_t port = FreeLoopbackPort();
  // Releases go to an edshub on loopback; only "send now" on the page delivers (the schedule is
  // once a year).
  const auto ca = MakeTestCa(dir.path(), "ca");
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  const auto hub_cert = MakeServerCert(dir.path(), "hub", *ca, "127.0.0.1");
  ASSERT_TRUE(hub_cert.ok()) << hub_cert.status().ToString();
  const uint16_t hub_port = FreeLoopbackPort();
  uint16_t mllp_port = 0;
  const std::string config = WriteTestConfig(
      dir, port,
      "[sync]\nenabled = true\nupstream_url = \"https://127.0.0.1:" + std::to_string(hub_port) +
          "\"\nca_file = \"" + ca->cert_path +
          "\"\nschedule = \"0 0 1 1 *\"\njitter_s = 0\nretry_initial_s = 1\nretry_max_s = 2\n",
      &mllp_port);
  EdsdProcess edsd(BuiltBinary("edsd"), {"--config", config}, {"NOTIFY_SOCKET=" + notify.path()},
                   dir.Sub("edsd.log"));
  ASSERT_TRUE(notify.WaitFor("READY=1", seconds(30), nullptr)) << edsd.Log();
  const CommandResult identity =
      RunCommand({BuiltBinary("edsctl"), "--config", config, "--json", "identity"}, seconds(30));
  ASSERT_EQ(identity.exit_code, 0) << identity.output;
  const std::vector<std::string> hub_base = {BuiltBinary("edshub"), "--data-dir", dir.Sub("hub"),
                                             "--key-file", dir.Sub("hub-master.key")};
  std::vector<std::string> enrol = hub_base;
  enrol.insert(enrol.end(),
               {"enrol", nlohmann::json::parse(identity.output)["public_key"].get<std::string>()});
  const CommandResult enrolled = RunCommand(enrol, seconds(30));
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.output;
  std::vector<std::string> serve(hub_base.begin() + 1, hub_base.end());
  serve.insert(serve.end(), {"serve", "--cert", hub_cert->cert_path, "--key", hub_cert->key_path,
                             "--port", std::to_string(hub_port)});
  EdsdProcess hub(hub_base[0], serve, {}, dir.Sub("hub.log"));
  ASSERT_TRUE(hub.WaitForLog("listening on", seconds(20))) << hub.Log();

  // Data for a release with masked cells: three outpatient visits in February 1990.
  std::vector<std::string> import = {
      BuiltBinary("edsctl"), "--config", config, "import", "--report", dir.Sub("import.tsv")};
  for (const char* f : {"Patient.000.ndjson", "Encounter.000.ndjson.gz"}) {
    import.push_back(SourcePath(std::string("tests/data/fhir/bulk/") + f).string());
  }
  const CommandResult imported = RunCommand(import, seconds(60));
  ASSERT_EQ(imported.exit_code, 0) << imported.output;

  std::smatch m;
  const std::string log = edsd.Log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("setup token ([0-9a-f]{64})"))) << log;
  const std::string out_dir = EDS_UI_ARTIFACTS_DIR;
  std::filesystem::remove_all(out_dir);
  const CommandResult run = RunCommand(
      {"/usr/bin/node", SourcePath("tests/clients/admin_ui.mjs").string(),
       "https://127.0.0.1:" + std::to_string(port), m[1].str(), out_dir, "1990-02",
       "https://127.0.0.1:" + std::to_string(hub_port), ca->cert_path, std::to_string(mllp_port)},
      seconds(150));
  EXPECT_EQ(run.exit_code, 0) << run.output << "\n--- edsd log ---\n" << edsd.Log();
  for (const char* shot : {"setup", "login", "login-locked", "dashboard", "feeds", "system",
                           "release-admin", "audit", "release-review", "release-approved",
                           "objections", "objections-en", "sync-sent", "release-delivered"}) {
    EXPECT_TRUE(std::filesystem::exists(out_dir + "/" + shot + ".png")) << shot;
  }
  // The hub holds exactly the release the page sent.
  TlsClientOptions to_hub;
  to_hub.trusted_cert_path = hub_cert->cert_path;
  auto received = TlsHttpClient(to_hub).Request(hub_port, "GET", "/releases");
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  const auto releases = nlohmann::json::parse(received->body, nullptr, false);
  EXPECT_TRUE(releases.is_array() && releases.size() == 1) << received->body;
  edsd.Signal(SIGTERM);
  EXPECT_TRUE(edsd.WaitExit(seconds(10)).has_value());
  hub.Signal(SIGTERM);
  EXPECT_TRUE(hub.WaitExit(seconds(10)).has_value()) << hub.Log();
}

}  // namespace
}  // namespace eds::testing
