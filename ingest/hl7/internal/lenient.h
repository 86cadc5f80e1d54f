// Best-effort reading of the MSH segment of a message the strict parser refused, so that its
// rejection can still be addressed to the sender (delimiters, applications, control id).
#pragma once

#include <optional>
#include <string_view>

#include "ingest/hl7/message.h"

namespace eds::ingest::hl7::internal {

// A message holding only the MSH segment of `raw`: required fields are not checked, an
// unsupported charset is read as ASCII and invalid UTF-8 bytes become '?'. nullopt when `raw`
// does not start with "MSH" followed by usable delimiters.
std::optional<Hl7Message> ParseMshLenient(std::string_view raw);

}  // namespace eds::ingest::hl7::internal
