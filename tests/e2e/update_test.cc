// Signed updates through the real daemon: a repository made with eds-update-sign (the operator's
// tool), taken as an offline bundle by `edsctl update apply` and over HTTPS by `edsctl update
// poll`. A tampered bundle installs nothing; a verified measure pack is used by the next release;
// a firmware goes to the other slot and is committed after its health check on the next start,
// or rolled back when the check fails; a version not above the installed one is refused.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "common/encoding.h"
#include "tests/e2e/edsd_harness.h"
#include "tests/storage/store_fixture.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"
#include "tests/testing/tls_client.h"
#include "webadmin/admin_server.h"

namespace eds::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kPack[] = R"({"pack":"update-test","version":"1.1.0","title":"Update test",
  "measures":[{"url":"urn:eds:test:stays","version":"1","title":"Stays","count":"events",
  "population":{"resource":"Encounter"},"stratifiers":[]}]})";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void WriteAll(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

class UpdateE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "packs");
    fs::copy_file(SourcePath("packs/eds-default.json"), dir_.path() / "packs/eds-default.json");
    for (const char* role : {"root", "targets", "snapshot", "timestamp"}) {
      const std::string key = dir_.Sub(std::string(role) + "-signing.key");
      ASSERT_EQ(Sign({"keygen", key}).exit_code, 0);
      keys_.insert(keys_.end(), {std::string("--") + role + "-key", key});
    }
    std::vector<std::string> init = {"init", "--repo", repo_.string()};
    init.insert(init.end(), keys_.begin(), keys_.end());
    const auto r = Sign(init);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The root that ships with the image.
    fs::copy_file(repo_ / "metadata/1.root.json", dir_.path() / "tuf-root.json");
  }
  void TearDown() override {
    if (edsd_) {
      edsd_->Signal(SIGTERM);
      EXPECT_TRUE(edsd_->WaitExit(seconds(10)).has_value()) << edsd_->Log();
    }
    if (server_) server_->Stop();
  }

  CommandResult Sign(std::vector<std::string> args) {
    args.insert(args.begin(), BuiltBinary("eds-update-sign"));
    return RunCommand(args, seconds(60));
  }
  void AddTarget(const std::string& name, const std::string& content, const std::string& kind,
                 const std::string& version) {
    const fs::path file = dir_.path() / ("target-" + version);
    WriteAll(file, content);
    std::vector<std::string> args = {"add-target", "--repo",    repo_.string(), "--name",
                                     name,         "--file",    file.string(),  "--kind",
                                     kind,         "--version", version};
    args.insert(args.end(), keys_.begin() + 2, keys_.end());  // the root key stays offline
    const auto r = Sign(args);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  std::string Bundle(const std::string& name) {
    const std::string out = dir_.Sub(name);
    const auto r = Sign({"bundle", "--repo", repo_.string(), "--out", out});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return out;
  }
  void StartEdsd(const std::string& extra) {
    if (config_.empty()) config_ = WriteTestConfig(dir_, FreeLoopbackPort(), extra);
    NotifySocket notify(dir_.Sub("notify-" + std::to_string(++starts_) + ".sock"));
    edsd_ = std::make_unique<EdsdProcess>(
        BuiltBinary("edsd"), std::vector<std::string>{"--config", config_},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify.path()},
        dir_.Sub("edsd-" + std::to_string(starts_) + ".log"));
    ASSERT_TRUE(notify.WaitFor("READY=1", seconds(20), nullptr)) << edsd_->Log();
  }
  void Restart() {
    edsd_->Signal(SIGTERM);
    ASSERT_TRUE(edsd_->WaitExit(seconds(10)).has_value());
    StartEdsd("");
  }
  CommandResult Edsctl(std::vector<std::string> args) {
    args.insert(args.begin(), {BuiltBinary("edsctl"), "--config", config_});
    return RunCommand(args, seconds(60));
  }
  json Status() {
    const auto r = Edsctl({"--json", "update", "status"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return json::parse(r.output, nullptr, false);
  }
  // Waits until the firmware slots have no pending slot (the boot confirmation ran).
  json SettledSlots() {
    for (int i = 0; i < 100; ++i) {
      const json s = Status();
      if (s["slots"].value("pending", "x").empty()) return s["slots"];
      std::this_thread::sleep_for(milliseconds(100));
    }
    return Status()["slots"];
  }
  std::vector<std::string> PacksOfARelease(const std::string& period) {
    const auto r = Edsctl({"--json", "release", "compute", period});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return json::parse(r.output)["packs"].get<std::vector<std::string>>();
  }

  // The store's format marker, and how many record values of each first byte it holds (edsd
  // stopped): envelopes by version, blocks (envelopes of version 2), references (0x80); `set`
  // replaces the marker first.
  std::string StoreFormat(std::map<int, int>* versions = nullptr, const std::string& set = "") {
    storage::RawDb raw(dir_.Sub("data"));
    EXPECT_TRUE(raw.ok());
    auto* meta = raw.cf(storage::internal::Cf::kMeta);
    if (!set.empty()) {
      EXPECT_TRUE(raw.db()->Put({}, meta, storage::internal::kFormatKey, set).ok());
    }
    std::string format;
    EXPECT_TRUE(raw.db()->Get({}, meta, storage::internal::kFormatKey, &format).ok());
    if (versions != nullptr) {
      for (const auto& [key, value] : raw.All(storage::internal::Cf::kRecords)) {
        ++(*versions)[static_cast<uint8_t>(value.at(0))];
      }
    }
    return format;
  }
  void Stop() {
    edsd_->Signal(SIGTERM);
    ASSERT_TRUE(edsd_->WaitExit(seconds(10)).has_value());
  }

  TempDir dir_;
  fs::path repo_ = dir_.path() / "repo";
  std::vector<std::string> keys_;
  std::string config_;
  int starts_ = 0;
  std::unique_ptr<EdsdProcess> edsd_;
  std::unique_ptr<webadmin::AdminServer> server_;
  const std::string aggregate_ = "[aggregate]\npacks_dir = \"packs\"\nreporter = \"CH\"\n\n";
};

TEST_F(UpdateE2eTest, OfflineBundlesInstallPacksAndFirmwareWithRollback) {
  AddTarget("packs/update-test.json", kPack, "measure-pack", "1.1.0");
  const std::string bundle = Bundle("packs.bundle");
  StartEdsd(aggregate_);
  ASSERT_EQ(Edsctl({"self-test"}).exit_code, 0);

  // One changed byte of the pack inside the bundle: nothing is installed.
  std::string bytes = ReadAll(bundle);
  const size_t at = bytes.find("Update test");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'u';
  WriteAll(dir_.path() / "tampered.bundle", bytes);
  const auto refused = Edsctl({"update", "apply", dir_.Sub("tampered.bundle")});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_.path() / "packs/update-test.json"));
  EXPECT_EQ(PacksOfARelease("2025-01"), std::vector<std::string>{"eds-default@1.0.0"});

  const auto applied = Edsctl({"update", "apply", bundle});
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  EXPECT_NE(applied.output.find("installed packs/update-test.json 1.1.0"), std::string::npos)
      << applied.output;
  EXPECT_TRUE(fs::exists(dir_.path() / "packs/update-test.json"));
  const auto packs = PacksOfARelease("2025-02");
  EXPECT_NE(std::find(packs.begin(), packs.end(), "update-test@1.1.0"), packs.end());
  const auto again = Edsctl({"update", "apply", bundle});
  EXPECT_NE(again.output.find("already installed"), std::string::npos) << again.output;
  EXPECT_GE(Status()["trusted"]["targets"].get<int>(), 1);

  // Firmware 9.9.9 goes to slot B and is committed on the next start by the health check.
  AddTarget("firmware.img", std::string(200000, 'f'), "firmware", "9.9.9");
  ASSERT_EQ(Edsctl({"update", "apply", Bundle("fw1.bundle")}).exit_code, 0);
  EXPECT_EQ(Status()["slots"]["pending"], "B");
  Restart();
  json slots = SettledSlots();
  EXPECT_EQ(slots["committed"], "B");
  EXPECT_EQ(slots["booted"], "B");
  EXPECT_EQ(slots["installed_version"], "9.9.9");

  // Firmware 9.9.10 fails its health check on the next start: back to B and 9.9.9. The store is
  // made as an edsd of the first store format left it: while the new firmware is on trial, what
  // it writes stays in envelopes that edsd reads.
  AddTarget("firmware.img", std::string(200000, 'g'), "firmware", "9.9.10");
  ASSERT_EQ(Edsctl({"update", "apply", Bundle("fw2.bundle")}).exit_code, 0);
  EXPECT_EQ(Status()["slots"]["pending"], "A");
  Stop();
  std::map<int, int> before;
  EXPECT_EQ(StoreFormat(&before, "1"), "1");
  std::string text = ReadAll(config_);
  const size_t hc = text.find("health_check = ");
  ASSERT_NE(hc, std::string::npos);
  const std::string good_check = text.substr(hc, text.find('\n', hc) - hc);
  text.replace(hc, good_check.size(), "health_check = \"/bin/false\"");
  WriteAll(config_, text);
  StartEdsd("");
  const std::string import = dir_.Sub("trial.ndjson");
  WriteAll(import, R"({"resourceType":"Organization","id":"on-trial","name":"Trial"})"
                   "\n");
  const auto imported = Edsctl({"import", import});
  EXPECT_EQ(imported.exit_code, 0) << imported.output;
  slots = SettledSlots();
  EXPECT_EQ(slots["committed"], "B");
  EXPECT_EQ(slots["installed_version"], "9.9.9");
  EXPECT_TRUE(edsd_->WaitForLog("rolled back", seconds(10))) << edsd_->Log();
  Stop();
  std::map<int, int> on_trial;
  EXPECT_EQ(StoreFormat(&on_trial), "1");
  EXPECT_EQ(on_trial[2], before[2]);
  EXPECT_EQ(on_trial[storage::internal::kRecordRefTag], before[storage::internal::kRecordRefTag]);
  EXPECT_GT(on_trial[1], before[1]);

  // Back on the committed firmware, with nothing pending: the store takes the newest format.
  WriteAll(config_,
           text.replace(hc, std::string("health_check = \"/bin/false\"").size(), good_check));
  StartEdsd("");
  EXPECT_TRUE(edsd_->WaitForLog("store format 3", seconds(20))) << edsd_->Log();
  const std::string later = dir_.Sub("later.ndjson");
  WriteAll(later, R"({"resourceType":"Organization","id":"later","name":"Later"})"
                  "\n"
                  R"({"resourceType":"Organization","id":"later2","name":"Later 2"})"
                  "\n");
  EXPECT_EQ(Edsctl({"import", later}).exit_code, 0);
  Stop();
  std::map<int, int> committed;
  EXPECT_EQ(StoreFormat(&committed), "3");
  // The import's two resources, both filed under no patient, share a block; its progress, which
  // every chunk rewrites, is sealed alone.
  EXPECT_GT(committed[2], on_trial[2]);
  EXPECT_EQ(committed[storage::internal::kRecordRefTag],
            on_trial[storage::internal::kRecordRefTag] + 2);
  StartEdsd("");

  // Never a version below the installed one.
  AddTarget("firmware.img", std::string(1000, 'h'), "firmware", "1.0.0");
  const auto lower = Edsctl({"update", "apply", Bundle("fw3.bundle")});
  EXPECT_NE(lower.exit_code, 0);
  EXPECT_NE(lower.output.find("refusing"), std::string::npos) << lower.output;
}

// The admin page's upload: a bundle sent through the HTTPS API by a signed-in admin is verified
// and installed like one given to edsctl; a tampered one is refused with the reason.
TEST_F(UpdateE2eTest, AnAdminUploadsABundleThroughTheWebAdmin) {
  AddTarget("packs/update-test.json", kPack, "measure-pack", "1.1.0");
  const std::string bundle = ReadAll(Bundle("web.bundle"));
  const uint16_t port = FreeLoopbackPort();
  config_ = WriteTestConfig(dir_, port, aggregate_);
  StartEdsd("");
  std::smatch m;
  const std::string log = edsd_->Log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("setup token ([0-9a-f]{64})"))) << log;
  TlsHttpClient client(TlsClientOptions{});
  auto call = [&](const std::string& method, const std::string& path, const json& body,
                  const std::string& cookie, const std::string& csrf) {
    std::string headers = "Content-Type: application/json\r\n";
    if (!cookie.empty()) headers += "Cookie: " + cookie + "\r\nX-CSRF-Token: " + csrf + "\r\n";
    auto r = client.Request(port, method, path, body.is_null() ? "" : body.dump(), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpReply{};
  };
  const json setup = {
      {"token", m[1].str()},
      {"admin", {{"name", "it-admin"}, {"password", "Sx9!update-bundle"}, {"language", "en"}}},
      {"settings", {{"hospital_name", "CH"}, {"time_zone", "Europe/Paris"}}}};
  ASSERT_EQ(call("POST", "/api/setup", setup, "", "").status, 200);
  const HttpReply login =
      call("POST", "/api/login", {{"name", "it-admin"}, {"password", "Sx9!update-bundle"}}, "", "");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string cookie =
      login.headers.at("set-cookie").substr(0, login.headers.at("set-cookie").find(';'));
  const std::string csrf = json::parse(login.body)["csrf_token"];

  std::string tampered = bundle;
  tampered[tampered.find("Update test")] = 'u';
  const HttpReply refused =
      call("POST", "/api/system/update", {{"bundle", Base64Encode(tampered)}}, cookie, csrf);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_FALSE(fs::exists(dir_.path() / "packs/update-test.json"));
  EXPECT_EQ(
      call("POST", "/api/system/update", {{"bundle", Base64Encode(bundle)}}, cookie, "x").status,
      403);  // no CSRF token, no update

  const HttpReply applied =
      call("POST", "/api/system/update", {{"bundle", Base64Encode(bundle)}}, cookie, csrf);
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(json::parse(applied.body)["installed"][0]["target"], "packs/update-test.json");
  EXPECT_TRUE(fs::exists(dir_.path() / "packs/update-test.json"));
  const HttpReply status = call("GET", "/api/system/update", nullptr, cookie, csrf);
  ASSERT_EQ(status.status, 200);
  EXPECT_GE(json::parse(status.body)["trusted"]["targets"].get<int>(), 1);
  EXPECT_TRUE(fs::is_empty(dir_.path() / "update/uploads"));  // the staged file is gone
}

TEST_F(UpdateE2eTest, PollsTheOperatorsRepositoryOverHttps) {
  setenv("EDS_SSL_SHIM", BuiltBinary("libeds_ssl_shim.so").c_str(), 0);
  const CertFiles ca = MakeTestCa(dir_.path(), "ca").value();
  const CertFiles cert = MakeServerCert(dir_.path(), "repo", ca, "127.0.0.1").value();
  webadmin::AdminServerOptions o;
  o.bind_address = "127.0.0.1";
  o.port = 0;
  o.cert_path = cert.cert_path;
  o.key_path = cert.key_path;
  server_ = std::move(webadmin::AdminServer::Start(o, [] { return json{}; }).value());
  int fetched = 0;
  const fs::path repo = repo_;
  auto serve = [repo, &fetched](const webadmin::HttpRequest& r) {
    webadmin::HttpResponse out;
    const fs::path file = repo / r.path.substr(1);
    if (r.path.find("..") != std::string::npos || !fs::is_regular_file(file)) {
      out.status = 404;
      return out;
    }
    ++fetched;
    out.content_type = "application/octet-stream";
    out.body = ReadAll(file);
    return out;
  };
  server_->AddPrefixRoute("/metadata/", serve);
  server_->AddPrefixRoute("/targets/", serve);
  const std::string base = "https://127.0.0.1:" + std::to_string(server_->port());
  AddTarget("packs/update-test.json", kPack, "measure-pack", "1.1.0");
  StartEdsd(aggregate_ + "[update]\nrepository_url = \"" + base + "/metadata\"\ntargets_url = \"" +
            base + "/targets\"\nca_file = \"" + ca.cert_path +
            "\"\ntrusted_root = \"tuf-root.json\"\nslots = \"directory\"\nslots_dir = "
            "\"slots\"\ndownload_dir = \"update\"\n");
  const auto polled = Edsctl({"update", "poll"});
  ASSERT_EQ(polled.exit_code, 0) << polled.output << edsd_->Log();
  EXPECT_NE(polled.output.find("installed packs/update-test.json 1.1.0"), std::string::npos);
  EXPECT_GT(fetched, 3);

  std::string next = kPack;
  next.replace(next.find("1.1.0"), 5, "1.2.0");
  AddTarget("packs/update-test.json", next, "measure-pack", "1.2.0");
  const auto second = Edsctl({"update", "poll"});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("1.2.0"), std::string::npos) << second.output;
  const auto packs = PacksOfARelease("2025-03");
  EXPECT_NE(std::find(packs.begin(), packs.end(), "update-test@1.2.0"), packs.end());
  const json status = Status();
  EXPECT_EQ(status["last"]["source"], "poll");
}

}  // namespace
}  // namespace eds::testing
