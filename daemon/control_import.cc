#include "daemon/control_import.h"

#include <condition_variable>
#include <set>
#include <string>

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

// The chunks of one import, until the stream ends; returns the reason it ended, for the log.
// The reader reads and validates the next chunk while this thread stores the current one.
std::string StreamChunks(ingest::BulkIngest& bulk, ControlStream& stream,
                         ingest::ImportProgress& progress, const std::string& actor,
                         std::chrono::milliseconds idle_timeout) {
  ImportReader reader(stream, progress.line, idle_timeout);
  for (;;) {
    ImportReader::Item item = reader.Next();
    if (!item.chunk) {
      if (item.done) {
        stream.WriteLine({{"ok", true}, {"done", true}}, kAnswerTimeout).IgnoreError();
      } else if (!item.failure.empty()) {
        stream.WriteLine(Failure(item.failure), kAnswerTimeout).IgnoreError();
      }
      return item.ended;
    }
    auto result = bulk.Ingest(std::move(*item.chunk), progress, actor);
    if (!result.ok()) {
      stream.WriteLine(Failure(result.status().message()), kAnswerTimeout).IgnoreError();
      return result.status().message();
    }
    progress = result->progress;
    nlohmann::json rejected = nlohmann::json::array();
    for (const auto& r : result->rejected) {
      rejected.push_back({{"line", r.line}, {"reason", r.reason}, {"expression", r.expression}});
    }
    Status answered = stream.WriteLine({{"ok", true},
                                        {"stored", result->stored},
                                        {"duplicates", result->duplicates},
                                        {"rejected", std::move(rejected)},
                                        {"progress", ProgressJson(progress)}},
                                       kAnswerTimeout);
    if (!answered.ok()) return answered.message();
    if (stream.Woken()) return "edsd is stopping";
  }
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
  LogInfo("import of " + (name.empty() ? source : name) + ": lines " + std::to_string(first_line) +
              " to " + std::to_string(progress.line - 1) + " (" + ended + ")",
          {{"EDS_IMPORT_SOURCE", source},
           {"EDS_IMPORT_STORED", std::to_string(progress.stored)},
           {"EDS_IMPORT_DUPLICATES", std::to_string(progress.duplicates)},
           {"EDS_IMPORT_REJECTED", std::to_string(progress.rejected)}});
}

}  // namespace eds::daemon
