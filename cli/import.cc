// edsctl import: FHIR Bulk Data NDJSON files (plain, gzip, zstd) streamed into the running edsd
// over the control socket's import stream (docs/formats/control.md), resumable, with a progress
// line and a report of the rejected lines.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ndjson_file.h"
#include "daemon/control_server.h"
#include "daemon/control_stream.h"

namespace eds::cli {
namespace {

using Clock = std::chrono::steady_clock;
using daemon::ControlStream;

constexpr size_t kMaxLineBytes = daemon::kMaxImportFrameBytes;  // with its '\n'
constexpr size_t kDefaultChunkBytes = size_t{4} << 20;
constexpr auto kWriteTimeout = std::chrono::seconds(60);
// A chunk of 8 MiB is stored in seconds; a store busy with a backup or a compaction may take
// longer, but not this long.
constexpr auto kAnswerTimeout = std::chrono::minutes(10);
constexpr size_t kReadBlockBytes = 256 * 1024;
// Chunks sent before waiting for an answer: edsd reads and validates one chunk while it files
// the one before and commits the one before that.
constexpr int kChunksInFlight = 3;

constexpr int kExitRejected = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnavailable = 3;

void Usage() {
  std::fputs(
      "usage: edsctl import [--report FILE] [--chunk-bytes N] FILE...\n"
      "  FILE: FHIR Bulk Data NDJSON, plain, gzip or zstd (told by its first bytes)\n"
      "  --report FILE     the rejected lines, as TSV (default ./edsctl-import-<UTC "
      "time>.report.tsv)\n"
      "  --chunk-bytes N   bytes of whole lines per chunk (default 4 MiB, at most 8 MiB)\n"
      "An interrupted import resumes where the daemon's last stored chunk ended when run again.\n",
      stderr);
}

struct Counts {
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;

  uint64_t lines() const { return stored + duplicates + rejected; }
  void Add(const Counts& o) {
    stored += o.stored;
    duplicates += o.duplicates;
    rejected += o.rejected;
  }
  nlohmann::json Json() const {
    return {{"stored", stored}, {"duplicates", duplicates}, {"rejected", rejected}};
  }
  std::string Text() const {
    return "stored " + std::to_string(stored) + ", duplicates " + std::to_string(duplicates) +
           ", rejected " + std::to_string(rejected);
  }
};

struct Progress {  // the daemon's progress of one source
  uint64_t offset = 0;
  uint64_t line = 1;
  Counts counts;
};

Progress ProgressFromJson(const nlohmann::json& j) {
  Progress p;
  p.offset = j.value("offset", uint64_t{0});
  p.line = j.value("line", uint64_t{1});
  p.counts = {j.value("stored", uint64_t{0}), j.value("duplicates", uint64_t{0}),
              j.value("rejected", uint64_t{0})};
  return p;
}

struct FileOutcome {
  std::string path;
  std::string source;
  std::optional<uint64_t> resumed_at_line;
  bool already_imported = false;
  Counts run;    // this run
  Counts total;  // since the import of this file began (earlier interrupted runs included)
  std::string error;
};

std::string Grouped(uint64_t n) {  // 1234567 -> "1 234 567"
  const std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(' ');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Duration(double seconds) {
  const uint64_t s = static_cast<uint64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, (s / 60) % 60,
                  s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
  }
  return buf;
}

// The progress line on stderr: rewritten in place on a terminal, else a line every 5 s.
class ProgressLine {
 public:
  ProgressLine(std::string name, uint64_t file_size)
      : name_(std::move(name)), file_size_(file_size), tty_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressLine() {
    if (open_line_) std::fputs("\n", stderr);  // an import that failed midway
  }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // A line of its own on stderr, below the progress line.
  void Note(const std::string& text) {
    if (open_line_) std::fputs("\n", stderr);
    open_line_ = false;
    std::fprintf(stderr, "%s\n", text.c_str());
  }

  void Update(uint64_t file_bytes_read, uint64_t resources, bool last = false) {
    const auto now = Clock::now();
    if (!started_) {
      started_ = true;
      start_ = now;
      start_bytes_ = file_bytes_read;
      shown_ = now;
    }
    const auto period = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
    if (!last && now - shown_ < period) return;
    if (last && !tty_) return;
    shown_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const uint64_t percent = file_size_ == 0 ? 100 : file_bytes_read * 100 / file_size_;
    std::string text =
        name_ + " " + std::to_string(percent) + "% " + Grouped(resources) + " resources";
    if (elapsed > 0.5) {
      text += " " + Grouped(static_cast<uint64_t>(static_cast<double>(resources) / elapsed)) + "/s";
      const uint64_t done = file_bytes_read - start_bytes_;
      if (done > 0 && !last) {
        const double left = static_cast<double>(file_size_ - std::min(file_size_, file_bytes_read));
        text += " ETA " + Duration(elapsed * left / static_cast<double>(done));
      }
    }
    if (tty_) {
      const size_t width = text.size();
      if (text.size() < last_width_) text.append(last_width_ - text.size(), ' ');
      last_width_ = width;
      std::fprintf(stderr, "\r%s%s", text.c_str(), last ? "\n" : "");
      open_line_ = !last;
    } else {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }

 private:
  std::string name_;
  uint64_t file_size_;
  bool tty_;
  bool started_ = false;
  Clock::time_point start_;
  Clock::time_point shown_;
  uint64_t start_bytes_ = 0;
  size_t last_width_ = 0;
  bool open_line_ = false;  // a line on the terminal without its '\n' yet
};

// The report: one TSV row per rejected line, written as the answers come (an interrupted run
// keeps what it learnt).
class Report {
 public:
  bool Open(const std::string& path) {
    out_.open(path, std::ios::out | std::ios::trunc);
    if (!out_) return false;
    out_ << "file\tline\treason\texpression\n";
    out_.flush();
    return static_cast<bool>(out_);
  }
  void Add(const std::string& file, uint64_t line, const std::string& reason,
           const std::string& expression) {
    out_ << Field(file) << '\t' << line << '\t' << Field(reason) << '\t' << Field(expression)
         << '\n';
  }
  void Flush() { out_.flush(); }

 private:
  static std::string Field(std::string s) {
    for (char& c : s) {
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    }
    return s;
  }
  std::ofstream out_;
};

// One file's import over its stream: reads the decompressed lines, skips what the daemon already
// has, sends the rest in chunks of whole lines and tallies the answers. A line longer than 8 MiB
// is rejected here and goes as an empty line, so that offsets and line numbers stay the file's.
class FileImport {
 public:
  FileImport(NdjsonFile& file, ControlStream& stream, const Progress& from, size_t chunk_bytes,
             Report& report, FileOutcome& outcome)
      : file_(file),
        stream_(stream),
        from_(from),
        last_(from),
        chunk_bytes_(chunk_bytes),
        report_(report),
        outcome_(outcome),
        progress_(std::filesystem::path(file.path()).filename().string(), file.size()) {}

  Status Run() {
    std::string block(kReadBlockBytes, '\0');
    progress_.Update(file_.bytes_consumed(), 0);  // the clock starts
    for (;;) {
      auto n = file_.Read(block.data(), block.size());
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      Status s = Consume(std::string_view(block.data(), *n));
      if (!s.ok()) return s;
      progress_.Update(file_.bytes_consumed(), outcome_.run.lines());
    }
    // The last line, when the file does not end with '\n'.
    if (oversize_) {
      Status s = Oversize();
      if (!s.ok()) return s;
    } else if (!partial_.empty()) {
      Status s = Line(partial_);
      if (!s.ok()) return s;
    }
    if (offset_ < from_.offset) {
      return FailedPreconditionError("the file is shorter than the daemon's progress of it (" +
                                     std::to_string(from_.offset) +
                                     " bytes): it changed since the import began");
    }
    if (!chunk_.empty()) {
      Status s = SendChunk();
      if (!s.ok()) return s;
    }
    while (unanswered_ > 0) {
      Status s = ReadAnswer();
      if (!s.ok()) return s;
    }
    outcome_.already_imported = from_.offset > 0 && !outcome_.resumed_at_line;
    Status s = stream_.WriteFrame("", kWriteTimeout);
    if (!s.ok()) return s;
    auto done = stream_.ReadLine(kAnswerTimeout);
    if (!done.ok()) return done.status();
    if (!done->value("ok", false)) return UnavailableError(done->value("error", "import failed"));
    progress_.Update(file_.bytes_consumed(), outcome_.run.lines(), true);
    return OkStatus();
  }

  // The daemon's totals for the file and the lines rejected here.
  Counts Total() const {
    Counts t = last_.counts;
    t.rejected += local_rejected_;
    return t;
  }

 private:
  Status Consume(std::string_view data) {
    while (!data.empty()) {
      const size_t nl = data.find('\n');
      const size_t seg = nl == std::string_view::npos ? data.size() : nl + 1;
      if (!oversize_) {
        if (partial_.size() + seg > kMaxLineBytes) {
          oversize_ = true;
          partial_.clear();
          partial_.shrink_to_fit();
        } else {
          partial_.append(data.substr(0, seg));
        }
      }
      data.remove_prefix(seg);
      if (nl == std::string_view::npos) break;
      Status s = oversize_ ? Oversize() : Line(partial_);
      if (!s.ok()) return s;
      oversize_ = false;
      partial_.clear();
    }
    return OkStatus();
  }

  // A line too long to send: rejected here, an empty line in its place (also for a last line
  // without '\n', so that the daemon counts it).
  Status Oversize() {
    ++local_rejected_;
    if (line_ >= from_.line) {
      ++outcome_.run.rejected;
      report_.Add(outcome_.path, line_, "line longer than 8 MiB (not sent)", "");
    }
    return Line("\n");
  }

  // One line (with its '\n', but for the file's last): skipped when the daemon has it, else added
  // to the chunk.
  Status Line(std::string_view text) {
    const uint64_t number = line_++;
    if (offset_ < from_.offset) {
      offset_ += text.size();
      if (offset_ > from_.offset || (offset_ == from_.offset && line_ != from_.line)) {
        return FailedPreconditionError(
            "the daemon's progress of this file (offset " + std::to_string(from_.offset) +
            ", line " + std::to_string(from_.line) + ") does not fall on line " +
            std::to_string(number) + "'s end: the file changed since the import began");
      }
      return OkStatus();
    }
    if (from_.offset > 0 && !outcome_.resumed_at_line) {
      outcome_.resumed_at_line = from_.line;
      progress_.Note("resuming " + outcome_.path + " at line " + std::to_string(from_.line));
    }
    offset_ += text.size();
    if (!chunk_.empty() && chunk_.size() + text.size() > chunk_bytes_) {
      Status s = SendChunk();
      if (!s.ok()) return s;
    }
    chunk_.append(text);
    return OkStatus();
  }

  Status SendChunk() {
    Status s = stream_.WriteFrame(chunk_, kWriteTimeout);
    if (!s.ok()) {
      // edsd may have refused an earlier chunk and closed: its answer says why.
      if (unanswered_ > 0) {
        Status refused = ReadAnswer();
        if (!refused.ok()) return refused;
      }
      return s;
    }
    chunk_.clear();
    ++unanswered_;
    while (unanswered_ >= kChunksInFlight) {
      Status a = ReadAnswer();
      if (!a.ok()) return a;
    }
    return OkStatus();
  }

  // The answer to the oldest chunk not answered yet.
  Status ReadAnswer() {
    --unanswered_;
    auto answer = stream_.ReadLine(kAnswerTimeout);
    if (!answer.ok()) return answer.status();
    if (!answer->value("ok", false)) {
      return UnavailableError(answer->value("error", "the daemon refused the chunk"));
    }
    outcome_.run.stored += answer->value("stored", uint64_t{0});
    outcome_.run.duplicates += answer->value("duplicates", uint64_t{0});
    if (const auto r = answer->find("rejected"); r != answer->end() && r->is_array()) {
      for (const auto& row : *r) {
        ++outcome_.run.rejected;
        report_.Add(outcome_.path, row.value("line", uint64_t{0}), row.value("reason", ""),
                    row.value("expression", ""));
      }
    }
    report_.Flush();
    if (const auto p = answer->find("progress"); p != answer->end() && p->is_object()) {
      last_ = ProgressFromJson(*p);
    }
    return OkStatus();
  }

  NdjsonFile& file_;
  ControlStream& stream_;
  const Progress from_;  // where the daemon stood when this run began
  Progress last_;        // the daemon's progress after the last answer
  size_t chunk_bytes_;
  Report& report_;
  FileOutcome& outcome_;
  ProgressLine progress_;
  uint64_t offset_ = 0;  // bytes of the stream (as sent) so far
  uint64_t line_ = 1;    // number of the next line
  std::string partial_;  // the current line, while incomplete
  bool oversize_ = false;
  std::string chunk_;
  int unanswered_ = 0;           // chunks sent and not answered yet
  uint64_t local_rejected_ = 0;  // over the whole file
};

std::string DefaultReportPath() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "edsctl-import-%Y%m%dT%H%M%SZ.report.tsv", &tm);
  return std::string("./") + buf;
}

// Imports one file; `unreachable` is set when the daemon cannot be reached at all.
FileOutcome ImportFile(const std::string& socket, const std::string& path, size_t chunk_bytes,
                       Report& report, bool& unreachable) {
  FileOutcome outcome;
  outcome.path = path;
  auto file = NdjsonFile::Open(path);
  if (!file.ok()) {
    outcome.error = file.status().message();
    return outcome;
  }
  auto source = ImportSourceId(path);
  if (!source.ok()) {
    outcome.error = source.status().message();
    return outcome;
  }
  outcome.source = *source;
  auto status = daemon::ControlRequest(
      socket, {{"cmd", "import-status"}, {"source", *source}, {"settle", true}}, 60000);
  if (!status.ok()) {
    unreachable = true;
    outcome.error = status.status().message();
    return outcome;
  }
  if (!status->value("ok", false)) {
    outcome.error = status->value("error", "import-status failed");
    return outcome;
  }
  Progress from;
  if (const auto p = status->find("progress"); p != status->end() && p->is_object()) {
    from = ProgressFromJson(*p);
  }
  auto stream = ControlStream::Connect(socket);
  if (!stream.ok()) {
    unreachable = true;
    outcome.error = stream.status().message();
    return outcome;
  }
  const std::string name = std::filesystem::path(path).filename().string();
  Status sent = (*stream)->WriteLine({{"cmd", "import"},
                                      {"source", *source},
                                      {"name", name},
                                      {"offset", from.offset},
                                      {"line", from.line}},
                                     kWriteTimeout);
  auto accepted = sent.ok() ? (*stream)->ReadLine(std::chrono::seconds(60))
                            : Result<nlohmann::json>(std::move(sent));
  if (!accepted.ok()) {
    outcome.error = "edsd: " + accepted.status().message();
    return outcome;
  }
  if (!accepted->value("ok", false)) {
    outcome.error = accepted->value("error", "the daemon refused the import");
    return outcome;
  }
  FileImport run(**file, **stream, from, chunk_bytes, report, outcome);
  Status s = run.Run();
  outcome.total = run.Total();
  if (!s.ok()) {
    outcome.error = s.message();
    if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kCancelled) {
      outcome.error += " (the import stopped; run the same command again to resume it)";
    }
  }
  return outcome;
}

void PrintSummary(const std::vector<FileOutcome>& outcomes, const Counts& total,
                  const std::string& report_path, bool json) {
  if (json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& o : outcomes) {
      nlohmann::json f = o.run.Json();
      f["file"] = o.path;
      f["source"] = o.source;
      f["resumed_at_line"] =
          o.resumed_at_line ? nlohmann::json(*o.resumed_at_line) : nlohmann::json(nullptr);
      f["already_imported"] = o.already_imported;
      f["total"] = o.total.Json();
      if (!o.error.empty()) f["error"] = o.error;
      files.push_back(std::move(f));
    }
    nlohmann::json j = total.Json();
    j["files"] = std::move(files);
    j["report"] = report_path;
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  for (const auto& o : outcomes) {
    if (!o.error.empty()) {
      std::printf("%s: not imported: %s\n", o.path.c_str(), o.error.c_str());
    } else if (o.already_imported) {
      std::printf("%s: already imported (%s)\n", o.path.c_str(), o.total.Text().c_str());
    } else if (o.resumed_at_line) {
      std::printf("%s: resumed at line %" PRIu64 ": %s (since the import began: %s)\n",
                  o.path.c_str(), *o.resumed_at_line, o.run.Text().c_str(), o.total.Text().c_str());
    } else {
      std::printf("%s: %s\n", o.path.c_str(), o.run.Text().c_str());
    }
  }
  std::printf("total: %s\nreport: %s\n", total.Text().c_str(), report_path.c_str());
}

}  // namespace

int RunImport(const GlobalOptions& options, const std::vector<std::string>& args) {
  std::string report_path;
  size_t chunk_bytes = kDefaultChunkBytes;
  std::vector<std::string> files;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--report" && i + 1 < args.size()) {
      report_path = args[++i];
    } else if (a == "--chunk-bytes" && i + 1 < args.size()) {
      const std::string& v = args[++i];
      char* end = nullptr;
      errno = 0;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno != 0 || n == 0 || n > kMaxLineBytes) {
        std::fprintf(stderr, "edsctl import: --chunk-bytes takes 1 to %zu\n", kMaxLineBytes);
        return kExitUsage;
      }
      chunk_bytes = static_cast<size_t>(n);
    } else if (a == "--help" || a == "-h") {
      Usage();
      return 0;  // asked for: not a usage error
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "edsctl import: unknown option %s\n", a.c_str());
      Usage();
      return kExitUsage;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    Usage();
    return kExitUsage;
  }
  if (report_path.empty()) report_path = DefaultReportPath();
  Report report;
  if (!report.Open(report_path)) {
    std::fprintf(stderr, "edsctl import: cannot write the report %s: %s\n", report_path.c_str(),
                 std::strerror(errno));
    return kExitUnavailable;
  }
  const std::string socket = SocketPath(options);
  std::vector<FileOutcome> outcomes;
  Counts total;
  bool failed = false;
  bool rejected = false;
  for (const auto& path : files) {
    bool unreachable = false;
    outcomes.push_back(ImportFile(socket, path, chunk_bytes, report, unreachable));
    const FileOutcome& o = outcomes.back();
    total.Add(o.run);
    rejected |= o.total.rejected > 0 || o.run.rejected > 0;
    if (!o.error.empty()) {
      failed = true;
      std::fprintf(stderr, "edsctl import: %s: %s\n", path.c_str(), o.error.c_str());
    }
    if (unreachable) break;  // every other file would fail the same way
  }
  report.Flush();
  PrintSummary(outcomes, total, report_path, options.json);
  if (failed) return kExitUnavailable;
  return rejected ? kExitRejected : 0;
}

}  // namespace eds::cli
