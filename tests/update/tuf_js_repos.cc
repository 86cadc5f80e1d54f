#include "tests/update/tuf_js_repos.h"

#include <chrono>

#include "tests/testing/temp_dir.h"
#include "update/command_runner.h"

namespace eds::update {

std::string MakeTufJsRepositories(const std::filesystem::path& dir) {
  std::string failure;
  // The script takes under a second; a node process that stalls (seen rarely on a loaded
  // machine) is killed and the repositories are made again, within ctest's limit.
  for (int attempt = 0; attempt < 2; ++attempt) {
    ProcessRunner runner;
    auto run = runner.Run(
        {"/usr/bin/node", eds::testing::SourcePath("tests/clients/tuf_make_repos.mjs").string(),
         dir.string()},
        std::chrono::seconds(45));
    failure = !run.ok() ? run.status().ToString() : run->exit_code != 0 ? run->output : "";
    if (failure.empty()) break;
  }
  return failure;
}

}  // namespace eds::update
