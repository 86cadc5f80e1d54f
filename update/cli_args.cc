#include "update/cli_args.h"

namespace eds::update {

Result<CliArgs> ParseCliArgs(const std::vector<std::string>& args) {
  CliArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      if (i + 1 >= args.size()) return InvalidArgumentError(args[i] + " needs a value");
      out.flags[args[i]].push_back(args[i + 1]);
      ++i;
    } else {
      out.words.push_back(args[i]);
    }
  }
  return out;
}

Result<std::string> CliArgs::One(const std::string& flag) const {
  auto it = flags.find(flag);
  if (it == flags.end() || it->second.size() != 1) {
    return InvalidArgumentError(flag + " is required (once)");
  }
  return it->second.front();
}

std::string CliArgs::OneOr(const std::string& flag, const std::string& fallback) const {
  auto it = flags.find(flag);
  return it == flags.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> CliArgs::All(const std::string& flag) const {
  auto it = flags.find(flag);
  return it == flags.end() ? std::vector<std::string>() : it->second;
}

}  // namespace eds::update
