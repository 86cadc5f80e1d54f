// edsctl import against a running edsd: FHIR Bulk Data NDJSON (plain, gzip, zstd) stored once,
// sent again as duplicates, bad lines reported with their line numbers, an interrupted import
// resumed without storing anything twice, and the import stream's refusals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sodium.h>
#include <sys/wait.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "common/encoding.h"
#include "daemon/control_server.h"
#include "daemon/control_stream.h"
#include "storage/store.h"
#include "tests/e2e/edsd_harness.h"

namespace eds::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace fs = std::filesystem;

// The decompressed content of a sample file, read with zlib's gz* functions and libzstd's
// one-shot decoder (not edsctl's code).
std::string Decompressed(const fs::path& path) {
  const std::string name = path.filename().string();
  if (name.size() > 3 && name.ends_with(".gz")) {
    gzFile gz = gzopen(path.c_str(), "rb");
    EXPECT_NE(gz, nullptr) << path;
    std::string out;
    char buf[65536];
    for (int n; (n = gzread(gz, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    gzclose(gz);
    return out;
  }
  const std::string raw = ReadFileOrDie(path);
  if (name.ends_with(".zst")) {
    ZSTD_DCtx* z = ZSTD_createDCtx();
    ZSTD_inBuffer in{raw.data(), raw.size(), 0};
    std::string out;
    char buf[65536];
    while (in.pos < in.size) {
      ZSTD_outBuffer o{buf, sizeof buf, 0};
      const size_t ret = ZSTD_decompressStream(z, &o, &in);
      EXPECT_FALSE(ZSTD_isError(ret)) << path;
      if (ZSTD_isError(ret)) break;
      out.append(buf, o.pos);
    }
    for (size_t more = 1; more != 0;) {  // what the decoder still holds
      ZSTD_outBuffer o{buf, sizeof buf, 0};
      more = ZSTD_decompressStream(z, &o, &in);
      if (ZSTD_isError(more) || o.pos == 0) break;
      out.append(buf, o.pos);
    }
    ZSTD_freeDCtx(z);
    return out;
  }
  return raw;
}

uint64_t LineCount(const std::string& content) {
  uint64_t lines = 0;
  std::istringstream in(content);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) ++lines;
  }
  return lines;
}

std::vector<std::string> CommittedBulkFiles() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(SourcePath("tests/data/fhir/bulk"))) {
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The source id as docs/formats/control.md defines it.
std::string SourceId(const fs::path& path) {
  const std::string raw = ReadFileOrDie(path);
  const std::string input = std::to_string(raw.size()) + "\n" + raw.substr(0, 1 << 20);
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(hash), sizeof hash));
}

// The JSON summary printed by `edsctl --json import` (after any lines on stderr).
nlohmann::json Summary(const CommandResult& r) {
  const size_t start = r.output.find("{\n");
  if (start == std::string::npos) return nlohmann::json();
  return nlohmann::json::parse(r.output.substr(start), nullptr, false);
}

class ImportTest : public ::testing::Test {
 protected:
  ImportTest() : notify_(dir_.Sub("notify.sock")) {
    config_ = WriteTestConfig(dir_, FreeLoopbackPort());
  }

  void StartDaemon() {
    edsd_ = std::make_unique<EdsdProcess>(
        BuiltBinary("edsd"), std::vector<std::string>{"--config", config_},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify_.path()}, dir_.Sub("edsd.log"));
    ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << edsd_->Log();
  }
  void StopDaemon() {
    edsd_->Signal(SIGTERM);
    auto status = edsd_->WaitExit(seconds(10));
    ASSERT_TRUE(status.has_value()) << "edsd did not stop in time";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << edsd_->Log();
    edsd_.reset();
  }
  std::vector<std::string> EdsctlArgs(std::vector<std::string> args) {
    args.insert(args.begin(), {BuiltBinary("edsctl"), "--config", config_});
    return args;
  }
  CommandResult Edsctl(std::vector<std::string> args, seconds timeout = seconds(120)) {
    return RunCommand(EdsctlArgs(std::move(args)), timeout);
  }
  uint64_t StatusRecords() {
    auto r = Edsctl({"--json", "status"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    if (j.is_discarded()) return 0;
    return j["store"].value("records", uint64_t{0});
  }
  // `settle`: after the stream of an interrupted import has ended.
  std::optional<nlohmann::json> ImportStatus(const std::string& source, bool settle = false) {
    auto r = daemon::ControlRequest(
        dir_.Sub("edsd.sock"), {{"cmd", "import-status"}, {"source", source}, {"settle", settle}},
        20000);
    if (!r.ok() || !r->value("ok", false)) return std::nullopt;
    return (*r)["progress"];
  }
  // FHIR resources in the stopped daemon's store, and how many records hold each
  // ("Type/id" -> records).
  std::map<std::string, int> StoredResources() {
    storage::StoreOptions options;
    options.data_dir = dir_.Sub("data");
    auto store = storage::Store::Open(options, *storage::ReadKeyFile(dir_.Sub("master.key")));
    EXPECT_TRUE(store.ok());
    std::map<std::string, int> found;
    if (!store.ok()) return found;
    (*store)
        ->Scan(
            [&](uint64_t, std::string_view p) {
              auto j = nlohmann::json::parse(p, nullptr, false);
              if (j.is_object() && j.contains("resourceType")) {
                ++found[j.value("resourceType", "") + "/" + j.value("id", "")];
              }
              return true;
            },
            {"test", "test.count", "", ""})
        .IgnoreError();
    return found;
  }
  // Every resource that names a patient ("subject" or "patient") is filed under that Patient's
  // number, however the chunks cut the file; returns how many were checked.
  size_t ExpectFiledWithTheirPatients() {
    storage::StoreOptions options;
    options.data_dir = dir_.Sub("data");
    auto store = storage::Store::Open(options, *storage::ReadKeyFile(dir_.Sub("master.key")));
    EXPECT_TRUE(store.ok());
    if (!store.ok()) return 0;
    std::map<std::string, uint64_t> patient_no;                 // "Patient/x" -> number
    std::vector<std::pair<uint64_t, std::string>> filed_under;  // number, reference
    (*store)
        ->Scan(
            [&](uint64_t no, std::string_view p) {
              auto j = nlohmann::json::parse(p, nullptr, false);
              if (!j.is_object()) return true;
              if (j.value("resourceType", "") == "Patient") {
                patient_no["Patient/" + j.value("id", "")] = no;
              }
              for (const char* element : {"subject", "patient"}) {
                if (j.contains(element) && j[element].is_object()) {
                  filed_under.emplace_back(no, j[element].value("reference", ""));
                  break;
                }
              }
              return true;
            },
            {"test", "test.count", "", ""})
        .IgnoreError();
    for (const auto& [no, reference] : filed_under) {
      const auto it = patient_no.find(reference);
      EXPECT_TRUE(it != patient_no.end() && it->second == no) << reference << " filed apart";
    }
    return filed_under.size();
  }

  static void ExpectEachOnce(const std::map<std::string, int>& stored, uint64_t expected) {
    EXPECT_EQ(stored.size(), expected);
    for (const auto& [key, n] : stored) EXPECT_EQ(n, 1) << key << " stored more than once";
  }
  // The committed sample, decompressed into one plain file; returns its line count.
  uint64_t WriteCombinedSample(const std::string& path) {
    std::ofstream out(path, std::ios::binary);
    uint64_t lines = 0;
    for (const auto& f : CommittedBulkFiles()) {
      const std::string content = Decompressed(f);
      lines += LineCount(content);
      out << content;
    }
    return lines;
  }

  TempDir dir_;
  NotifySocket notify_;
  std::string config_;
  std::unique_ptr<EdsdProcess> edsd_;
};

TEST_F(ImportTest, CommittedSampleIsStoredOnceThenAlreadyImportedThenDuplicates) {
  const auto files = CommittedBulkFiles();
  ASSERT_EQ(files.size(), 4u);
  std::map<std::string, uint64_t> lines;
  uint64_t total_lines = 0;
  for (const auto& f : files) {
    lines[f] = LineCount(Decompressed(f));
    total_lines += lines[f];
  }
  ASSERT_GT(total_lines, 300u);
  StartDaemon();
  const uint64_t records_before = StatusRecords();

  std::vector<std::string> args = {"--json", "import", "--report", dir_.Sub("first.tsv")};
  args.insert(args.end(), files.begin(), files.end());
  auto first = Edsctl(args);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto summary = Summary(first);
  ASSERT_TRUE(summary.is_object()) << first.output;
  EXPECT_EQ(summary["stored"], total_lines);
  EXPECT_EQ(summary["duplicates"], 0);
  EXPECT_EQ(summary["rejected"], 0);
  EXPECT_EQ(summary["report"], dir_.Sub("first.tsv"));
  ASSERT_EQ(summary["files"].size(), files.size());
  for (const auto& f : summary["files"]) {
    EXPECT_EQ(f["stored"], lines[f["file"]]) << f.dump();
    EXPECT_EQ(f["total"]["stored"], lines[f["file"]]) << f.dump();
    EXPECT_EQ(f["resumed_at_line"], nullptr);
  }
  EXPECT_EQ(ReadFileOrDie(dir_.Sub("first.tsv")), "file\tline\treason\texpression\n");
  // The status count is RocksDB's estimate: it also counts each chunk's progress record.
  EXPECT_GE(StatusRecords(), records_before + total_lines);

  // The same files again: their imports are complete, nothing is sent.
  args = {"import", "--report", dir_.Sub("again.tsv")};
  args.insert(args.end(), files.begin(), files.end());
  auto again = Edsctl(args);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  for (const auto& f : files) {
    EXPECT_NE(again.output.find(f + ": already imported (stored " + std::to_string(lines[f]) +
                                ", duplicates 0, rejected 0)"),
              std::string::npos)
        << again.output;
  }
  EXPECT_NE(again.output.find("total: stored 0, duplicates 0, rejected 0"), std::string::npos)
      << again.output;

  // The same resources in other files (each file's bytes twice over: plain lines, gzip members,
  // zstd frames follow each other): every line is a duplicate, nothing is stored.
  std::vector<std::string> doubled;
  uint64_t doubled_lines = 0;
  for (const auto& f : files) {
    const std::string raw = ReadFileOrDie(f);
    doubled.push_back(dir_.Sub("twice-" + fs::path(f).filename().string()));
    std::ofstream(doubled.back(), std::ios::binary) << raw << raw;
    doubled_lines += 2 * lines[f];
  }
  args = {"--json", "import", "--report", dir_.Sub("twice.tsv")};
  args.insert(args.end(), doubled.begin(), doubled.end());
  auto twice = Edsctl(args);
  ASSERT_EQ(twice.exit_code, 0) << twice.output;
  summary = Summary(twice);
  ASSERT_TRUE(summary.is_object()) << twice.output;
  EXPECT_EQ(summary["stored"], 0);
  EXPECT_EQ(summary["duplicates"], doubled_lines);
  EXPECT_EQ(summary["rejected"], 0);
  StopDaemon();
  ExpectEachOnce(StoredResources(), total_lines);
}

TEST_F(ImportTest, BadLinesAreRejectedWithTheirLineNumbersAndTheOthersStored) {
  const std::string file = dir_.Sub("bad.ndjson");
  {
    std::ofstream out(file, std::ios::binary);
    out << R"({"resourceType":"Patient","id":"bad-1","gender":"female","birthDate":"1970-01-01"})"
        << "\n"  // 1
        << R"({"resourceType":"Patient","id":"bad-2","gender":)"
        << "\n"  // 2
        << R"({"resourceType":"Patinet","id":"bad-3"})"
        << "\n"  // 3
        << R"({"resourceType":"Patient","id":"bad-4","birthDate":19700101})"
        << "\n"  // 4
        << R"({"resourceType":"Observation","id":"bad-5","status":"final",)"
        << R"("code":{"text":"weight"},"subject":{"reference":"Patient/bad-1"}})"
        << "\n"  // 5
        << R"({"resourceType":"Observation","status":"final","code":{"text":"x"}})"
        << "\n"  // 6
        << "\n"  // 7
        << R"({"resourceType":"Patient","id":"bad-8","gender":"male"})"
        << "\n"  // 8
        << R"({"resourceType":"Patient","id":"bad-9","text":{"status":"generated","div":")"
        << std::string(9 << 20, 'x') << R"("}})"
        << "\n"  // 9
        << R"({"resourceType":"Condition","id":"bad-10","subject":{"reference":"Patient/bad-8"}})";
  }
  StartDaemon();
  auto r = Edsctl({"--json", "import", "--report", dir_.Sub("bad.tsv"), file});
  EXPECT_EQ(r.exit_code, 1) << r.output.substr(0, 2000);
  auto summary = Summary(r);
  ASSERT_TRUE(summary.is_object()) << r.output.substr(0, 2000);
  EXPECT_EQ(summary["stored"], 4);
  EXPECT_EQ(summary["duplicates"], 0);
  EXPECT_EQ(summary["rejected"], 5);

  std::map<uint64_t, std::vector<std::string>> rows;  // line -> reason, expression
  std::istringstream report(ReadFileOrDie(dir_.Sub("bad.tsv")));
  std::string row;
  ASSERT_TRUE(std::getline(report, row));
  EXPECT_EQ(row, "file\tline\treason\texpression");
  while (std::getline(report, row)) {
    std::vector<std::string> cells;
    std::istringstream fields(row);
    for (std::string cell; std::getline(fields, cell, '\t');) cells.push_back(cell);
    cells.resize(4);
    EXPECT_EQ(cells[0], file);
    EXPECT_FALSE(cells[2].empty()) << row;
    rows[std::stoull(cells[1])] = {cells[2], cells[3]};
  }
  std::vector<uint64_t> rejected_lines;
  for (const auto& [line, cells] : rows) rejected_lines.push_back(line);
  EXPECT_EQ(rejected_lines, (std::vector<uint64_t>{2, 3, 4, 6, 9}));
  EXPECT_NE(rows[3][1].find("resourceType"), std::string::npos) << rows[3][0];
  EXPECT_EQ(rows[4][1], "Patient.birthDate") << rows[4][0];
  EXPECT_EQ(rows[6][1], "Observation.id") << rows[6][0];
  EXPECT_NE(rows[9][0].find("longer than 8 MiB"), std::string::npos) << rows[9][0];

  // Again: complete, nothing sent or reported, but the file had rejections (exit code 1).
  auto again = Edsctl({"import", "--report", dir_.Sub("again.tsv"), file});
  EXPECT_EQ(again.exit_code, 1) << again.output.substr(0, 2000);
  EXPECT_NE(again.output.find(file + ": already imported (stored 4, duplicates 0, rejected 5)"),
            std::string::npos)
      << again.output.substr(0, 2000);
  EXPECT_EQ(ReadFileOrDie(dir_.Sub("again.tsv")), "file\tline\treason\texpression\n");

  // A last line over 8 MiB without its '\n': rejected once, and the import is complete.
  const std::string tail = dir_.Sub("tail.ndjson");
  std::ofstream(tail, std::ios::binary)
      << R"({"resourceType":"Patient","id":"tail-1","gender":"female"})"
      << "\n"
      << R"({"resourceType":"Patient","id":"tail-2","text":{"status":"generated","div":")"
      << std::string(9 << 20, 'y') << R"("}})";
  auto first_tail = Edsctl({"--json", "import", "--report", dir_.Sub("tail.tsv"), tail});
  EXPECT_EQ(first_tail.exit_code, 1) << first_tail.output.substr(0, 2000);
  summary = Summary(first_tail);
  ASSERT_TRUE(summary.is_object()) << first_tail.output.substr(0, 2000);
  EXPECT_EQ(summary["stored"], 1);
  EXPECT_EQ(summary["rejected"], 1);
  EXPECT_NE(ReadFileOrDie(dir_.Sub("tail.tsv")).find(tail + "\t2\tline longer than 8 MiB"),
            std::string::npos);
  auto again_tail = Edsctl({"import", "--report", dir_.Sub("tail-again.tsv"), tail});
  EXPECT_EQ(again_tail.exit_code, 1) << again_tail.output.substr(0, 2000);
  EXPECT_NE(
      again_tail.output.find(tail + ": already imported (stored 1, duplicates 0, rejected 1)"),
      std::string::npos)
      << again_tail.output.substr(0, 2000);
  EXPECT_EQ(ReadFileOrDie(dir_.Sub("tail-again.tsv")), "file\tline\treason\texpression\n");
  StopDaemon();
  const auto stored = StoredResources();
  std::set<std::string> types;
  for (const auto& [key, n] : stored) types.insert(key.substr(0, key.find('/')));
  EXPECT_EQ(stored.size(), 5u);
  EXPECT_EQ(types, (std::set<std::string>{"Condition", "Observation", "Patient"}));
}

TEST_F(ImportTest, AnImportKilledMidwayResumesAndStoresEachResourceOnce) {
  const std::string file = dir_.Sub("sample.ndjson");
  const uint64_t lines = WriteCombinedSample(file);
  const std::string source = SourceId(file);
  StartDaemon();
  // One line per chunk: hundreds of durable writes, so the import is still running when the
  // first chunks are stored.
  {
    EdsdProcess edsctl(BuiltBinary("edsctl"),
                       {"--config", config_, "import", "--chunk-bytes", "1", "--report",
                        dir_.Sub("killed.tsv"), file},
                       {}, dir_.Sub("killed.log"));
    std::optional<nlohmann::json> progress;
    const auto deadline = std::chrono::steady_clock::now() + seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      progress = ImportStatus(source);
      if (progress && progress->is_object() && (*progress)["line"] > 3) break;
      std::this_thread::sleep_for(milliseconds(1));
    }
    edsctl.Signal(SIGKILL);
    ASSERT_TRUE(edsctl.WaitExit(seconds(10)).has_value());
    ASSERT_TRUE(progress && progress->is_object()) << "no chunk was stored within 30 s";
  }
  const auto stopped = ImportStatus(source, true);
  ASSERT_TRUE(stopped && stopped->is_object());
  const uint64_t resume_line = (*stopped)["line"];
  ASSERT_LE(resume_line, lines) << "the import finished before it could be interrupted";
  EXPECT_EQ((*stopped)["stored"], resume_line - 1);

  auto r = Edsctl({"--json", "import", "--report", dir_.Sub("resumed.tsv"), file});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming " + file + " at line " + std::to_string(resume_line)),
            std::string::npos)
      << r.output;
  auto summary = Summary(r);
  ASSERT_TRUE(summary.is_object()) << r.output;
  const auto& f = summary["files"][0];
  EXPECT_EQ(f["resumed_at_line"], resume_line);
  EXPECT_EQ(f["stored"], lines - (resume_line - 1));
  EXPECT_EQ(f["total"]["stored"], lines);
  EXPECT_EQ(f["total"]["duplicates"], 0);
  EXPECT_EQ(f["total"]["rejected"], 0);
  StopDaemon();
  ExpectEachOnce(StoredResources(), lines);
}

TEST_F(ImportTest, ResourcesInTheChunksAfterTheirPatientsAreFiledWithThem) {
  // Each Patient followed by its resources, one line a chunk: a chunk is filed while the one
  // before it, which may hold its Patient, still commits.
  std::map<std::string, std::vector<std::string>> by_patient;  // "Patient/x" -> lines
  std::vector<std::string> patients;
  for (const auto& f : CommittedBulkFiles()) {
    std::istringstream in(Decompressed(f));
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line);
      if (j["resourceType"] == "Patient") {
        patients.push_back("Patient/" + j["id"].get<std::string>());
        by_patient[patients.back()].insert(by_patient[patients.back()].begin(), line);
        continue;
      }
      std::string reference;
      for (const char* element : {"subject", "patient"}) {
        if (j.contains(element)) reference = (*j.find(element)).value("reference", "");
      }
      by_patient[reference].push_back(line);
    }
  }
  ASSERT_FALSE(patients.empty());
  const std::string file = dir_.Sub("by-patient.ndjson");
  uint64_t lines = 0;
  {
    std::ofstream out(file, std::ios::binary);
    for (const auto& [patient, group] : by_patient) {
      for (const auto& line : group) {
        out << line << "\n";
        ++lines;
      }
    }
  }
  StartDaemon();
  auto r = Edsctl({"import", "--chunk-bytes", "1", file});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  StopDaemon();
  ExpectEachOnce(StoredResources(), lines);
  EXPECT_GT(ExpectFiledWithTheirPatients(), lines / 2);
}

TEST_F(ImportTest, StoppingEdsdEndsAnImportAfterItsChunkAndTheImportResumes) {
  const std::string file = dir_.Sub("sample.ndjson");
  const uint64_t lines = WriteCombinedSample(file);
  const std::string source = SourceId(file);
  StartDaemon();
  EdsdProcess edsctl(BuiltBinary("edsctl"),
                     {"--config", config_, "import", "--chunk-bytes", "1", "--report",
                      dir_.Sub("stopped.tsv"), file},
                     {}, dir_.Sub("stopped.log"));
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto progress = ImportStatus(source);
    if (progress && progress->is_object() && (*progress)["line"] > 3) break;
    std::this_thread::sleep_for(milliseconds(1));
  }
  const auto stop_started = std::chrono::steady_clock::now();
  StopDaemon();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, seconds(5));
  auto exited = edsctl.WaitExit(seconds(30));
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(WEXITSTATUS(*exited), 3) << edsctl.Log();
  EXPECT_NE(edsctl.Log().find("run the same command again to resume it"), std::string::npos)
      << edsctl.Log();

  StartDaemon();
  const auto stopped = ImportStatus(source);
  ASSERT_TRUE(stopped && stopped->is_object());
  const uint64_t resume_line = (*stopped)["line"];
  ASSERT_LE(resume_line, lines) << "the import finished before edsd was stopped";
  auto r = Edsctl({"--json", "import", "--report", dir_.Sub("resumed.tsv"), file});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming " + file + " at line " + std::to_string(resume_line)),
            std::string::npos)
      << r.output;
  auto summary = Summary(r);
  ASSERT_TRUE(summary.is_object()) << r.output;
  EXPECT_EQ(summary["files"][0]["total"]["stored"], lines);
  EXPECT_EQ(summary["files"][0]["total"]["duplicates"], 0);
  StopDaemon();
  ExpectEachOnce(StoredResources(), lines);
}

TEST_F(ImportTest, SharedBulkSampleIsStoredWhole) {
  const fs::path shared = SharedTestData();
  if (shared.empty()) {
    std::cout << "shared test data absent: the sample-bulk-10-patients import is not run "
                 "(the committed sample is imported by the other tests)\n";
    return;
  }
  const fs::path dir = shared / "fhir/bulk/sample-bulk-10-patients";
  std::vector<std::string> files;
  uint64_t lines = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    // log.ndjson is the export's log, not resources.
    if (!name.ends_with(".ndjson.zst") || name == "log.ndjson.zst") continue;
    files.push_back(e.path().string());
    lines += LineCount(Decompressed(e.path()));
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 10u);
  StartDaemon();
  std::vector<std::string> args = {"--json", "import", "--report", dir_.Sub("shared.tsv")};
  args.insert(args.end(), files.begin(), files.end());
  auto r = Edsctl(args, seconds(240));
  ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 4000);
  auto summary = Summary(r);
  ASSERT_TRUE(summary.is_object()) << r.output.substr(0, 4000);
  EXPECT_EQ(summary["stored"], lines);
  EXPECT_EQ(summary["rejected"], 0);
  StopDaemon();
  EXPECT_EQ(StoredResources().size(), lines);
}

TEST_F(ImportTest, UsageErrorsAndAnUnreachableDaemon) {
  EXPECT_EQ(Edsctl({"import"}).exit_code, 2);
  EXPECT_EQ(Edsctl({"import", "--chunk-bytes", "0", "x.ndjson"}).exit_code, 2);
  EXPECT_EQ(Edsctl({"import", "--chunk-bytes", "9000000", "x.ndjson"}).exit_code, 2);
  EXPECT_EQ(Edsctl({"import", "--resume-from", "3", "x.ndjson"}).exit_code, 2);
  const std::string file = CommittedBulkFiles()[0];
  auto down = Edsctl({"import", "--report", dir_.Sub("down.tsv"), file});
  EXPECT_EQ(down.exit_code, 3) << down.output;
  EXPECT_NE(down.output.find("is edsd running?"), std::string::npos) << down.output;
  StartDaemon();
  auto missing = Edsctl({"import", "--report", dir_.Sub("missing.tsv"), dir_.Sub("none.ndjson")});
  EXPECT_EQ(missing.exit_code, 3) << missing.output;
  EXPECT_NE(missing.output.find("none.ndjson"), std::string::npos) << missing.output;
  StopDaemon();
}

// The stream itself: a resume that does not match, too large a frame, a third import, and one
// source imported twice at once are refused.
TEST_F(ImportTest, ImportStreamRefusals) {
  StartDaemon();
  const std::string socket = dir_.Sub("edsd.sock");
  const auto start =
      [&](const std::string& source, uint64_t offset,
          uint64_t line) -> std::pair<std::unique_ptr<daemon::ControlStream>, nlohmann::json> {
    auto s = daemon::ControlStream::Connect(socket);
    EXPECT_TRUE(s.ok());
    if (!s.ok()) return {nullptr, nullptr};
    EXPECT_TRUE((*s)->WriteLine({{"cmd", "import"},
                                 {"source", source},
                                 {"name", "t.ndjson"},
                                 {"offset", offset},
                                 {"line", line}},
                                seconds(5))
                    .ok());
    auto answer = (*s)->ReadLine(seconds(10));
    EXPECT_TRUE(answer.ok()) << answer.status().message();
    return {std::move(*s), answer.ok() ? *answer : nlohmann::json()};
  };

  auto [mismatch, refused] = start("aaaa", 5, 2);
  EXPECT_EQ(refused.value("error", ""), "resume mismatch: the daemon has offset 0 line 1");

  auto [one, one_ok] = start("cccc", 0, 1);
  ASSERT_TRUE(one_ok.value("ok", false)) << one_ok.dump();
  auto [same, same_refused] = start("cccc", 0, 1);
  EXPECT_EQ(same_refused.value("error", ""), "an import of this source is already running");
  EXPECT_FALSE(same->ReadLine(seconds(10)).ok()) << "closed after the refusal";
  auto [two, two_ok] = start("dddd", 0, 1);
  ASSERT_TRUE(two_ok.value("ok", false)) << two_ok.dump();
  auto [three, three_refused] = start("eeee", 0, 1);
  EXPECT_EQ(three_refused.value("error", ""), "too many imports running");

  // A chunk over 8 MiB is refused and the stream closed.
  // (The daemon refuses on reading the length and closes: the rest of the write may fail.)
  two->WriteFrame(std::string((8 << 20) + 1, '\n'), seconds(10)).IgnoreError();
  auto too_big = two->ReadLine(seconds(10));
  ASSERT_TRUE(too_big.ok()) << too_big.status().message();
  EXPECT_FALSE(too_big->value("ok", true));
  EXPECT_NE(too_big->value("error", "").find("larger than the limit"), std::string::npos);

  // A chunk, then the end.
  const std::string chunk = R"({"resourceType":"Patient","id":"stream-1","gender":"other"})"
                            "\n";
  ASSERT_TRUE(one->WriteFrame(chunk, seconds(5)).ok());
  auto answer = one->ReadLine(seconds(30));
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->value("stored", 0), 1) << answer->dump();
  EXPECT_EQ((*answer)["progress"]["offset"], chunk.size());
  EXPECT_EQ((*answer)["progress"]["line"], 2);
  ASSERT_TRUE(one->WriteFrame("", seconds(5)).ok());
  auto done = one->ReadLine(seconds(10));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(*done, (nlohmann::json{{"ok", true}, {"done", true}}));
  auto progress = ImportStatus("cccc");
  ASSERT_TRUE(progress.has_value());
  EXPECT_EQ((*progress)["stored"], 1);
  EXPECT_EQ((*progress)["offset"], chunk.size());
  EXPECT_EQ(ImportStatus("ffff"), nlohmann::json(nullptr));

  // Both streams ended: a new import may start (the threads are reaped, bounded wait).
  one.reset();
  two.reset();
  bool accepted = false;
  for (int i = 0; i < 200 && !accepted; ++i) {
    auto [again, again_ok] = start("gggg", 0, 1);
    accepted = again_ok.value("ok", false);
    if (!accepted) std::this_thread::sleep_for(milliseconds(25));
  }
  EXPECT_TRUE(accepted);
  StopDaemon();
}

}  // namespace
}  // namespace eds::testing
