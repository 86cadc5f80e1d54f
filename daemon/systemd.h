// Systemd: the service side of the systemd notify protocol (sd_notify(3)), sent as datagrams to
// $NOTIFY_SOCKET, so tests can own the socket. When NOTIFY_SOCKET is unset (not started by
// systemd) every call is an OK no-op; a send that fails returns kUnavailable. The environment is
// read on each call and never unset. Stateless and thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "common/status.h"

namespace eds::daemon {

class Systemd {
 public:
  // "READY=1": start-up finished (also sent after a reload completes).
  Status NotifyReady() const;
  // "STATUS=<text>": one line shown by `systemctl status`; newlines become spaces.
  Status NotifyStatus(std::string_view text) const;
  // "STOPPING=1": orderly shutdown has begun.
  Status NotifyStopping() const;
  // "WATCHDOG=1": keep-alive ping; send every WatchdogPingPeriod().
  Status NotifyWatchdog() const;
  // "RELOADING=1" with "MONOTONIC_USEC=<now>" (newer systemd requires it); send NotifyReady()
  // once the reload is done.
  Status NotifyReloading() const;

  // WATCHDOG_USEC when the watchdog is enabled for this process (WATCHDOG_PID unset or ours),
  // else nullopt, also when the variables are malformed.
  std::optional<std::chrono::microseconds> WatchdogInterval() const;
  // Half of WatchdogInterval(), the ping period systemd recommends.
  std::optional<std::chrono::microseconds> WatchdogPingPeriod() const;
};

}  // namespace eds::daemon
