// Config: edsd's settings, read once from a TOML file at start-up and validated in full.
// Errors name the file, line and dotted key ("edsd.toml:4: admin.port: ...") and come back as
// kInvalidArgument (kNotFound when the file is missing); start-up stops on any of them.
// Relative paths in the file are resolved against the directory of the config file, so a
// development config inside a checkout works from any working directory.
// Every key is documented in config/edsd.example.toml. Plain values: copy and share freely.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"

namespace eds::daemon {

struct StorageConfig {
  // Directory of the RocksDB store. Default "/var/lib/eds". Needs a restart.
  std::string data_dir = "/var/lib/eds";
  // Name of the systemd credential under $CREDENTIALS_DIRECTORY that holds the 32-byte master
  // key. Default "eds-master-key".
  std::string master_key_credential = "eds-master-key";
  // Development only: path of a master key file, used when no credential is present. Default ""
  // (none).
  std::string master_key_file;
  // Development only: generate master_key_file (mode 0600) on first start. Default false.
  bool create_master_key_file = false;
  // zstd compression level of stored records, 1..19. Default 3.
  int compression_level = 3;
  // Records stored before the first zstd dictionary is trained, 100..1000000. Default 2000.
  int dictionary_training_records = 2000;
  // RocksDB block cache size in MiB, 8..65536. Default 32.
  int block_cache_mb = 32;

  friend bool operator==(const StorageConfig&, const StorageConfig&) = default;
};

struct AdminConfig {
  // IPv4 or IPv6 address the admin HTTPS server listens on. Default "0.0.0.0".
  std::string bind = "0.0.0.0";
  // TCP port of the admin HTTPS server, 1..65535. Default 8443.
  int port = 8443;
  // PEM certificate chain of the admin server. Default "/etc/eds/tls/admin.crt".
  std::string tls_cert = "/etc/eds/tls/admin.crt";
  // PEM private key of the admin server. Default "/etc/eds/tls/admin.key".
  std::string tls_key = "/etc/eds/tls/admin.key";
  // Make a self-signed certificate on first start when tls_cert or tls_key is missing.
  // Default false.
  bool generate_dev_certificate = false;
  // Worker threads of the admin server, 1..64. Default 4.
  int threads = 4;
  // Time allowed for one admin request, in milliseconds, 100..600000. Default 10000.
  int request_timeout_ms = 10000;
  // Largest admin request body, in MiB, 1..1024. An offline update bundle is uploaded as base64
  // in JSON, a third larger than the bundle: an appliance image needs several hundred MiB, and
  // edsd holds the request in memory while it verifies it. Default 64.
  int max_request_mb = 64;

  friend bool operator==(const AdminConfig&, const AdminConfig&) = default;
};

struct ControlConfig {
  // Path of the UNIX socket edsctl talks to. Default "/run/eds/edsd.sock".
  std::string socket = "/run/eds/edsd.sock";
  // When set, the socket is mode 0660 and members of this group may use it; when empty it is
  // mode 0600 (owner only). Default "".
  std::string group;

  friend bool operator==(const ControlConfig&, const ControlConfig&) = default;
};

struct LogConfig {
  // Lowest level logged: debug, info, warning or error. Default info. The only setting that
  // SIGHUP applies at run time.
  LogLevel level = LogLevel::kInfo;

  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

struct MllpConfig {
  // Listen for HL7 v2 over MLLP. Default true.
  bool enabled = true;
  // IPv4 or IPv6 address to listen on. Default "0.0.0.0".
  std::string bind = "0.0.0.0";
  // TCP port, 1..65535. Default 2575.
  int port = 2575;
  // Largest message accepted, in KiB, 1..65536. Default 1024.
  int max_message_kb = 1024;
  // Connections served at once, 1..4096; more are closed at once. Default 64.
  int max_connections = 64;
  // A connection silent this long is closed, in milliseconds, 1000..86400000. Default 300000.
  int idle_timeout_ms = 300000;
  // A started frame must complete within this, in milliseconds, 100..600000. Default 30000.
  int read_timeout_ms = 30000;
  // Peers allowed to connect: comma-separated IP addresses or CIDR ranges; "" = any. Default "".
  std::string allowed_peers;
  // PEM certificate and key: both set = MLLP over TLS 1.2+. Default "" (plain TCP).
  std::string tls_cert;
  std::string tls_key;
  // Network threads, 1..64. Default 8. A message holds its thread until its write is durable, and
  // the messages waiting together share one synced write: about one thread per sender that sends
  // at the same time keeps every sender's next message in the same write.
  int threads = 8;

  friend bool operator==(const MllpConfig&, const MllpConfig&) = default;
};

struct FhirConfig {
  // Serve the FHIR R4 ingest API (HTTPS, base /fhir). Default true.
  bool enabled = true;
  // IPv4 or IPv6 address to listen on. Default "0.0.0.0".
  std::string bind = "0.0.0.0";
  // TCP port, 1..65535. Default 9443.
  int port = 9443;
  // PEM certificate and key; empty = the admin server's. Default "".
  std::string tls_cert;
  std::string tls_key;
  // Worker threads, 1..64. Default 4.
  int threads = 4;
  // Largest request body, in MiB, 1..1024. Default 64.
  int max_request_mb = 64;

  friend bool operator==(const FhirConfig&, const FhirConfig&) = default;
};

struct AggregateConfig {
  // Directory of the enabled measure packs: every *.json file in it. Default
  // "/usr/share/eds/packs".
  std::string packs_dir = "/usr/share/eds/packs";
  // Smallest count a release may show (smaller ones are masked), 5..1000. Default 11.
  int k = 11;
  // The hospital's name, written as the reporter of every MeasureReport. Default "".
  std::string reporter;
  // Round released counts to this base (never below k), 0..1000; 0 or 1 = off. Default 0.
  int rounding_base = 0;
  // Consistent cell-key perturbation of released counts (noise -2..+2). Default false.
  bool cell_key_perturbation = false;

  friend bool operator==(const AggregateConfig&, const AggregateConfig&) = default;
};

struct SyncConfig {
  // Send approved releases to the upstream on the schedule. Default false.
  bool enabled = false;
  // HTTPS URL releases are POSTed under (".../releases" is appended). Default "".
  std::string upstream_url;
  // PEM CA bundle the upstream's certificate must chain to. Default "".
  std::string ca_file;
  // Optional base64 SHA-256 of the upstream's SubjectPublicKeyInfo. Default "" (no pin).
  std::string spki_pin;
  // Optional client certificate chain and key (mutual TLS). Default "".
  std::string client_cert;
  std::string client_key;
  // Optional HTTP proxy, "http://host:port", tunnelled with CONNECT. Default "".
  std::string proxy_url;
  // When to send: a five-field cron expression in time_zone. Default "0 6 * * *".
  std::string schedule = "0 6 * * *";
  // IANA time zone of the schedule. Default "Europe/Paris".
  std::string time_zone = "Europe/Paris";
  // Each fire is delayed by a stable per-node offset below this, in seconds, 0..86400, so a
  // fleet does not arrive at the same second. Default 900.
  int jitter_s = 900;
  // Time limits of one delivery, in milliseconds: connect 100..600000 (default 10000), each
  // read 100..600000 (default 30000), the whole request 100..3600000 (default 120000).
  int connect_timeout_ms = 10000;
  int read_timeout_ms = 30000;
  int total_timeout_ms = 120000;
  // Largest upstream answer read, in KiB, 1..65536. Default 1024.
  int max_response_kb = 1024;
  // Retries after a failure: exponential back-off from retry_initial_s (1..86400, default 30)
  // up to retry_max_s (1..604800, default 3600), with jitter.
  int retry_initial_s = 30;
  int retry_max_s = 3600;

  friend bool operator==(const SyncConfig&, const SyncConfig&) = default;
};

struct UpdateConfig {
  // Poll the national operator's TUF repository on `schedule`. Default false (offline boxes
  // take bundles: edsctl update apply FILE).
  bool poll = false;
  // HTTPS URL of the repository's metadata (root.json, timestamp.json, ...). Default "".
  std::string repository_url;
  // HTTPS URL of its targets, same origin; "" = repository_url + "/targets". Default "".
  std::string targets_url;
  // PEM CA bundle for the repository; "" = sync.ca_file. Proxy and time limits are sync's.
  // Default "".
  std::string ca_file;
  // When to poll: a five-field cron expression in sync.time_zone. Default "30 3 * * *".
  std::string schedule = "30 3 * * *";
  // The TUF root shipped with the image, trusted when the store holds none yet.
  // Default "/usr/share/eds/tuf/root.json".
  std::string trusted_root = "/usr/share/eds/tuf/root.json";
  // Firmware slots: "rauc" (the appliance) or "directory" (development). Default "rauc".
  std::string slots = "rauc";
  // The directory back-end's slots (A/, B/, state.json). Default "/var/lib/eds/slots".
  std::string slots_dir = "/var/lib/eds/slots";
  // Where downloaded images wait and the RAUC back-end keeps its state.
  // Default "/var/lib/eds/update".
  std::string download_dir = "/var/lib/eds/update";
  // The command whose success commits a new firmware after its first boot (argv split on spaces).
  // Default "/usr/bin/edsctl self-test".
  std::string health_check = "/usr/bin/edsctl self-test";
  // The command that reboots the box after a firmware install or a failed health check (argv
  // split on spaces). edsd runs unprivileged: the appliance's is "/usr/bin/touch
  // /run/eds/reboot-requested", a request eds-reboot.path hands to root. Default
  // "systemctl reboot".
  std::string reboot_command = "systemctl reboot";

  friend bool operator==(const UpdateConfig&, const UpdateConfig&) = default;
};

struct DaemonConfig {
  // Time allowed for an orderly shutdown, in milliseconds, 100..60000. Default 5000.
  int shutdown_timeout_ms = 5000;

  friend bool operator==(const DaemonConfig&, const DaemonConfig&) = default;
};

struct Config {
  StorageConfig storage;
  AdminConfig admin;
  ControlConfig control;
  MllpConfig mllp;
  FhirConfig fhir;
  AggregateConfig aggregate;
  SyncConfig sync;
  UpdateConfig update;
  LogConfig log;
  DaemonConfig daemon;

  friend bool operator==(const Config&, const Config&) = default;
};

// Reads and validates the file at `path`. kNotFound when it does not exist.
Result<Config> LoadConfig(const std::string& path);

// Validates TOML text. `source_name` is the file name used in messages and, made absolute
// against the working directory, the file whose directory relative paths are resolved against.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name);

// Every dotted key Config understands ("storage.data_dir", ...), in declaration order.
const std::vector<std::string>& AllConfigKeys();

// Dotted keys of every value in a TOML document (tables are descended, not listed), sorted.
// Used to check that the example config documents every key.
Result<std::vector<std::string>> ListTomlKeys(std::string_view toml_text,
                                              std::string_view source_name);

struct ConfigChange {
  std::string key;        // dotted key, e.g. "admin.port"
  std::string old_value;  // as written in TOML, e.g. "8443" or "\"info\""
  std::string new_value;
  bool applies_at_runtime;  // false: the running daemon keeps the old value until a restart
};

// Settings that differ between the running config and a reloaded one, in declaration order.
std::vector<ConfigChange> DiffConfig(const Config& running, const Config& reloaded);

}  // namespace eds::daemon
