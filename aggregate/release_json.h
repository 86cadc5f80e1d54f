// A release as JSON, the same for `edsctl release` and the web admin.
#pragma once

#include <nlohmann/json.hpp>

#include "aggregate/release.h"

namespace eds::aggregate {

// A line of the release list: id, period, state, last change.
nlohmann::json ReleaseListEntryJson(const ReleaseSummary& s);
// Its id, period, state, packs and k.
nlohmann::json ReleaseSummaryJson(const Release& r);
// The summary with what a reviewer reads: the disclosure decisions and the state history.
nlohmann::json ReleaseReviewJson(const Release& r);

}  // namespace eds::aggregate
