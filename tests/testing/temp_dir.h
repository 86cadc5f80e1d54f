// TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
#pragma once

#include <filesystem>
#include <string>

namespace eds::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Path of a file under the source tree (tests/data/... or similar), from EDS_SOURCE_DIR.
std::filesystem::path SourcePath(const std::string& relative);
// Path of a file under the build tree (bin/edsd, ...), from EDS_BINARY_DIR.
std::filesystem::path BinaryPath(const std::string& relative);
// The shared third-party test data folder (../shared/testdata next to the checkout), or an empty
// path when it is absent (a fresh clone); tests that need it say so when they skip.
std::filesystem::path SharedTestData();
// Reads a whole file; aborts the test binary if it cannot.
std::string ReadFileOrDie(const std::filesystem::path& path);

}  // namespace eds::testing
