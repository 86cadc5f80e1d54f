// Online backups (RocksDB checkpoints), their registry, scrubbing on erasure, offline restore.
#include <rocksdb/utilities/checkpoint.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "storage/internal/store_impl.h"

namespace eds::storage {

using internal::Cf;
using internal::WriteOp;
namespace fs = std::filesystem;

namespace {

constexpr char kManifestName[] = "EDS-BACKUP.json";

std::string CompactTimestamp(std::chrono::system_clock::time_point t) {
  std::string s = FormatRfc3339(t);  // 2026-11-28T15:35:38.123Z
  std::string out;
  for (char c : s.substr(0, 19)) {
    if (c != '-' && c != ':') out.push_back(c);
  }
  return out + "Z";
}

}  // namespace

// Opens a backup (a store directory) by itself, for scrubbing and re-wrapping.
Status WithBackupDb(
    const std::string& path,
    const std::function<Status(rocksdb::DB*, std::vector<rocksdb::ColumnFamilyHandle*>&)>& fn) {
  rocksdb::DBOptions o;
  o.create_if_missing = false;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : internal::kCfNames)
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EDS_RETURN_IF_ERROR(FromRocksStatus(rocksdb::DB::Open(o, path, cfs, &handles, &raw), path));
  std::unique_ptr<rocksdb::DB> db(raw);
  Status s = fn(db.get(), handles);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  Status close = FromRocksStatus(db->Close(), path);
  return s.ok() ? close : s;
}

Result<std::string> Store::Backup(const std::string& dir, const AuditEvent& event) {
  if (dir.empty()) return InvalidArgumentError("backup needs a directory");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return PermissionDeniedError("cannot create " + dir + ": " + ec.message());
  const fs::path base = fs::absolute(dir, ec);
  std::string name = "eds-backup-" + CompactTimestamp(impl_->clock->Now());
  fs::path target = base / name;
  for (int i = 2; fs::exists(target, ec); ++i) target = base / (name + "-" + std::to_string(i));

  rocksdb::Checkpoint* raw = nullptr;
  EDS_RETURN_IF_ERROR(
      FromRocksStatus(rocksdb::Checkpoint::Create(impl_->db.get(), &raw), "backup"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush = 0: flush memtables first, so the backup needs no WAL replay.
  EDS_RETURN_IF_ERROR(
      FromRocksStatus(checkpoint->CreateCheckpoint(target.string(), 0), "backup checkpoint"));
  ::chmod(target.c_str(), 0700);

  const StoreStats stats = Stats();
  nlohmann::json manifest = {{"format", 1},
                             {"created", FormatRfc3339(impl_->clock->Now())},
                             {"master_key_id", MasterKeyId()},
                             {"records_estimate", stats.records_estimate},
                             {"patients", stats.patients},
                             {"audit_entries", stats.audit_entries}};
  {
    std::ofstream out(target / kManifestName);
    out << manifest.dump(2) << "\n";
    if (!out) return InternalError("cannot write the backup manifest");
  }
  AuditEvent ev = event;
  ev.action = "store.backup";
  ev.object = target.string();
  EDS_RETURN_IF_ERROR(impl_->queue->Commit(
      {{WriteOp::Kind::kPut, Cf::kMeta, std::string(internal::kBackupPrefix) + target.string(),
        FormatRfc3339(impl_->clock->Now())}},
      {ev}));
  return target.string();
}

Status ApplyAndPurge(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                     const std::vector<WriteOp>& ops) {
  rocksdb::WriteBatch batch;
  for (const auto& op : ops) {
    auto* cfh = handles[static_cast<size_t>(op.cf)];
    rocksdb::Status s;
    switch (op.kind) {
      case WriteOp::Kind::kPut:
        s = batch.Put(cfh, op.key, op.value);
        break;
      case WriteOp::Kind::kDelete:
        s = batch.Delete(cfh, op.key);
        break;
      case WriteOp::Kind::kDeleteRange:
        s = batch.DeleteRange(cfh, op.key, op.value);
        break;
    }
    EDS_RETURN_IF_ERROR(FromRocksStatus(s, "building a batch"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  EDS_RETURN_IF_ERROR(FromRocksStatus(db->Write(wo, &batch), "writing a backup"));
  EDS_RETURN_IF_ERROR(FromRocksStatus(db->Flush(rocksdb::FlushOptions(), handles), "flushing"));
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* cfh : handles) {
    EDS_RETURN_IF_ERROR(FromRocksStatus(db->CompactRange(co, cfh, nullptr, nullptr), "compacting"));
  }
  return OkStatus();
}

std::vector<std::string> Store::Impl::RegisteredBackups() {
  std::vector<std::string> paths;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf(Cf::kMeta)));
  const std::string prefix(internal::kBackupPrefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    paths.push_back(it->key().ToString().substr(prefix.size()));
  }
  return paths;
}

ErasureReport Store::Impl::ScrubBackups(const std::vector<WriteOp>& ops) {
  ErasureReport report;
  for (const auto& path : RegisteredBackups()) {
    std::error_code ec;
    if (!fs::exists(fs::path(path) / kManifestName, ec)) {
      report.backups_unreachable.push_back(path);
      continue;
    }
    Status s =
        WithBackupDb(path, [&ops](rocksdb::DB* bdb, std::vector<rocksdb::ColumnFamilyHandle*>& h) {
          return ApplyAndPurge(bdb, h, ops);
        });
    (s.ok() ? report.backups_scrubbed : report.backups_unreachable).push_back(path);
  }
  return report;
}

Result<std::string> RestoreBackup(const std::string& backup_dir, const std::string& data_dir) {
  std::error_code ec;
  if (!fs::exists(fs::path(backup_dir) / kManifestName, ec) ||
      !fs::exists(fs::path(backup_dir) / "CURRENT", ec)) {
    return InvalidArgumentError(backup_dir + " is not an eds backup (no " + kManifestName + ")");
  }
  std::string moved_to;
  if (fs::exists(data_dir, ec) && !fs::is_empty(data_dir, ec)) {
    rocksdb::FileLock* lock = nullptr;
    rocksdb::Env* env = rocksdb::Env::Default();
    const std::string lock_path = (fs::path(data_dir) / "LOCK").string();
    if (fs::exists(lock_path, ec)) {
      if (!env->LockFile(lock_path, &lock).ok()) {
        return FailedPreconditionError(
            data_dir + " is in use by a running daemon: stop edsd before restoring");
      }
      env->UnlockFile(lock).PermitUncheckedError();
    }
    moved_to = data_dir + ".before-restore-" + CompactTimestamp(std::chrono::system_clock::now());
    fs::rename(data_dir, moved_to, ec);
    if (ec) return InternalError("cannot move " + data_dir + " aside: " + ec.message());
  }
  fs::create_directories(fs::path(data_dir).parent_path(), ec);
  fs::copy(backup_dir, data_dir, fs::copy_options::recursive, ec);
  if (ec) return InternalError("cannot copy the backup into " + data_dir + ": " + ec.message());
  fs::remove(fs::path(data_dir) / kManifestName, ec);
  ::chmod(data_dir.c_str(), 0700);
  return moved_to;
}

}  // namespace eds::storage
