#include "tests/testing/temp_dir.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace eds::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/eds-test-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path SourcePath(const std::string& relative) {
  const char* src = std::getenv("EDS_SOURCE_DIR");
  return std::filesystem::path(src ? src : EDS_DEFAULT_SOURCE_DIR) / relative;
}

std::filesystem::path BinaryPath(const std::string& relative) {
  const char* bin = std::getenv("EDS_BINARY_DIR");
  return std::filesystem::path(bin ? bin : EDS_DEFAULT_BINARY_DIR) / relative;
}

std::filesystem::path SharedTestData() {
  const char* env = std::getenv("EDS_SHARED_TESTDATA");
  std::filesystem::path p = env ? std::filesystem::path(env) : SourcePath("../shared/testdata");
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) return std::filesystem::canonical(p, ec);
  return {};
}

std::string ReadFileOrDie(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::abort();
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace eds::testing
