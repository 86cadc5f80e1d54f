// JournaldLogSink: a LogSink that sends each message to journald as structured fields (MESSAGE,
// PRIORITY, SYSLOG_IDENTIFIER=edsd and the caller's fields, names sanitised to journald's rules).
// If journald rejects a message with an error, the line goes to stderr instead (libsystemd
// itself drops messages silently when no journal listens at all). Thread-safe. MakeDefaultLogSink()
// picks it only when stderr is the journal stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"

namespace eds::daemon {

class JournaldLogSink final : public LogSink {
 public:
  void Write(LogLevel level, std::string_view message,
             const std::vector<LogField>& fields) override;
};

// The sink systemd's logging conventions ask for: a JournaldLogSink when $JOURNAL_STREAM names
// the device and inode of stderr (so stderr is connected to the journal), else nullptr, meaning
// common/log's own stderr output.
std::shared_ptr<LogSink> MakeDefaultLogSink();

// syslog priority of a level: debug 7, info 6, warning 4, error 3.
int JournalPriority(LogLevel level);

// A journald field name from any string: upper case letters, digits and '_', at most 64
// characters, not starting with '_' (reserved for trusted fields) or a digit; such names and
// the ones this sink sets itself get the prefix "EDS_".
std::string SanitizeJournalFieldName(std::string_view name);

// The "NAME=value" entries sent for one message: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, then the
// caller's fields in order.
std::vector<std::string> JournalFields(LogLevel level, std::string_view message,
                                       const std::vector<LogField>& fields);

// True when `env` (a $JOURNAL_STREAM value, "<device>:<inode>" in decimal) names the file open
// on `fd`. False for nullptr, malformed values and a closed fd.
bool JournalStreamMatches(const char* env, int fd);

}  // namespace eds::daemon
