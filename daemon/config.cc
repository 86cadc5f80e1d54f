#include "daemon/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "common/status_macros.h"
#include "sync/cron.h"
#include "sync/upstream_client.h"

// Debian's libtomlplusplus is built with exceptions and exports only the throwing parse
// functions. Our code throws none, so the parser is compiled into this file alone, header-only
// with TOML_EXCEPTIONS=0 (set by CMake); those functions live in toml++'s separate `noex`
// namespace and cannot collide with the library's.
#undef TOML_HEADER_ONLY
#define TOML_HEADER_ONLY 1
#undef TOML_SHARED_LIB
#include <toml++/toml.h>

namespace eds::daemon {
namespace {

namespace fs = std::filesystem;

// How one setting is checked. Integer fields use [min, max]; string fields the rest.
struct Spec {
  std::string_view key;  // dotted, "section.name"
  int64_t min = 0;
  int64_t max = 0;
  bool is_path = false;  // relative values are resolved against the config file's directory
  bool may_be_empty = true;
  bool applies_at_runtime = false;
  // Describes what is wrong with a (resolved) string value, or returns "".
  std::string (*check)(const std::string& value) = nullptr;
};

constexpr std::string_view kLevelNames[] = {"debug", "info", "warning", "error"};
constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning,
                                LogLevel::kError};

std::string CheckIpAddress(const std::string& value) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, value.c_str(), buf) == 1) return "";
  if (inet_pton(AF_INET6, value.c_str(), buf) == 1) return "";
  return "is not an IPv4 or IPv6 address";
}

std::string CheckCredentialName(const std::string& value) {
  // systemd looks credentials up as plain file names under $CREDENTIALS_DIRECTORY.
  return value.find('/') == std::string::npos ? "" : "must be a credential name without '/'";
}

std::string CheckSocketPath(const std::string& value) {
  constexpr size_t kMax = sizeof(sockaddr_un::sun_path) - 1;
  if (value.size() <= kMax) return "";
  return "is longer than " + std::to_string(kMax) + " bytes, the limit for a UNIX socket path";
}

std::string CheckHttpsUrl(const std::string& value) {
  if (value.empty()) return "";
  auto url = sync::ParseUrl(value);
  if (!url.ok()) return "is not a URL: " + url.status().message();
  return url->scheme == "https" ? "" : "must be an https:// URL";
}

std::string CheckProxyUrl(const std::string& value) {
  if (value.empty()) return "";
  auto url = sync::ParseUrl(value);
  if (!url.ok()) return "is not a URL: " + url.status().message();
  return url->scheme == "http" ? "" : "must be an http:// URL (the tunnel inside is TLS)";
}

std::string CheckSchedule(const std::string& value) {
  auto cron = sync::CronSchedule::Parse(value);
  return cron.ok() ? "" : cron.status().message();
}

std::string CheckTimeZone(const std::string& value) {
  Status s = sync::CheckTimeZone(value);
  return s.ok() ? "" : s.message();
}

std::string CheckSlots(const std::string& value) {
  return value == "rauc" || value == "directory" ? "" : "must be \"rauc\" or \"directory\"";
}

// The one list of settings. Parsing, AllConfigKeys and DiffConfig all walk it, so a field
// added here is parsed, listed and compared without further edits.
template <typename C, typename Fn>
void ForEachField(C& c, Fn&& fn) {
  fn(Spec{.key = "storage.data_dir", .is_path = true, .may_be_empty = false}, c.storage.data_dir);
  fn(Spec{.key = "storage.master_key_credential",
          .may_be_empty = false,
          .check = CheckCredentialName},
     c.storage.master_key_credential);
  fn(Spec{.key = "storage.master_key_file", .is_path = true}, c.storage.master_key_file);
  fn(Spec{.key = "storage.create_master_key_file"}, c.storage.create_master_key_file);
  fn(Spec{.key = "storage.compression_level", .min = 1, .max = 19}, c.storage.compression_level);
  fn(Spec{.key = "storage.dictionary_training_records", .min = 100, .max = 1000000},
     c.storage.dictionary_training_records);
  fn(Spec{.key = "storage.block_cache_mb", .min = 8, .max = 65536}, c.storage.block_cache_mb);
  fn(Spec{.key = "admin.bind", .may_be_empty = false, .check = CheckIpAddress}, c.admin.bind);
  fn(Spec{.key = "admin.port", .min = 1, .max = 65535}, c.admin.port);
  fn(Spec{.key = "admin.tls_cert", .is_path = true, .may_be_empty = false}, c.admin.tls_cert);
  fn(Spec{.key = "admin.tls_key", .is_path = true, .may_be_empty = false}, c.admin.tls_key);
  fn(Spec{.key = "admin.generate_dev_certificate"}, c.admin.generate_dev_certificate);
  fn(Spec{.key = "admin.threads", .min = 1, .max = 64}, c.admin.threads);
  fn(Spec{.key = "admin.request_timeout_ms", .min = 100, .max = 600000},
     c.admin.request_timeout_ms);
  fn(Spec{.key = "admin.max_request_mb", .min = 1, .max = 1024}, c.admin.max_request_mb);
  fn(Spec{.key = "control.socket",
          .is_path = true,
          .may_be_empty = false,
          .check = CheckSocketPath},
     c.control.socket);
  fn(Spec{.key = "control.group"}, c.control.group);
  fn(Spec{.key = "mllp.enabled"}, c.mllp.enabled);
  fn(Spec{.key = "mllp.bind", .may_be_empty = false, .check = CheckIpAddress}, c.mllp.bind);
  fn(Spec{.key = "mllp.port", .min = 1, .max = 65535}, c.mllp.port);
  fn(Spec{.key = "mllp.max_message_kb", .min = 1, .max = 65536}, c.mllp.max_message_kb);
  fn(Spec{.key = "mllp.max_connections", .min = 1, .max = 4096}, c.mllp.max_connections);
  fn(Spec{.key = "mllp.idle_timeout_ms", .min = 1000, .max = 86400000}, c.mllp.idle_timeout_ms);
  fn(Spec{.key = "mllp.read_timeout_ms", .min = 100, .max = 600000}, c.mllp.read_timeout_ms);
  fn(Spec{.key = "mllp.allowed_peers"}, c.mllp.allowed_peers);
  fn(Spec{.key = "mllp.tls_cert", .is_path = true}, c.mllp.tls_cert);
  fn(Spec{.key = "mllp.tls_key", .is_path = true}, c.mllp.tls_key);
  fn(Spec{.key = "mllp.threads", .min = 1, .max = 64}, c.mllp.threads);
  fn(Spec{.key = "fhir.enabled"}, c.fhir.enabled);
  fn(Spec{.key = "fhir.bind", .may_be_empty = false, .check = CheckIpAddress}, c.fhir.bind);
  fn(Spec{.key = "fhir.port", .min = 1, .max = 65535}, c.fhir.port);
  fn(Spec{.key = "fhir.tls_cert", .is_path = true}, c.fhir.tls_cert);
  fn(Spec{.key = "fhir.tls_key", .is_path = true}, c.fhir.tls_key);
  fn(Spec{.key = "fhir.threads", .min = 1, .max = 64}, c.fhir.threads);
  fn(Spec{.key = "fhir.max_request_mb", .min = 1, .max = 1024}, c.fhir.max_request_mb);
  fn(Spec{.key = "aggregate.packs_dir", .is_path = true, .may_be_empty = false},
     c.aggregate.packs_dir);
  fn(Spec{.key = "aggregate.k", .min = 5, .max = 1000}, c.aggregate.k);
  fn(Spec{.key = "aggregate.reporter"}, c.aggregate.reporter);
  fn(Spec{.key = "aggregate.rounding_base", .min = 0, .max = 1000}, c.aggregate.rounding_base);
  fn(Spec{.key = "aggregate.cell_key_perturbation"}, c.aggregate.cell_key_perturbation);
  fn(Spec{.key = "sync.enabled"}, c.sync.enabled);
  fn(Spec{.key = "sync.upstream_url", .check = CheckHttpsUrl}, c.sync.upstream_url);
  fn(Spec{.key = "sync.ca_file", .is_path = true}, c.sync.ca_file);
  fn(Spec{.key = "sync.spki_pin"}, c.sync.spki_pin);
  fn(Spec{.key = "sync.client_cert", .is_path = true}, c.sync.client_cert);
  fn(Spec{.key = "sync.client_key", .is_path = true}, c.sync.client_key);
  fn(Spec{.key = "sync.proxy_url", .check = CheckProxyUrl}, c.sync.proxy_url);
  fn(Spec{.key = "sync.schedule", .may_be_empty = false, .check = CheckSchedule}, c.sync.schedule);
  fn(Spec{.key = "sync.time_zone", .may_be_empty = false, .check = CheckTimeZone},
     c.sync.time_zone);
  fn(Spec{.key = "sync.jitter_s", .min = 0, .max = 86400}, c.sync.jitter_s);
  fn(Spec{.key = "sync.connect_timeout_ms", .min = 100, .max = 600000}, c.sync.connect_timeout_ms);
  fn(Spec{.key = "sync.read_timeout_ms", .min = 100, .max = 600000}, c.sync.read_timeout_ms);
  fn(Spec{.key = "sync.total_timeout_ms", .min = 100, .max = 3600000}, c.sync.total_timeout_ms);
  fn(Spec{.key = "sync.max_response_kb", .min = 1, .max = 65536}, c.sync.max_response_kb);
  fn(Spec{.key = "sync.retry_initial_s", .min = 1, .max = 86400}, c.sync.retry_initial_s);
  fn(Spec{.key = "sync.retry_max_s", .min = 1, .max = 604800}, c.sync.retry_max_s);
  fn(Spec{.key = "update.poll"}, c.update.poll);
  fn(Spec{.key = "update.repository_url", .check = CheckHttpsUrl}, c.update.repository_url);
  fn(Spec{.key = "update.targets_url", .check = CheckHttpsUrl}, c.update.targets_url);
  fn(Spec{.key = "update.ca_file", .is_path = true}, c.update.ca_file);
  fn(Spec{.key = "update.schedule", .may_be_empty = false, .check = CheckSchedule},
     c.update.schedule);
  fn(Spec{.key = "update.trusted_root", .is_path = true, .may_be_empty = false},
     c.update.trusted_root);
  fn(Spec{.key = "update.slots", .may_be_empty = false, .check = CheckSlots}, c.update.slots);
  fn(Spec{.key = "update.slots_dir", .is_path = true, .may_be_empty = false}, c.update.slots_dir);
  fn(Spec{.key = "update.download_dir", .is_path = true, .may_be_empty = false},
     c.update.download_dir);
  fn(Spec{.key = "update.health_check", .may_be_empty = false}, c.update.health_check);
  fn(Spec{.key = "update.reboot_command", .may_be_empty = false}, c.update.reboot_command);
  fn(Spec{.key = "log.level", .applies_at_runtime = true}, c.log.level);
  fn(Spec{.key = "daemon.shutdown_timeout_ms", .min = 100, .max = 60000},
     c.daemon.shutdown_timeout_ms);
}

std::string_view TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
  }
  return "value";
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string Render(const std::string& v) { return Quote(v); }
std::string Render(int v) { return std::to_string(v); }
std::string Render(bool v) { return v ? "true" : "false"; }
std::string Render(LogLevel v) {
  for (size_t i = 0; i < std::size(kLevels); ++i) {
    if (kLevels[i] == v) return Quote(kLevelNames[i]);
  }
  return Quote("info");
}

// Checks one document against the settings and fills a Config; collects every problem so one
// start-up attempt reports them all.
class Parser {
 public:
  Parser(std::string_view source_name, fs::path base_dir)
      : source_name_(source_name), base_dir_(std::move(base_dir)) {}

  Result<Config> Parse(const toml::table& root) {
    CheckUnknownKeys(root);
    Config config;
    ForEachField(config, [&](const Spec& spec, auto& field) {
      if (const toml::node* node = Find(root, spec.key)) Assign(spec, *node, field);
    });
    if (config.storage.create_master_key_file && config.storage.master_key_file.empty()) {
      Error(Find(root, "storage.create_master_key_file"),
            "storage.create_master_key_file: needs storage.master_key_file to be set");
    }
    if (config.sync.enabled) {
      for (const auto& [key, value] : {std::pair<std::string_view, const std::string&>{
                                           "sync.upstream_url", config.sync.upstream_url},
                                       {"sync.ca_file", config.sync.ca_file}}) {
        if (value.empty()) {
          Error(Find(root, "sync.enabled"),
                std::string(key) + ": must be set when sync.enabled is true");
        }
      }
    }
    if (config.sync.client_cert.empty() != config.sync.client_key.empty()) {
      Error(Find(root, config.sync.client_cert.empty() ? "sync.client_key" : "sync.client_cert"),
            "sync.client_cert and sync.client_key: set both or neither");
    }
    if (config.update.poll && config.update.repository_url.empty()) {
      Error(Find(root, "update.poll"),
            "update.repository_url: must be set when update.poll is true");
    }
    if (config.update.poll && config.update.ca_file.empty() && config.sync.ca_file.empty()) {
      Error(Find(root, "update.poll"), "update.ca_file: must be set (or sync.ca_file) to poll");
    }
    if (config.sync.retry_max_s < config.sync.retry_initial_s) {
      Error(Find(root, "sync.retry_max_s"), "sync.retry_max_s: must be at least retry_initial_s");
    }
    if (errors_.empty()) return config;
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string message;
    for (const auto& [line, text] : errors_) {
      if (!message.empty()) message += '\n';
      message += text;
    }
    return InvalidArgumentError(std::move(message));
  }

 private:
  static const toml::node* Find(const toml::table& root, std::string_view dotted) {
    const size_t dot = dotted.find('.');
    const toml::table* section = root.get_as<toml::table>(dotted.substr(0, dot));
    return section ? section->get(dotted.substr(dot + 1)) : nullptr;
  }

  void Error(const toml::source_region& where, const std::string& message) {
    const uint32_t line = where.begin.line;
    std::string text = source_name_;
    if (line > 0) text += ":" + std::to_string(line);
    errors_.emplace_back(line, text + ": " + message);
  }
  void Error(const toml::node* node, const std::string& message) {
    Error(node ? node->source() : toml::source_region{}, message);
  }

  void CheckUnknownKeys(const toml::table& root) {
    const std::vector<std::string>& known = AllConfigKeys();
    auto is_known = [&](const std::string& key) {
      return std::find(known.begin(), known.end(), key) != known.end();
    };
    auto is_section = [&](const std::string& name) {
      return std::any_of(known.begin(), known.end(),
                         [&](const std::string& key) { return key.starts_with(name + "."); });
    };
    for (auto&& [key, value] : root) {
      const std::string name(key.str());
      if (!is_section(name)) {
        Error(key.source(),
              std::string(value.is_table() ? "unknown section '" : "unknown key '") + name + "'");
        continue;
      }
      const toml::table* section = value.as_table();
      if (section == nullptr) {
        Error(value.source(),
              name + ": expected table, got " + std::string(TypeName(value.type())));
        continue;
      }
      for (auto&& [sub_key, sub_value] : *section) {
        const std::string dotted = name + "." + std::string(sub_key.str());
        if (!is_known(dotted)) Error(sub_key.source(), "unknown key '" + dotted + "'");
      }
    }
  }

  bool ExpectType(const Spec& spec, const toml::node& node, toml::node_type type) {
    if (node.type() == type) return true;
    Error(node.source(), std::string(spec.key) + ": expected " + std::string(TypeName(type)) +
                             ", got " + std::string(TypeName(node.type())));
    return false;
  }

  void Assign(const Spec& spec, const toml::node& node, std::string& out) {
    if (!ExpectType(spec, node, toml::node_type::string)) return;
    std::string value = node.as_string()->get();
    if (value.empty() && !spec.may_be_empty) {
      Error(node.source(), std::string(spec.key) + ": must not be empty");
      return;
    }
    if (spec.is_path && !value.empty() && fs::path(value).is_relative()) {
      value = (base_dir_ / value).lexically_normal().string();
    }
    if (spec.check != nullptr) {
      const std::string problem = spec.check(value);
      if (!problem.empty()) {
        Error(node.source(), std::string(spec.key) + ": " + Quote(value) + " " + problem);
        return;
      }
    }
    out = std::move(value);
  }

  void Assign(const Spec& spec, const toml::node& node, int& out) {
    if (!ExpectType(spec, node, toml::node_type::integer)) return;
    const int64_t value = node.as_integer()->get();
    if (value < spec.min || value > spec.max) {
      Error(node.source(), std::string(spec.key) + ": " + std::to_string(value) +
                               " is out of range " + std::to_string(spec.min) + ".." +
                               std::to_string(spec.max));
      return;
    }
    out = static_cast<int>(value);  // in range, and every range fits in int
  }

  void Assign(const Spec& spec, const toml::node& node, bool& out) {
    if (ExpectType(spec, node, toml::node_type::boolean)) out = node.as_boolean()->get();
  }

  void Assign(const Spec& spec, const toml::node& node, LogLevel& out) {
    if (!ExpectType(spec, node, toml::node_type::string)) return;
    const std::string& value = node.as_string()->get();
    std::string allowed;
    for (size_t i = 0; i < std::size(kLevelNames); ++i) {
      if (value == kLevelNames[i]) {
        out = kLevels[i];
        return;
      }
      allowed += (i == 0 ? "" : ", ") + std::string(kLevelNames[i]);
    }
    Error(node.source(), std::string(spec.key) + ": " + Quote(value) + " is not one of " + allowed);
  }

  std::string source_name_;
  fs::path base_dir_;
  std::vector<std::pair<uint32_t, std::string>> errors_;  // (line, message)
};

Result<toml::table> ParseToml(std::string_view toml_text, std::string_view source_name) {
  toml::parse_result parsed = toml::parse(toml_text, source_name);
  if (parsed) return std::move(parsed).table();
  const toml::parse_error& error = parsed.error();
  const toml::source_position& at = error.source().begin;
  return InvalidArgumentError(std::string(source_name) + ":" + std::to_string(at.line) + ":" +
                              std::to_string(at.column) + ": " + std::string(error.description()));
}

Result<Config> ParseWithBase(std::string_view toml_text, std::string_view source_name,
                             fs::path base_dir) {
  EDS_ASSIGN_OR_RETURN(const toml::table root, ParseToml(toml_text, source_name));
  return Parser(source_name, std::move(base_dir)).Parse(root);
}

fs::path DirectoryOf(std::string_view file) {
  std::error_code ec;
  fs::path absolute = fs::absolute(fs::path(file), ec);
  if (ec) absolute = fs::path(file);
  return absolute.parent_path();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const std::string reason = std::generic_category().message(errno);
    if (errno == ENOENT) return NotFoundError("config file " + path + " not found");
    return FailedPreconditionError("cannot open config file " + path + ": " + reason);
  }
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string reason = std::generic_category().message(errno);
      close(fd);
      return FailedPreconditionError("cannot read config file " + path + ": " + reason);
    }
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return text;
}

void CollectKeys(const toml::table& table, const std::string& prefix,
                 std::vector<std::string>& out) {
  for (auto&& [key, value] : table) {
    const std::string dotted = prefix + std::string(key.str());
    if (const toml::table* sub = value.as_table()) {
      CollectKeys(*sub, dotted + ".", out);
    } else {
      out.push_back(dotted);
    }
  }
}

}  // namespace

Result<Config> LoadConfig(const std::string& path) {
  EDS_ASSIGN_OR_RETURN(const std::string text, ReadWholeFile(path));
  return ParseWithBase(text, path, DirectoryOf(path));
}

Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name) {
  return ParseWithBase(toml_text, source_name, DirectoryOf(source_name));
}

const std::vector<std::string>& AllConfigKeys() {
  static const std::vector<std::string>* const keys = [] {
    auto* list = new std::vector<std::string>;
    Config config;
    ForEachField(config, [&](const Spec& spec, auto&) { list->emplace_back(spec.key); });
    return list;
  }();
  return *keys;
}

Result<std::vector<std::string>> ListTomlKeys(std::string_view toml_text,
                                              std::string_view source_name) {
  EDS_ASSIGN_OR_RETURN(const toml::table root, ParseToml(toml_text, source_name));
  std::vector<std::string> keys;
  CollectKeys(root, "", keys);
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<ConfigChange> DiffConfig(const Config& running, const Config& reloaded) {
  std::vector<std::string> before;
  ForEachField(running, [&](const Spec&, const auto& v) { before.push_back(Render(v)); });
  std::vector<ConfigChange> changes;
  size_t i = 0;
  ForEachField(reloaded, [&](const Spec& spec, const auto& v) {
    std::string now = Render(v);
    const std::string& old_value = before[i++];
    if (now != old_value) {
      changes.push_back(ConfigChange{.key = std::string(spec.key),
                                     .old_value = old_value,
                                     .new_value = std::move(now),
                                     .applies_at_runtime = spec.applies_at_runtime});
    }
  });
  return changes;
}

}  // namespace eds::daemon
