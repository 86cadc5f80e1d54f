// The repositories the interoperability tests read, made by tuf-js/@tufjs/models
// (tests/clients/tuf_make_repos.mjs): one valid repository and one per attack.
#pragma once

#include <filesystem>
#include <string>

namespace eds::update {

// Writes them under `dir`. Returns "" on success, else what went wrong (for the test's message).
std::string MakeTufJsRepositories(const std::filesystem::path& dir);

}  // namespace eds::update
