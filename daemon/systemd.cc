#include "daemon/systemd.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <system_error>

namespace eds::daemon {
namespace {

Status Send(const std::string& state) {
  // unset_environment=0: a reload or a forked helper may still need NOTIFY_SOCKET.
  const int r = sd_notify(0, state.c_str());
  if (r >= 0) return OkStatus();  // 0: not started by systemd, nothing to tell
  return UnavailableError("sd_notify(" + state.substr(0, state.find('=')) +
                          "): " + std::generic_category().message(-r));
}

}  // namespace

Status Systemd::NotifyReady() const { return Send("READY=1"); }

Status Systemd::NotifyStatus(std::string_view text) const {
  std::string state = "STATUS=";
  // The protocol separates assignments by newlines; one embedded in the text would end it.
  for (char ch : text) state += (ch == '\n' || ch == '\r') ? ' ' : ch;
  return Send(state);
}

Status Systemd::NotifyStopping() const { return Send("STOPPING=1"); }

Status Systemd::NotifyWatchdog() const { return Send("WATCHDOG=1"); }

Status Systemd::NotifyReloading() const {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec =
      static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
  return Send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

std::optional<std::chrono::microseconds> Systemd::WatchdogInterval() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  if (usec > static_cast<uint64_t>(std::chrono::microseconds::max().count())) return std::nullopt;
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(usec));
}

std::optional<std::chrono::microseconds> Systemd::WatchdogPingPeriod() const {
  const std::optional<std::chrono::microseconds> interval = WatchdogInterval();
  if (!interval) return std::nullopt;
  return *interval / 2;
}

}  // namespace eds::daemon
