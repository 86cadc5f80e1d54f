// The audit log, newest first, filtered by account, action and time; and the chain check.
#include <algorithm>

#include "common/encoding.h"
#include "webadmin/internal/api_state.h"

namespace eds::webadmin::internal {
namespace {

constexpr size_t kPage = 500;
constexpr uint64_t kMaxScanned = 100'000;  // bounds one request on a long log

std::string TimeOf(int64_t ms) {
  return FormatRfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

}  // namespace

HttpResponse ListAudit(State& state, Call& call) {
  const std::string& q = call.request.query;
  const std::string user = QueryParam(q, "user");
  const std::string action = QueryParam(q, "action");
  const std::string since = QueryParam(q, "since");  // RFC 3339 prefix, compared as text (UTC)
  const std::string until = QueryParam(q, "until");
  size_t limit = 100;
  if (const std::string l = QueryParam(q, "limit"); !l.empty()) {
    limit = std::clamp<size_t>(static_cast<size_t>(std::strtoul(l.c_str(), nullptr, 10)), 1, 1000);
  }
  // The log is read backwards in pages from its end.
  uint64_t end = state.ctx.store->Stats().audit_entries + 1;
  uint64_t scanned = 0;
  json out = json::array();
  while (end > 0 && out.size() < limit && scanned < kMaxScanned) {
    const uint64_t start = end > kPage ? end - kPage : 0;
    auto page = state.ctx.store->ReadAudit(start, static_cast<size_t>(end - start));
    if (!page.ok()) return ErrorResponse(page.status());
    for (auto it = page->rbegin(); it != page->rend() && out.size() < limit; ++it) {
      ++scanned;
      const std::string at = TimeOf(it->time_ms);
      if (!since.empty() && at < since) {
        end = 0;  // older still from here on
        break;
      }
      if (!until.empty() && at.compare(0, until.size(), until) > 0) continue;
      const auto& e = it->event;
      if (!user.empty() && e.actor != "admin:" + user && e.actor != user) continue;
      if (!action.empty() && e.action.rfind(action, 0) != 0) continue;
      out.push_back({{"seq", it->seq},
                     {"at", at},
                     {"actor", e.actor},
                     {"action", e.action},
                     {"object", e.object},
                     {"detail", e.detail},
                     {"hash", HexEncode(it->hash)}});
    }
    end = std::min(end, start);
  }
  return Ok({{"entries", out}});
}

HttpResponse VerifyAudit(State& state, Call& call) {
  state.ctx.store->Audit({call.actor(), "audit.verify", "", ""}).IgnoreError();
  auto report = state.ctx.store->VerifyAudit();
  if (!report.ok()) return ErrorResponse(report.status());
  return Ok({{"intact", report->intact},
             {"entries", report->entries},
             {"first_broken", report->first_broken},
             {"reason", report->reason}});
}

}  // namespace eds::webadmin::internal
