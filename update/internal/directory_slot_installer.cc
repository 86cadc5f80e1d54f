// The directory back-end: a boot loader's state in one small JSON file replaced atomically, so a
// power cut at any point leaves either the old or the new state. The inactive slot is marked
// empty in the state before it is touched and pending only once its image is durable.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "update/file_util.h"
#include "update/internal/canonical_json.h"
#include "update/slot_installer.h"

namespace eds::update {
namespace {

using nlohmann::json;

struct DirState {
  SlotState slots;
  std::map<std::string, std::string> versions;  // slot -> version, "" when empty
};

std::string Other(const std::string& slot) { return slot == "A" ? "B" : "A"; }

class DirectorySlotInstaller final : public SlotInstaller {
 public:
  explicit DirectorySlotInstaller(DirectorySlotOptions options) : options_(std::move(options)) {}

  Result<SlotState> State() override {
    EDS_ASSIGN_OR_RETURN(DirState s, Load());
    return s.slots;
  }

  Status Install(const std::filesystem::path& image, const std::string& version) override {
    EDS_ASSIGN_OR_RETURN(DirState s, Load());
    if (!s.slots.pending.empty() && s.slots.pending == s.slots.booted) {
      return FailedPreconditionError("slot " + s.slots.booted +
                                     " is booted but not yet committed: finish its health check");
    }
    const std::string target = Other(s.slots.booted);
    s.slots.pending.clear();
    s.versions[target].clear();
    EDS_RETURN_IF_ERROR(Save(s));

    const std::filesystem::path staging = options_.dir / (target + ".new");
    std::error_code ec;
    std::filesystem::remove_all(staging, ec);
    std::filesystem::create_directories(staging, ec);
    if (ec) return UnavailableError("cannot create " + staging.string() + ": " + ec.message());
    EDS_RETURN_IF_ERROR(CopyImage(image, staging / "image"));
    EDS_RETURN_IF_ERROR(WriteFileAtomic(staging / "version", version));
    std::filesystem::remove_all(options_.dir / target, ec);
    if (::rename(staging.c_str(), (options_.dir / target).c_str()) != 0) {
      return UnavailableError("cannot activate slot " + target + ": " + std::strerror(errno));
    }
    EDS_RETURN_IF_ERROR(SyncDirectory(options_.dir));

    s.versions[target] = version;
    s.slots.pending = target;
    s.slots.boot_attempts_left = options_.boot_attempts;
    return Save(s);
  }

  Status Reboot() override {
    EDS_ASSIGN_OR_RETURN(DirState s, Load());
    if (!s.slots.pending.empty() && s.slots.boot_attempts_left > 0) {
      --s.slots.boot_attempts_left;
      s.slots.booted = s.slots.pending;
    } else {
      // No pending slot, or it used up its boot attempts without being committed.
      s.slots.pending.clear();
      s.slots.boot_attempts_left = 0;
      s.slots.booted = s.slots.committed;
    }
    return Save(s);
  }

  Status MarkGood() override {
    EDS_ASSIGN_OR_RETURN(DirState s, Load());
    s.slots.committed = s.slots.booted;
    s.slots.pending.clear();
    s.slots.boot_attempts_left = 0;
    return Save(s);
  }

  Status MarkBad() override {
    EDS_ASSIGN_OR_RETURN(DirState s, Load());
    if (s.slots.pending == s.slots.booted) {
      s.slots.pending.clear();
      s.slots.boot_attempts_left = 0;
    }
    return Save(s);
  }

 private:
  std::filesystem::path StatePath() const { return options_.dir / "state.json"; }

  Result<DirState> Load() {
    auto bytes = ReadFile(StatePath());
    DirState s;
    if (!bytes.ok()) {
      if (bytes.status().code() != StatusCode::kNotFound) return bytes.status();
      s.slots.booted = s.slots.committed = "A";
      s.versions = {{"A", options_.initial_version}, {"B", ""}};
      s.slots.installed_version = options_.initial_version;
      return s;
    }
    EDS_ASSIGN_OR_RETURN(json doc, internal::ParseJson(*bytes, "slot state"));
    if (!doc.is_object() || !doc.contains("versions") || !doc["versions"].is_object()) {
      return DataLossError("slot state file is malformed");
    }
    s.slots.booted = doc.value("booted", "");
    s.slots.committed = doc.value("committed", "");
    s.slots.pending = doc.value("pending", "");
    s.slots.boot_attempts_left = doc.value("boot_attempts_left", 0);
    for (const char* slot : {"A", "B"}) s.versions[slot] = doc["versions"].value(slot, "");
    if ((s.slots.booted != "A" && s.slots.booted != "B") ||
        (s.slots.committed != "A" && s.slots.committed != "B")) {
      return DataLossError("slot state file names an unknown slot");
    }
    s.slots.installed_version = s.versions[s.slots.committed];
    return s;
  }

  Status Save(const DirState& s) {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec) return UnavailableError("cannot create " + options_.dir.string());
    json doc = {{"booted", s.slots.booted},
                {"committed", s.slots.committed},
                {"pending", s.slots.pending},
                {"boot_attempts_left", s.slots.boot_attempts_left},
                {"versions", s.versions}};
    return WriteFileAtomic(StatePath(), doc.dump(2) + "\n");
  }

  Status CopyImage(const std::filesystem::path& from, const std::filesystem::path& to) {
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return UnavailableError("cannot open image " + from.string());
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
      ::close(in);
      return UnavailableError("cannot create " + to.string());
    }
    Status status;
    char buf[64 * 1024];
    uint64_t total = 0;
    while (status.ok()) {
      const ssize_t n = ::read(in, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) status = UnavailableError("cannot read image " + from.string());
      if (n <= 0) break;
      for (ssize_t done = 0; done < n && status.ok();) {
        const ssize_t w = ::write(out, buf + done, static_cast<size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) status = UnavailableError("cannot write " + to.string());
        if (w > 0) done += w;
      }
      total += static_cast<uint64_t>(n);
      if (options_.after_chunk_for_test) options_.after_chunk_for_test(total);
    }
    if (status.ok() && ::fsync(out) != 0) status = UnavailableError("cannot sync " + to.string());
    ::close(in);
    ::close(out);
    return status;
  }

  DirectorySlotOptions options_;
};

}  // namespace

std::unique_ptr<SlotInstaller> MakeDirectorySlotInstaller(DirectorySlotOptions options) {
  return std::make_unique<DirectorySlotInstaller>(std::move(options));
}

}  // namespace eds::update
