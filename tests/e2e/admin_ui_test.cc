// The admin UI in a real browser against the real edsd: tests/clients/admin_ui.mjs drives
// Debian's Chromium headless through playwright-core. Screenshots of every page are kept in the
// build tree (tests/e2e/admin_ui_screenshots) as artifacts.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <regex>

#include "tests/e2e/edsd_harness.h"
#include "tests/testing/temp_dir.h"

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
  const std::string config = WriteTestConfig(dir, port);
  EdsdProcess edsd(BuiltBinary("edsd"), {"--config", config}, {"NOTIFY_SOCKET=" + notify.path()},
                   dir.Sub("edsd.log"));
  ASSERT_TRUE(notify.WaitFor("READY=1", seconds(30), nullptr)) << edsd.Log();

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
  const CommandResult run =
      RunCommand({"/usr/bin/node", SourcePath("tests/clients/admin_ui.mjs").string(),
                  "https://127.0.0.1:" + std::to_string(port), m[1].str(), out_dir, "1990-02"},
                 seconds(150));
  EXPECT_EQ(run.exit_code, 0) << run.output << "\n--- edsd log ---\n" << edsd.Log();
  for (const char* shot :
       {"setup", "login", "login-locked", "dashboard", "feeds", "system", "release-admin", "audit",
        "release-review", "release-approved", "objections", "objections-en"}) {
    EXPECT_TRUE(std::filesystem::exists(out_dir + "/" + shot + ".png")) << shot;
  }
  edsd.Signal(SIGTERM);
  EXPECT_TRUE(edsd.WaitExit(seconds(10)).has_value());
}

}  // namespace
}  // namespace eds::testing
