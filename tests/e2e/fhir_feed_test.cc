// FHIR R4 over HTTPS into the real edsd, posted by a third-party client (fhir-kit-client):
// transaction Bundles are stored whole, reads come back, an update says whether it created,
// bad input and bad tokens change nothing, and no patient's name or identifier appears in any
// file of the data dir.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "storage/store.h"
#include "tests/e2e/edsd_harness.h"
#include "tests/testing/tls_client.h"

namespace eds::testing {
namespace {

using std::chrono::seconds;
namespace fs = std::filesystem;

std::vector<std::string> BundleFiles() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(SourcePath("tests/data/fhir/synthea"))) {
    files.push_back(e.path().string());
  }
  const fs::path shared = SharedTestData();
  if (shared.empty()) {
    std::cout << "shared test data absent: posting the committed Synthea bundle only\n";
  } else {
    for (const auto& e :
         fs::directory_iterator(shared / "fhir/synthea/generated-sample-data-r4/sample")) {
      if (e.path().filename().string().rfind("Clemente", 0) != 0)
        files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class FhirFeedTest : public ::testing::Test {
 protected:
  FhirFeedTest() : notify_(dir_.Sub("notify.sock")) {
    config_ = WriteTestConfig(dir_, FreeLoopbackPort(), "", nullptr, &fhir_port_);
  }
  void Start() {
    edsd_ = std::make_unique<EdsdProcess>(
        BuiltBinary("edsd"), std::vector<std::string>{"--config", config_},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify_.path()}, dir_.Sub("edsd.log"));
    ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << edsd_->Log();
    auto r =
        RunCommand({BuiltBinary("edsctl"), "--config", config_, "--json", "token", "create", "ehr"},
                   seconds(30));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    token_ = nlohmann::json::parse(r.output)["token"];
  }
  void Stop() {
    edsd_->Signal(SIGTERM);
    ASSERT_TRUE(edsd_->WaitExit(seconds(10)).has_value());
    edsd_.reset();
  }
  std::string Base() const { return "https://127.0.0.1:" + std::to_string(fhir_port_) + "/fhir"; }
  Result<HttpReply> Request(const std::string& method, const std::string& path,
                            const std::string& body, const std::string& token) {
    TlsClientOptions o;
    o.trusted_cert_path = dir_.Sub("tls/admin.crt");
    std::string headers = "Content-Type: application/fhir+json\r\n";
    if (!token.empty()) headers += "Authorization: Bearer " + token + "\r\n";
    return TlsHttpClient(o).Request(fhir_port_, method, "/fhir" + path, body, headers);
  }
  // Records by resource type in the stopped daemon's store.
  std::map<std::string, int> CountByType() {
    storage::StoreOptions options;
    options.data_dir = dir_.Sub("data");
    auto store = storage::Store::Open(options, *storage::ReadKeyFile(dir_.Sub("master.key")));
    EXPECT_TRUE(store.ok());
    std::map<std::string, int> counts;
    (*store)
        ->Scan(
            [&](uint64_t, std::string_view p) {
              auto j = nlohmann::json::parse(p, nullptr, false);
              if (j.is_object() && j.contains("resourceType")) ++counts[j["resourceType"]];
              return true;
            },
            {"test", "test.count", "", ""})
        .IgnoreError();
    return counts;
  }

  TempDir dir_;
  NotifySocket notify_;
  uint16_t fhir_port_ = 0;
  std::string config_;
  std::string token_;
  std::unique_ptr<EdsdProcess> edsd_;
};

TEST_F(FhirFeedTest, TransactionBundlesFromFhirKitClientAreStoredWholeAndReadBack) {
  const auto files = BundleFiles();
  Start();
  std::vector<std::string> argv = {
      "/usr/bin/node", SourcePath("tests/clients/post_fhir.mjs").string(), Base(), token_};
  argv.insert(argv.end(), files.begin(), files.end());
  auto r = RunCommand(argv, seconds(240), {"NODE_EXTRA_CA_CERTS=" + dir_.Sub("tls/admin.crt")});
  ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 2000);
  std::map<std::string, int> expected;  // distinct resources by type over all bundles
  std::set<std::string> seen;
  std::istringstream lines(r.output);
  size_t answered = 0;
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    ++answered;
    const std::string file = j["file"];
    const auto bundle = nlohmann::json::parse(ReadFileOrDie(file));
    ASSERT_EQ(j.value("status", 0), 200) << file << ": " << j.dump().substr(0, 500);
    EXPECT_EQ(j.value("entries", 0), static_cast<int>(bundle["entry"].size())) << file;
    EXPECT_EQ(j.value("created", 0), static_cast<int>(bundle["entry"].size())) << file;
    for (const auto& e : bundle["entry"]) {
      const std::string key =
          e["resource"]["resourceType"].get<std::string>() + "/" + e["fullUrl"].get<std::string>();
      if (seen.insert(key).second) ++expected[e["resource"]["resourceType"]];
    }
  }
  EXPECT_EQ(answered, files.size());

  // Read-back of a stored patient, by the id the transaction gave it.
  const auto first = nlohmann::json::parse(ReadFileOrDie(files[0]));
  std::string patient_id;
  for (const auto& e : first["entry"]) {
    if (e["resource"]["resourceType"] == "Patient")
      patient_id = e["fullUrl"].get<std::string>().substr(9);
  }
  auto read = Request("GET", "/Patient/" + patient_id, "", token_);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, 200);
  EXPECT_EQ(nlohmann::json::parse(read->body)["id"], patient_id);
  Stop();
  auto counts = CountByType();
  for (const auto& [type, n] : expected) EXPECT_EQ(counts[type], n) << type;
}

TEST_F(FhirFeedTest, BadTokensAndBadInputAreRefusedAndChangeNothing) {
  Start();
  const std::string bundle = ReadFileOrDie(BundleFiles()[0]);
  auto no_token = Request("POST", "", bundle, "");
  ASSERT_TRUE(no_token.ok());
  EXPECT_EQ(no_token->status, 401);
  EXPECT_EQ(Request("POST", "", bundle, "eds_" + std::string(64, 'a'))->status, 401);

  auto bad_json = Request("POST", "", "{\"resourceType\": \"Bundle\", ", token_);
  EXPECT_EQ(bad_json->status, 400);
  EXPECT_NE(bad_json->body.find("OperationOutcome"), std::string::npos);

  TlsClientOptions tls;
  tls.trusted_cert_path = dir_.Sub("tls/admin.crt");
  auto xml = TlsHttpClient(tls).Request(
      fhir_port_, "POST", "/fhir/Patient", R"(<Patient xmlns="http://hl7.org/fhir"/>)",
      "Content-Type: application/fhir+xml\r\nAuthorization: Bearer " + token_ + "\r\n");
  EXPECT_EQ(xml->status, 415) << xml->body;
  EXPECT_NE(xml->body.find("application/fhir+json"), std::string::npos) << xml->body;

  auto unknown = Request("POST", "/Patient", R"({"resourceType":"Patinet"})", token_);
  EXPECT_TRUE(unknown->status == 400 || unknown->status == 422) << unknown->body;
  EXPECT_NE(unknown->body.find("resourceType"), std::string::npos) << unknown->body;

  const std::string dangling = R"({"resourceType":"Bundle","type":"transaction","entry":[
    {"fullUrl":"urn:uuid:11111111-1111-1111-1111-111111111111",
     "resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
                 "subject":{"reference":"urn:uuid:22222222-2222-2222-2222-222222222222"}},
     "request":{"method":"POST","url":"Observation"}}]})";
  auto d = Request("POST", "", dangling, token_);
  EXPECT_TRUE(d->status == 400 || d->status == 422) << d->status;
  EXPECT_NE(d->body.find("Bundle.entry[0].resource.subject"), std::string::npos) << d->body;

  auto metadata = Request("GET", "/metadata", "", "");
  EXPECT_EQ(metadata->status, 200);
  EXPECT_EQ(nlohmann::json::parse(metadata->body)["fhirVersion"], "4.0.1");
  Stop();
  EXPECT_TRUE(CountByType().empty());
}

TEST_F(FhirFeedTest, AnUpdateAnswers201WhenItCreatesAnd200WhenItReplacesWhereverItWasFiled) {
  Start();
  const std::string patient = R"({"resourceType":"Patient","id":"p1","gender":"female",
    "identifier":[{"system":"urn:oid:1.2.250.1.71.4.2.7","value":"IPP-4411"}]})";
  auto created = Request("PUT", "/Patient/p1", patient, token_);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->status, 201) << created->body;
  EXPECT_NE(created->headers["location"].find("/fhir/Patient/p1"), std::string::npos);
  auto replaced = Request("PUT", "/Patient/p1", patient, token_);
  EXPECT_EQ(replaced->status, 200) << replaced->body;
  EXPECT_EQ(Request("POST", "/Patient", patient, token_)->status, 201);

  // In a batch: o1 is stored by the first Bundle; o2 is new, then put again in the same Bundle.
  auto observation = [](const std::string& id, const std::string& subject = "p1") {
    return R"({"resource":{"resourceType":"Observation","id":")" + id +
           R"(","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/)" + subject +
           R"("}}, "request":{"method":"PUT","url":"Observation/)" + id + R"("}})";
  };
  auto batch = [](const std::vector<std::string>& entries, const std::string& type = "batch") {
    std::string out = R"({"resourceType":"Bundle","type":")" + type + R"(","entry":[)";
    for (size_t i = 0; i < entries.size(); ++i) out += (i ? "," : "") + entries[i];
    return out + "]}";
  };
  auto statuses = [](const HttpReply& reply) {
    std::vector<std::string> out;
    const auto body = nlohmann::json::parse(reply.body);
    for (const auto& e : body["entry"]) {
      out.push_back(e["response"]["status"]);
    }
    return out;
  };
  auto first = Request("POST", "", batch({observation("o1")}), token_);
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(statuses(*first), std::vector<std::string>{"201 Created"});
  auto second =
      Request("POST", "", batch({observation("o1"), observation("o2"), observation("o2")}), token_);
  ASSERT_EQ(second->status, 200) << second->body;
  EXPECT_EQ(statuses(*second), (std::vector<std::string>{"200 OK", "201 Created", "200 OK"}));

  // A correction files o1 under another patient: it replaces the one filed under p1.
  std::string p2 = patient;
  p2.replace(p2.find("\"p1\""), 4, "\"p2\"");
  p2.replace(p2.find("IPP-4411"), 8, "IPP-4412");
  EXPECT_EQ(Request("PUT", "/Patient/p2", p2, token_)->status, 201);
  std::string moved = R"({"resourceType":"Observation","id":"o1","status":"final",
    "code":{"text":"x"},"subject":{"reference":"Patient/p2"}})";
  EXPECT_EQ(Request("PUT", "/Observation/o1", moved, token_)->status, 200);
  auto read = Request("GET", "/Observation/o1", "", token_);
  ASSERT_EQ(read->status, 200);
  EXPECT_EQ(nlohmann::json::parse(read->body)["subject"]["reference"], "Patient/p2");

  // One resource named twice in a Bundle: a transaction fails whole; a batch is processed in
  // order, so its last version is the one kept.
  const std::vector<std::string> twice = {observation("o3", "p1"), observation("o3", "p2")};
  auto transaction = Request("POST", "", batch(twice, "transaction"), token_);
  EXPECT_EQ(transaction->status, 400) << transaction->body;
  EXPECT_NE(transaction->body.find("Bundle.entry[1]"), std::string::npos) << transaction->body;
  auto in_order = Request("POST", "", batch(twice), token_);
  EXPECT_EQ(statuses(*in_order), (std::vector<std::string>{"201 Created", "200 OK"}));
  read = Request("GET", "/Observation/o3", "", token_);
  ASSERT_EQ(read->status, 200);
  EXPECT_EQ(nlohmann::json::parse(read->body)["subject"]["reference"], "Patient/p2");
  Stop();
  auto counts = CountByType();
  EXPECT_EQ(counts["Patient"], 3);
  EXPECT_EQ(counts["Observation"], 3);
}

TEST_F(FhirFeedTest, NoPatientNameOrIdentifierInAnyFileAfterTheRealFeed) {
  const auto files = BundleFiles();
  std::set<std::string> needles;
  for (const auto& f : files) {
    const auto bundle = nlohmann::json::parse(ReadFileOrDie(f));
    for (const auto& e : bundle["entry"]) {
      const auto& res = e["resource"];
      if (res["resourceType"] != "Patient") continue;
      for (const auto& n : res["name"]) {
        if (n.contains("family")) needles.insert(n["family"].get<std::string>());
      }
      for (const auto& i : res["identifier"]) {
        const std::string v = i["value"];
        if (v.size() >= 6) needles.insert(v);
      }
    }
  }
  ASSERT_GE(needles.size(), 4u);
  Start();
  for (const auto& f : files) {
    auto r = Request("POST", "", ReadFileOrDie(f), token_);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body.substr(0, 300);
  }
  Stop();
  for (const auto& e : fs::recursive_directory_iterator(dir_.Sub("data"))) {
    if (!e.is_regular_file()) continue;
    const std::string content = ReadFileOrDie(e.path());
    for (const auto& n : needles) {
      EXPECT_EQ(content.find(n), std::string::npos) << n << " in " << e.path().filename();
    }
  }
  const std::string log = ReadFileOrDie(dir_.Sub("edsd.log"));
  for (const auto& n : needles) EXPECT_EQ(log.find(n), std::string::npos) << n << " in the log";
}

}  // namespace
}  // namespace eds::testing
