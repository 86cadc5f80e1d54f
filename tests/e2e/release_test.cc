// edsctl release against the real daemon: a release computed from imported data with the
// shipped default pack, shown with its disclosure decisions, approved only with a reviewer and a
// comment, and never twice.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/edsd_harness.h"
#include "tests/testing/temp_dir.h"

namespace eds::testing {
namespace {

using std::chrono::seconds;

class ReleaseE2eTest : public ::testing::Test {
 protected:
  ReleaseE2eTest() : notify_(dir_.Sub("notify.sock")) {
    config_ = WriteTestConfig(dir_, FreeLoopbackPort());
  }
  void SetUp() override {
    edsd_ = std::make_unique<EdsdProcess>(
        BuiltBinary("edsd"), std::vector<std::string>{"--config", config_},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify_.path()}, dir_.Sub("edsd.log"));
    ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << edsd_->Log();
  }
  void TearDown() override {
    edsd_->Signal(SIGTERM);
    ASSERT_TRUE(edsd_->WaitExit(seconds(5)).has_value());
  }
  void ImportSample() {
    std::vector<std::string> import = {"import", "--report", dir_.Sub("import.tsv")};
    for (const char* f : {"Patient.000.ndjson", "Encounter.000.ndjson.gz",
                          "Condition.000.ndjson.zst", "Immunization.000.ndjson"}) {
      import.push_back(SourcePath(std::string("tests/data/fhir/bulk/") + f).string());
    }
    const auto imported = Edsctl(import);
    ASSERT_EQ(imported.exit_code, 0) << imported.output;
  }
  nlohmann::json ComputeAndShow(const std::string& period) {
    const auto computed = Edsctl({"--json", "release", "compute", period});
    EXPECT_EQ(computed.exit_code, 0) << computed.output;
    const auto id = nlohmann::json::parse(computed.output)["id"].get<std::string>();
    const auto shown = Edsctl({"--json", "release", "show", id});
    EXPECT_EQ(shown.exit_code, 0) << shown.output;
    return nlohmann::json::parse(shown.output);
  }
  CommandResult Edsctl(std::vector<std::string> args) {
    args.insert(args.begin(), {BuiltBinary("edsctl"), "--config", config_});
    return RunCommand(args, seconds(60));
  }

  TempDir dir_;
  NotifySocket notify_;
  std::string config_;
  std::unique_ptr<EdsdProcess> edsd_;
};

// The ambulatory-visits total of a computed release: its count, or -1 when masked.
int64_t AmbulatoryTotal(const nlohmann::json& shown) {
  const auto bundle = nlohmann::json::parse(shown["bundle"].get<std::string>());
  for (const auto& e : bundle["entry"]) {
    const auto& report = e["resource"];
    if (report["measure"] != "https://eds-node.fr/fhir/Measure/ambulatory-visits|1.0.0") continue;
    const auto& total = report["group"][0]["population"][0];
    return total.contains("count") ? total["count"].get<int64_t>() : -1;
  }
  return -2;
}

TEST_F(ReleaseE2eTest, ComputeShowApproveFromImportedData) {
  ImportSample();

  // February 1990 holds three outpatient visits of the sample: fewer than k, masked.
  auto computed = Edsctl({"--json", "release", "compute", "1990-02"});
  ASSERT_EQ(computed.exit_code, 0) << computed.output;
  const auto c = nlohmann::json::parse(computed.output);
  EXPECT_EQ(c["id"], "1990-02.1");
  EXPECT_EQ(c["state"], "checked");
  EXPECT_EQ(c["packs"], nlohmann::json::array({"eds-default@1.0.0"}));
  EXPECT_GT(c["decisions"].get<int>(), 0);

  auto shown = Edsctl({"--json", "release", "show", "1990-02.1"});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  const auto s = nlohmann::json::parse(shown.output);
  bool primary_outpatient = false;
  for (const auto& d : s["disclosure"]) {
    primary_outpatient |=
        d["rule"] == "primary" &&
        d["measure"] == "https://eds-node.fr/fhir/Measure/ambulatory-visits|1.0.0" &&
        d["stratifier"] == "";
  }
  EXPECT_TRUE(primary_outpatient) << shown.output;
  const auto bundle = nlohmann::json::parse(s["bundle"].get<std::string>());
  EXPECT_EQ(bundle["type"], "collection");
  EXPECT_EQ(bundle["entry"][0]["resource"]["reporter"]["display"], "Test hospital");
  // The masked total shows no count: the three visits do not leave.
  for (const auto& e : bundle["entry"]) {
    const auto& report = e["resource"];
    if (report["measure"] != "https://eds-node.fr/fhir/Measure/ambulatory-visits|1.0.0") continue;
    const auto& total = report["group"][0]["population"][0];
    EXPECT_FALSE(total.contains("count")) << total.dump();
    EXPECT_EQ(total["_count"]["extension"][0]["valueCode"], "masked");
  }

  EXPECT_EQ(Edsctl({"release", "approve", "1990-02.1", "--reviewer", "dr.martin", "--comment", ""})
                .exit_code,
            1);
  EXPECT_EQ(Edsctl({"release", "approve", "1990-02.1"}).exit_code, 2);
  const auto approved = Edsctl(
      {"release", "approve", "1990-02.1", "--reviewer", "dr.martin", "--comment", "checked"});
  EXPECT_EQ(approved.exit_code, 0) << approved.output;
  const auto again = Edsctl(
      {"release", "reject", "1990-02.1", "--reviewer", "dr.martin", "--comment", "changed mind"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("approved"), std::string::npos) << again.output;

  const auto list = Edsctl({"release", "list"});
  EXPECT_NE(list.output.find("1990-02.1"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("approved"), std::string::npos) << list.output;
  const auto bad = Edsctl({"release", "compute", "1990-13"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("period"), std::string::npos) << bad.output;
}

// The daemon loads its facts into memory at its first release and keeps them current: what is
// imported afterwards counts at once, exactly as after a restart that loads them afresh.
TEST_F(ReleaseE2eTest, WhatArrivesAfterTheFirstReleaseCountsAsAfterARestart) {
  const auto before = ComputeAndShow("1990-02");
  EXPECT_EQ(AmbulatoryTotal(before), 0) << before.dump();

  ImportSample();
  const auto kept = ComputeAndShow("1990-02");
  EXPECT_EQ(AmbulatoryTotal(kept), -1);  // three visits now: masked

  edsd_->Signal(SIGTERM);
  ASSERT_TRUE(edsd_->WaitExit(seconds(5)).has_value());
  SetUp();
  const auto fresh = ComputeAndShow("1990-02");
  EXPECT_EQ(AmbulatoryTotal(fresh), -1);
  // The same cells masked for the same reasons, cell by cell.
  ASSERT_TRUE(kept["disclosure"].is_array());
  EXPECT_EQ(kept["disclosure"], fresh["disclosure"]);
  EXPECT_GT(kept["disclosure"].size(), 0u);
}

}  // namespace
}  // namespace eds::testing
