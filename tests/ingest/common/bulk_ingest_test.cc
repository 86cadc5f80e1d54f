// Bulk NDJSON chunks into a real store: resources filed under their patient whatever the line
// order, duplicates skipped, bad lines rejected by number, progress durable with the data.
#include "ingest/bulk_ingest.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "ingest/facts.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::ingest {
namespace {

using ::eds::testing::ReadFileOrDie;
using ::eds::testing::SourcePath;
using ::eds::testing::TempDir;

struct Ndjson {
  std::string patients;  // Patient lines
  std::string others;    // every other resource
  size_t patient_lines = 0;
  size_t other_lines = 0;
};

// The committed Synthea bundle as bulk NDJSON: urn:uuid references become Type/id.
Ndjson SyntheaAsNdjson() {
  const auto bundle = nlohmann::json::parse(ReadFileOrDie(SourcePath(
      "tests/data/fhir/synthea/Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json")));
  std::map<std::string, std::string> refs;
  for (const auto& e : bundle["entry"]) {
    refs[e["fullUrl"]] = e["resource"]["resourceType"].get<std::string>() + "/" +
                         e["resource"]["id"].get<std::string>();
  }
  Ndjson out;
  for (const auto& e : bundle["entry"]) {
    std::string line = e["resource"].dump();
    for (const auto& [from, to] : refs) {
      for (size_t pos = line.find(from); pos != std::string::npos; pos = line.find(from, pos)) {
        line.replace(pos, from.size(), to);
      }
    }
    if (e["resource"]["resourceType"] == "Patient") {
      out.patients += line + "\n";
      ++out.patient_lines;
    } else {
      out.others += line + "\n";
      ++out.other_lines;
    }
  }
  return out;
}

class BulkIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::StoreOptions o;
    o.data_dir = dir_.Sub("data");
    store_ = std::move(storage::Store::Open(o, storage::SecretKey::Random()).value());
    pseudonymizer_ = std::make_unique<Pseudonymizer>(store_->Secret("pseudonym").value());
    bulk_ = std::make_unique<BulkIngest>(*store_, *pseudonymizer_);
  }

  std::map<uint64_t, std::vector<Fact>> Facts() {
    std::map<uint64_t, std::vector<Fact>> out;
    EXPECT_TRUE(store_
                    ->ScanFacts(
                        [&](uint64_t no, std::string_view bytes) {
                          auto facts = DecodeFacts(bytes);
                          EXPECT_TRUE(facts.ok());
                          if (facts.ok()) {
                            for (auto& f : *facts) out[no].push_back(std::move(f));
                          }
                          return true;
                        },
                        {"test", "scan", "", ""})
                    .ok());
    return out;
  }

  TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Pseudonymizer> pseudonymizer_;
  std::unique_ptr<BulkIngest> bulk_;
};

TEST_F(BulkIngestTest, ResourcesBeforeTheirPatientEndUpWithItAndRerunsAreDuplicates) {
  const Ndjson data = SyntheaAsNdjson();
  ImportProgress start{"source-1"};
  // The clinical files first, the Patient file last: the order of a directory listing.
  auto first = bulk_->IngestChunk(data.others, start, "test");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->stored, data.other_lines);
  EXPECT_TRUE(first->rejected.empty());
  EXPECT_EQ(first->progress.line, data.other_lines + 1);
  EXPECT_EQ(first->progress.offset, data.others.size());
  auto second = bulk_->IngestChunk(data.patients, first->progress, "test");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->stored, 1u);
  EXPECT_EQ(second->progress.stored, data.other_lines + 1);

  // The facts of every clinical resource sit with the one Patient fact.
  const auto facts = Facts();
  ASSERT_EQ(facts.size(), 1u);
  size_t patients = 0, observations = 0;
  for (const auto& f : facts.begin()->second) {
    patients += f.type == FactType::kPatient;
    observations += f.type == FactType::kObservation;
  }
  EXPECT_EQ(patients, 1u);
  EXPECT_GE(observations, 48u);

  // The durable progress is what the chunks said.
  auto progress = bulk_->Progress("source-1");
  ASSERT_TRUE(progress.ok());
  ASSERT_TRUE(progress->has_value());
  EXPECT_EQ((*progress)->offset, data.others.size() + data.patients.size());
  EXPECT_EQ((*progress)->stored, data.other_lines + 1);
  EXPECT_FALSE(bulk_->Progress("source-2")->has_value());

  // The same file again (another source id): everything is a duplicate, nothing is written.
  const uint64_t audit_before = store_->Stats().audit_entries;
  auto again = bulk_->IngestChunk(data.patients + data.others, {"source-2"}, "test");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stored, 0u);
  EXPECT_EQ(again->duplicates, data.other_lines + 1);
  EXPECT_EQ(store_->Stats().audit_entries, audit_before + 1);
}

TEST_F(BulkIngestTest, AResourceWhoseSubjectIsCorrectedIsStoredOnceUnderItsLastPatient) {
  auto observation = [](const std::string& patient, const std::string& value) {
    return R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},)"
           R"("valueString":")" +
           value + R"(","subject":{"reference":"Patient/)" + patient + "\"}}\n";
  };
  const std::string patients =
      "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"female\"}\n"
      "{\"resourceType\":\"Patient\",\"id\":\"p2\",\"gender\":\"male\"}\n";
  // In one chunk, then in the next one.
  auto first = bulk_->IngestChunk(patients + observation("p1", "a") + observation("p2", "b"),
                                  {"fix"}, "test");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto observations = [&] {
    std::vector<std::string> out;
    EXPECT_TRUE(store_
                    ->Scan(
                        [&](uint64_t, std::string_view p) {
                          const auto j = nlohmann::json::parse(p);
                          if (j.value("resourceType", "") == "Observation") {
                            out.push_back(j["subject"]["reference"].get<std::string>() + " " +
                                          j["valueString"].get<std::string>());
                          }
                          return true;
                        },
                        {"test", "scan", "", ""})
                    .ok());
    return out;
  };
  EXPECT_EQ(observations(), std::vector<std::string>{"Patient/p2 b"});
  auto second = bulk_->IngestChunk(observation("p1", "c"), first->progress, "test");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(observations(), std::vector<std::string>{"Patient/p1 c"});
  size_t observation_facts = 0;
  for (const auto& [no, facts] : Facts()) {
    for (const auto& f : facts) observation_facts += f.type == FactType::kObservation;
  }
  EXPECT_EQ(observation_facts, 1u);
}

TEST_F(BulkIngestTest, AChunkFiledWhileTheOneBeforeCommitsFindsThatChunksPatients) {
  auto observation = [](const std::string& id) {
    return R"({"resourceType":"Observation","id":")" + id +
           R"(","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}})"
           "\n";
  };
  // The Patient's pseudonym comes from its identifier, not from its id: the next chunk's
  // Observation can only find it through the aliases the first chunk adds.
  const std::string first_text =
      R"({"resourceType":"Patient","id":"p1","gender":"female","identifier":[)"
      R"({"system":"urn:oid:1.2.250.1.213.1.4.8","value":"1234567890123"}]})"
      "\n" +
      observation("o1");
  auto first_read = BulkIngest::Read(first_text, 1);
  auto first = bulk_->Prepare(std::move(first_read), {"pipe"}, "test", nullptr);
  ASSERT_TRUE(first.ok()) << first.status().ToString();

  const auto again = BulkIngest::Read(observation("o1"), 3);
  EXPECT_TRUE(BulkIngest::Shares(first->names, again));
  auto second_read = BulkIngest::Read(observation("o2"), 3);
  EXPECT_FALSE(BulkIngest::Shares(first->names, second_read));
  auto second =
      bulk_->Prepare(std::move(second_read), first->result.progress, "test", &first->names);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(bulk_->Progress("pipe")->has_value());  // nothing committed yet

  auto first_done = bulk_->Commit(std::move(*first));
  ASSERT_TRUE(first_done.ok());
  EXPECT_EQ(first_done->stored, 2u);
  auto second_done = bulk_->Commit(std::move(*second));
  ASSERT_TRUE(second_done.ok());
  EXPECT_EQ(second_done->progress.stored, 3u);
  EXPECT_EQ((*bulk_->Progress("pipe"))->line, 4u);

  // One patient: its Patient fact and both Observations'.
  const auto facts = Facts();
  ASSERT_EQ(facts.size(), 1u);
  EXPECT_EQ(facts.begin()->second.size(), 3u);

  // A chunk prepared and dropped leaves the progress where it was.
  {
    auto dropped = bulk_->Prepare(BulkIngest::Read(observation("o3"), 4), second_done->progress,
                                  "test", nullptr);
    ASSERT_TRUE(dropped.ok());
  }
  EXPECT_EQ((*bulk_->Progress("pipe"))->line, 4u);
  EXPECT_EQ(Facts().begin()->second.size(), 3u);
}

TEST_F(BulkIngestTest, BadLinesAreRejectedByNumberAndTheOthersStored) {
  const std::string chunk =
      "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"female\"}\n"
      "not json at all\n"
      "\n"
      "{\"resourceType\":\"Nope\",\"id\":\"x\"}\n"
      "{\"resourceType\":\"Patient\",\"id\":\"p2\",\"gender\":12}\n"
      "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}\r\n"
      "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":{\"text\":"
      "\"x\"},\"subject\":{\"reference\":\"Patient/p1\"}}";
  auto r = bulk_->IngestChunk(chunk, {"bad", 100, 41}, "test");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stored, 2u);
  std::vector<uint64_t> lines;
  for (const auto& rej : r->rejected) {
    lines.push_back(rej.line);
    EXPECT_FALSE(rej.reason.empty());
  }
  EXPECT_EQ(lines, (std::vector<uint64_t>{42, 44, 45, 46}));
  EXPECT_EQ(r->rejected[2].expression, "Patient.gender");
  EXPECT_EQ(r->rejected[3].expression, "Observation.id");
  EXPECT_EQ(r->progress.line, 48u);
  EXPECT_EQ(r->progress.offset, 100 + chunk.size());
  EXPECT_EQ(r->progress.rejected, 4u);
}

TEST_F(BulkIngestTest, AChunkReadFromAnotherLineThanTheProgressIsRefusedAndStoresNothing) {
  const std::string chunk =
      "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"identifier\":[{\"system\":\"urn:x\","
      "\"value\":\"1\"}]}\n";
  ImportProgress at_line_3{"src", 120, 3};
  auto refused = bulk_->Ingest(BulkIngest::Read(chunk, 1), at_line_3, "test");
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  auto progress = bulk_->Progress("src");
  ASSERT_TRUE(progress.ok());
  EXPECT_FALSE(progress->has_value());
  auto stored = bulk_->Ingest(BulkIngest::Read(chunk, 3), at_line_3, "test");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->stored, 1u);
  EXPECT_EQ(stored->progress.line, 4u);
  EXPECT_EQ(stored->progress.offset, 120 + chunk.size());
}

}  // namespace
}  // namespace eds::ingest
