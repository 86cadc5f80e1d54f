// Canonical JSON as TUF signs it (OLPC canonical JSON, as securesystemslib encodes it): object
// keys sorted by their bytes, no whitespace, strings escaping only `\` and `"`, integers only.
// Signatures cover these bytes, so they must match every other implementation byte for byte.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace eds::update::internal {

// kInvalidArgument for a value canonical JSON cannot hold (a floating-point number).
Result<std::string> CanonicalJson(const nlohmann::json& value);

// Parses JSON text without throwing; kInvalidArgument names what was being parsed.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what);

}  // namespace eds::update::internal
