// Files compiled into the binary by cmake/EmbedFiles.cmake: the admin UI and the list of common
// passwords. The bytes are static data that live for the whole program.
#pragma once

#include <span>
#include <string_view>

namespace eds::webadmin::internal {

struct EmbeddedFile {
  std::string_view path;  // relative to the folder it was embedded from, e.g. "app.js"
  std::string_view data;
};

// Everything under webadmin/ui/.
std::span<const EmbeddedFile> UiAssets();
// webadmin/auth/common_passwords.txt, as its only entry.
std::span<const EmbeddedFile> CommonPasswordFiles();

}  // namespace eds::webadmin::internal
