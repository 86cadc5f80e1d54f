#include "daemon/control_import.h"

#include <condition_variable>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "common/log.h"
#include "common/mutex.h"
#include "daemon/import_reader.h"
#include "ingest/bulk_ingest.h"

namespace eds::daemon {
namespace {

constexpr auto kAnswerTimeout = std::chrono::seconds(60);

nlohmann::json ProgressJson(const ingest::ImportProgress& p) {
  return {{"offset", p.offset},
          {"line", p.line},
          {"stored", p.stored},
          {"duplicates", p.duplicates},
          {"rejected", p.rejected}};
}

nlohmann::json Failure(const std::string& error) { return {{"ok", false}, {"error", error}}; }

// The sources being imported now: one import per source at a time, so that two clients never
// continue the same progress twice.
class ActiveSources {
 public:
  bool Claim(const std::string& source) {
    MutexLock lock(mu_);
    return sources_.insert(source).second;
  }
  void Release(const std::string& source) {
    {
      MutexLock lock(mu_);
      sources_.erase(source);
    }
    released_.notify_all();
  }
  // Waits until no import of `source` runs, at most `timeout`: a client interrupted a moment
  // ago may still have a chunk being stored.
  void AwaitIdle(const std::string& source, std::chrono::milliseconds timeout) {
    MutexLock lock(mu_);
    lock.WaitFor(released_, timeout,
                 [&]() EDS_REQUIRES(mu_) { return sources_.count(source) == 0; });
  }

 private:
  Mutex mu_;
  std::condition_variable released_;
  std::set<std::string> sources_ EDS_GUARDED_BY(mu_);
};

ActiveSources& Active() {
  static ActiveSources* active = new ActiveSources();
  return *active;
}

class SourceClaim {
 public:
  explicit SourceClaim(std::string source) : source_(std::move(source)) {
    claimed_ = Active().Claim(source_);
  }
  ~SourceClaim() {
    if (claimed_) Active().Release(source_);
  }
  SourceClaim(const SourceClaim&) = delete;
  SourceClaim& operator=(const SourceClaim&) = delete;
  bool claimed() const { return claimed_; }

 private:
  std::string source_;
  bool claimed_ = false;
};

// Commits prepared chunks on a thread of its own, one at a time and in order, and answers the
// client for each, so that the next chunk is filed and sealed meanwhile.
class ChunkCommitter {
 public:
  ChunkCommitter(ingest::BulkIngest& bulk, ControlStream& stream,
                 const ingest::ImportProgress& durable)
      : bulk_(bulk), stream_(stream), durable_(durable), thread_([this] { Run(); }) {}
  ~ChunkCommitter() {
    Drain();
    {
      MutexLock lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  ChunkCommitter(const ChunkCommitter&) = delete;
  ChunkCommitter& operator=(const ChunkCommitter&) = delete;

  // Waits for the chunk before to be committed and answered, then hands `chunk` over. False
  // (and `chunk` dropped) once a commit or an answer failed.
  bool Submit(ingest::PreparedChunk chunk) {
    MutexLock lock(mu_);
    lock.Wait(cv_, [this]() EDS_REQUIRES(mu_) { return !busy_ || !failure_.empty(); });
    if (!failure_.empty()) return false;
    next_ = std::move(chunk);
    busy_ = true;
    cv_.notify_all();
    return true;
  }
  // Waits until every chunk handed over is committed and answered; returns the failure that
  // stopped it, already answered ("" when none).
  std::string Drain() {
    MutexLock lock(mu_);
    lock.Wait(cv_, [this]() EDS_REQUIRES(mu_) { return !busy_; });
    return failure_;
  }
  // The progress of the last chunk committed (what the import started from before any).
  ingest::ImportProgress durable() {
    MutexLock lock(mu_);
    return durable_;
  }

 private:
  void Run() {
    for (;;) {
      std::optional<ingest::PreparedChunk> chunk;
      {
        MutexLock lock(mu_);
        lock.Wait(cv_, [this]() EDS_REQUIRES(mu_) { return next_.has_value() || stop_; });
        if (!next_) return;
        chunk = std::move(next_);
        next_.reset();
      }
      const std::string failure = CommitAndAnswer(std::move(*chunk));
      MutexLock lock(mu_);
      if (failure_.empty()) failure_ = failure;
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::string CommitAndAnswer(ingest::PreparedChunk chunk) {
    auto result = bulk_.Commit(std::move(chunk));
    if (!result.ok()) {
      stream_.WriteLine(Failure(result.status().message()), kAnswerTimeout).IgnoreError();
      return std::string(result.status().message());
    }
    {
      MutexLock lock(mu_);
      durable_ = result->progress;
    }
    nlohmann::json rejected = nlohmann::json::array();
    for (const auto& r : result->rejected) {
      rejected.push_back({{"line", r.line}, {"reason", r.reason}, {"expression", r.expression}});
    }
    Status answered = stream_.WriteLine({{"ok", true},
                                         {"stored", result->stored},
                                         {"duplicates", result->duplicates},
                                         {"rejected", std::move(rejected)},
                                         {"progress", ProgressJson(result->progress)}},
                                        kAnswerTimeout);
    return answered.ok() ? "" : std::string(answered.message());
  }

  ingest::BulkIngest& bulk_;
  ControlStream& stream_;
  Mutex mu_;
  std::condition_variable cv_;
  ingest::ImportProgress durable_ EDS_GUARDED_BY(mu_);
  std::optional<ingest::PreparedChunk> next_ EDS_GUARDED_BY(mu_);
  bool busy_ EDS_GUARDED_BY(mu_) = false;  // a chunk handed over is not answered yet
  bool stop_ EDS_GUARDED_BY(mu_) = false;
  std::string failure_ EDS_GUARDED_BY(mu_);
  std::thread thread_;
};

// The chunks of one import from `progress` on, until the stream ends; returns the reason it
// ended, for the log. Three stages overlap: the reader reads and validates chunk n+2, this thread
// files and seals chunk n+1, the committer commits chunk n. A chunk that names a resource the one
// committing files waits for that commit before it is filed.
std::string FileChunks(ingest::BulkIngest& bulk, ControlStream& stream, ImportReader& reader,
                       ChunkCommitter& committer, ingest::ImportProgress progress,
                       const std::string& actor) {
  std::optional<ingest::ChunkNames> committing;  // of the chunk handed to the committer last
  for (;;) {
    ImportReader::Item item = reader.Next();
    if (!item.chunk) {
      const std::string failed = committer.Drain();
      if (!failed.empty()) return failed;
      if (item.done) {
        stream.WriteLine({{"ok", true}, {"done", true}}, kAnswerTimeout).IgnoreError();
      } else if (!item.failure.empty()) {
        stream.WriteLine(Failure(item.failure), kAnswerTimeout).IgnoreError();
      }
      return item.ended;
    }
    if (committing && ingest::BulkIngest::Shares(*committing, *item.chunk)) {
      const std::string failed = committer.Drain();
      if (!failed.empty()) return failed;
      committing.reset();
    }
    auto prepared =
        bulk.Prepare(std::move(*item.chunk), progress, actor, committing ? &*committing : nullptr);
    if (!prepared.ok()) {
      const std::string failed = committer.Drain();
      if (!failed.empty()) return failed;
      stream.WriteLine(Failure(prepared.status().message()), kAnswerTimeout).IgnoreError();
      return std::string(prepared.status().message());
    }
    progress = prepared->result.progress;
    committing = std::move(prepared->names);
    if (!committer.Submit(std::move(*prepared))) return committer.Drain();
    if (stream.Woken()) {
      const std::string failed = committer.Drain();
      return failed.empty() ? "edsd is stopping" : failed;
    }
  }
}

// FileChunks with its reader and committer; `progress` ends as the last durable one.
std::string StreamChunks(ingest::BulkIngest& bulk, ControlStream& stream,
                         ingest::ImportProgress& progress, const std::string& actor,
                         std::chrono::milliseconds idle_timeout) {
  ImportReader reader(stream, progress.line, idle_timeout);
  ChunkCommitter committer(bulk, stream, progress);
  const std::string ended = FileChunks(bulk, stream, reader, committer, progress, actor);
  committer.Drain();
  progress = committer.durable();
  return ended;
}

}  // namespace

nlohmann::json ImportStatus(ControlContext& ctx, const nlohmann::json& request) {
  if (ctx.bulk == nullptr) return Failure("import is not available");
  const std::string source = request.value("source", "");
  if (source.empty()) return Failure("an import needs a source id");
  if (request.value("settle", false)) Active().AwaitIdle(source, kAnswerTimeout / 4);
  auto progress = ctx.bulk->Progress(source);
  if (!progress.ok()) return Failure(progress.status().message());
  if (!progress->has_value()) return {{"ok", true}, {"progress", nullptr}};
  return {{"ok", true}, {"progress", ProgressJson(**progress)}};
}

void ServeImport(ControlContext& ctx, ControlStream& stream, const nlohmann::json& request,
                 const PeerCredentials& peer, std::chrono::milliseconds idle_timeout) {
  auto refuse = [&](const std::string& error) {
    stream.WriteLine(Failure(error), kAnswerTimeout).IgnoreError();
  };
  if (ctx.bulk == nullptr) return refuse("import is not available");
  std::string source;
  std::string name;
  uint64_t offset = 0;
  uint64_t line = 0;
  try {
    source = request.value("source", "");
    offset = request.value("offset", uint64_t{0});
    line = request.value("line", uint64_t{1});
    name = request.value("name", "");
  } catch (const std::exception&) {
    return refuse("malformed import request");
  }
  if (source.empty()) return refuse("an import needs a source id");
  SourceClaim claim(source);
  if (!claim.claimed()) return refuse("an import of this source is already running");
  auto stored = ctx.bulk->Progress(source);
  if (!stored.ok()) return refuse(stored.status().message());
  ingest::ImportProgress progress;
  progress.source_id = source;
  if (stored->has_value()) progress = **stored;
  if (offset != progress.offset || line != progress.line) {
    return refuse("resume mismatch: the daemon has offset " + std::to_string(progress.offset) +
                  " line " + std::to_string(progress.line));
  }
  if (!stream.WriteLine({{"ok", true}}, kAnswerTimeout).ok()) return;
  const std::string actor = "edsctl uid=" + std::to_string(peer.uid);
  const uint64_t first_line = progress.line;
  const std::string ended = StreamChunks(*ctx.bulk, stream, progress, actor, idle_timeout);
  const std::string lines =
      progress.line == first_line
          ? "no new lines"
          : "lines " + std::to_string(first_line) + " to " + std::to_string(progress.line - 1);
  LogInfo("import of " + (name.empty() ? source : name) + ": " + lines + " (" + ended + ")",
          {{"EDS_IMPORT_SOURCE", source},
           {"EDS_IMPORT_STORED", std::to_string(progress.stored)},
           {"EDS_IMPORT_DUPLICATES", std::to_string(progress.duplicates)},
           {"EDS_IMPORT_REJECTED", std::to_string(progress.rejected)}});
}

}  // namespace eds::daemon
