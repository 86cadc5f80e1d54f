// eds-update-sign, the operator's tool (keys stay on the operator's machine, never on a box):
//   keygen KEYFILE
//   init --repo DIR --root-key F [--root-key F ...] --targets-key F --snapshot-key F
//        --timestamp-key F [--expires-days N]
//   add-target --repo DIR --targets-key F --snapshot-key F --timestamp-key F --name NAME
//        --file PATH [--kind measure-pack|firmware --version V] [--expires-days N]
//   rotate --repo DIR --old-root-key F [...] --root-key F [...] --targets-key F --snapshot-key F
//        --timestamp-key F [--expires-days N]      (next root version, new keys for every role)
//   bundle --repo DIR --out FILE
// Returns the process exit code: 0 on success, 1 on failure (explained on stderr).
#pragma once

#include <string>
#include <vector>

namespace eds::update {

int RunSignTool(const std::vector<std::string>& args);

}  // namespace eds::update
