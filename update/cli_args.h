// A tiny argv reader shared by the update tools: "--flag value" pairs (a flag may repeat) and
// positional words, in order. No exceptions, no globals.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace eds::update {

struct CliArgs {
  std::map<std::string, std::vector<std::string>> flags;  // "--metadata-dir" -> values
  std::vector<std::string> words;

  // The single value of `flag`, or kInvalidArgument naming it.
  Result<std::string> One(const std::string& flag) const;
  std::string OneOr(const std::string& flag, const std::string& fallback) const;
  std::vector<std::string> All(const std::string& flag) const;
};

// kInvalidArgument for a flag without a value.
Result<CliArgs> ParseCliArgs(const std::vector<std::string>& args);

}  // namespace eds::update
