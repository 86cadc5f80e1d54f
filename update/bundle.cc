#include "update/bundle.h"

#include <unistd.h>

#include <set>

#include "common/encoding.h"
#include "common/status_macros.h"
#include "update/bundle_format.h"
#include "update/file_util.h"

namespace eds::update {
namespace {

Status Malformed(const std::string& why) {
  return InvalidArgumentError("malformed update bundle: " + why);
}

bool ReadExact(std::FILE* f, std::string& out, size_t n) {
  out.resize(n);
  return n == 0 || std::fread(out.data(), 1, n, f) == n;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kBundleMaxNameLength || name.front() == '/') return false;
  if (name.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view part = name.substr(start, slash == name.npos ? name.npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == name.npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<BundleFetcher>> BundleFetcher::Open(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return UnavailableError("cannot open update bundle " + path.string());
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(f, std::fclose);
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return UnavailableError("cannot stat update bundle " + path.string());
  std::string buf;
  if (!ReadExact(f, buf, kBundleMagic.size()) || buf != kBundleMagic) {
    return Malformed("not an update bundle (bad magic)");
  }
  std::map<std::string, Entry, std::less<>> entries;
  uint64_t pos = kBundleMagic.size();
  while (pos < size) {
    if (size - pos < 4 || !ReadExact(f, buf, 4)) return Malformed("truncated entry header");
    const uint32_t name_length = GetBigEndian32(buf);
    if (name_length == 0 || name_length > kBundleMaxNameLength) return Malformed("bad name length");
    std::string name;
    if (!ReadExact(f, name, name_length)) return Malformed("truncated entry name");
    if (!ValidName(name)) return Malformed("bad entry name");
    if (!ReadExact(f, buf, 8)) return Malformed("truncated entry header");
    const uint64_t length = GetBigEndian64(buf);
    pos += 4 + name_length + 8;
    if (length > size - pos) return Malformed("entry " + name + " runs past the end");
    if (!entries.emplace(name, Entry{pos, length}).second) {
      return Malformed("entry " + name + " appears twice");
    }
    pos += length;
    if (::fseeko(f, static_cast<off_t>(pos), SEEK_SET) != 0) {
      return UnavailableError("cannot seek in update bundle");
    }
  }
  return std::unique_ptr<BundleFetcher>(new BundleFetcher(guard.release(), std::move(entries)));
}

BundleFetcher::~BundleFetcher() { std::fclose(file_); }

Result<std::string> BundleFetcher::Fetch(std::string_view url, uint64_t max_length) {
  auto it = entries_.find(url);
  if (it == entries_.end()) return NotFoundError("update bundle has no " + std::string(url));
  if (it->second.length > max_length) {
    return ResourceExhaustedError(std::string(url) + " is longer than " +
                                  std::to_string(max_length) + " bytes");
  }
  if (::fseeko(file_, static_cast<off_t>(it->second.offset), SEEK_SET) != 0) {
    return UnavailableError("cannot seek in update bundle");
  }
  std::string data;
  if (!ReadExact(file_, data, it->second.length)) {
    return UnavailableError("cannot read " + std::string(url) + " from update bundle");
  }
  return data;
}

std::vector<std::string> BundleFetcher::EntryNames() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

Status WriteBundle(const std::filesystem::path& out,
                   const std::vector<std::pair<std::string, std::filesystem::path>>& entries) {
  std::set<std::string> names;
  for (const auto& [name, file] : entries) {
    if (!ValidName(name)) return InvalidArgumentError("bad bundle entry name: " + name);
    if (!names.insert(name).second) return InvalidArgumentError("duplicate entry: " + name);
  }
  // Streamed entry by entry (firmware images are large) into a temporary, then renamed.
  std::filesystem::path tmp = out;
  tmp += ".tmp";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(tmp.c_str(), "wb"), std::fclose);
  if (!f) return UnavailableError("cannot create " + tmp.string());
  auto put = [&f](std::string_view bytes) {
    return std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size();
  };
  bool ok = put(kBundleMagic);
  char buf[64 * 1024];
  for (const auto& [name, file] : entries) {
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(file, ec);
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), std::fclose);
    if (ec || !in) return UnavailableError("cannot read " + file.string());
    std::string header;
    PutBigEndian32(header, static_cast<uint32_t>(name.size()));
    header += name;
    PutBigEndian64(header, size);
    ok = ok && put(header);
    uint64_t copied = 0;
    for (size_t n; ok && (n = std::fread(buf, 1, sizeof buf, in.get())) > 0;) {
      ok = put(std::string_view(buf, n));
      copied += n;
    }
    if (copied != size) return UnavailableError(file.string() + " changed while it was bundled");
  }
  ok = ok && std::fflush(f.get()) == 0 && ::fsync(::fileno(f.get())) == 0;
  if (!ok) return UnavailableError("cannot write " + tmp.string());
  f.reset();
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    return UnavailableError("cannot rename onto " + out.string());
  }
  return SyncDirectory(out.has_parent_path() ? out.parent_path() : ".");
}

}  // namespace eds::update
