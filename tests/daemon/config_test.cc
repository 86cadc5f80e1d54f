#include "daemon/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace eds::daemon {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

// The message of a parse that must fail with kInvalidArgument.
std::string ErrorOf(const std::string& toml) {
  Result<Config> config = ParseConfig(toml, "edsd.toml");
  EXPECT_THAT(config, StatusIs(StatusCode::kInvalidArgument));
  return config.status().message();
}

TEST(ConfigTest, EmptyFileGivesDefaults) {
  Result<Config> config = ParseConfig("", "edsd.toml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(*config, Config{});
  EXPECT_EQ(config->storage.data_dir, "/var/lib/eds");
  EXPECT_EQ(config->admin.port, 8443);
  EXPECT_EQ(config->log.level, LogLevel::kInfo);
  EXPECT_EQ(config->daemon.shutdown_timeout_ms, 5000);
}

TEST(ConfigTest, ExampleFileEqualsDefaults) {
  Result<Config> config = LoadConfig(eds::testing::SourcePath("config/edsd.example.toml"));
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(*config, Config{});
}

TEST(ConfigTest, ExampleFileSetsEveryKey) {
  const std::string text =
      eds::testing::ReadFileOrDie(eds::testing::SourcePath("config/edsd.example.toml"));
  Result<std::vector<std::string>> in_example = ListTomlKeys(text, "edsd.example.toml");
  ASSERT_THAT(in_example, IsOk());
  std::vector<std::string> all = AllConfigKeys();
  std::sort(all.begin(), all.end());
  EXPECT_EQ(*in_example, all);
}

TEST(ConfigTest, ExampleFileCommentsEveryKey) {
  std::istringstream in(
      eds::testing::ReadFileOrDie(eds::testing::SourcePath("config/edsd.example.toml")));
  std::string previous;
  std::string line;
  int keys = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#' && line[0] != '[') {
      ++keys;
      EXPECT_THAT(previous, StartsWith("# ")) << "no comment above: " << line;
    }
    previous = line;
  }
  EXPECT_EQ(keys, static_cast<int>(AllConfigKeys().size()));
}

TEST(ConfigTest, AllConfigKeysAreUniqueAndDotted) {
  std::vector<std::string> keys = AllConfigKeys();
  EXPECT_EQ(keys.size(), 69u);
  for (const std::string& key : keys) EXPECT_EQ(std::count(key.begin(), key.end(), '.'), 1) << key;
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
}

TEST(ConfigTest, ReadsEveryKey) {
  Result<Config> config = ParseConfig(R"(
[storage]
data_dir = "/srv/eds"
master_key_credential = "other-key"
master_key_file = "/etc/eds/dev.key"
create_master_key_file = true
compression_level = 19
dictionary_training_records = 100
block_cache_mb = 65536
[admin]
bind = "::1"
port = 1
tls_cert = "/c.crt"
tls_key = "/c.key"
generate_dev_certificate = true
threads = 64
request_timeout_ms = 100
[control]
socket = "/run/x.sock"
group = "eds-admins"
[aggregate]
packs_dir = "packs"
k = 5
reporter = "Centre hospitalier"
rounding_base = 10
cell_key_perturbation = true
[log]
level = "debug"
[daemon]
shutdown_timeout_ms = 60000
)",
                                      "/etc/eds/edsd.toml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->storage.data_dir, "/srv/eds");
  EXPECT_EQ(config->storage.master_key_credential, "other-key");
  EXPECT_EQ(config->storage.master_key_file, "/etc/eds/dev.key");
  EXPECT_TRUE(config->storage.create_master_key_file);
  EXPECT_EQ(config->storage.compression_level, 19);
  EXPECT_EQ(config->storage.dictionary_training_records, 100);
  EXPECT_EQ(config->storage.block_cache_mb, 65536);
  EXPECT_EQ(config->admin.bind, "::1");
  EXPECT_EQ(config->admin.port, 1);
  EXPECT_EQ(config->admin.tls_cert, "/c.crt");
  EXPECT_EQ(config->admin.tls_key, "/c.key");
  EXPECT_TRUE(config->admin.generate_dev_certificate);
  EXPECT_EQ(config->admin.threads, 64);
  EXPECT_EQ(config->admin.request_timeout_ms, 100);
  EXPECT_EQ(config->control.socket, "/run/x.sock");
  EXPECT_EQ(config->control.group, "eds-admins");
  EXPECT_EQ(config->aggregate.packs_dir, "/etc/eds/packs");  // relative to the file
  EXPECT_EQ(config->aggregate.k, 5);
  EXPECT_EQ(config->aggregate.reporter, "Centre hospitalier");
  EXPECT_EQ(config->aggregate.rounding_base, 10);
  EXPECT_TRUE(config->aggregate.cell_key_perturbation);
  EXPECT_EQ(config->log.level, LogLevel::kDebug);
  EXPECT_EQ(config->daemon.shutdown_timeout_ms, 60000);
}

TEST(ConfigTest, DisclosureKCannotGoBelowFive) {
  Result<Config> config = ParseConfig("[aggregate]\nk = 4\n", "e.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("aggregate.k"), std::string::npos)
      << config.status().message();
  EXPECT_TRUE(ParseConfig("[aggregate]\nk = 5\n", "e.toml").ok());
}

TEST(ConfigTest, AcceptsDottedKeysAndInlineTables) {
  Result<Config> config = ParseConfig("admin.port = 9000\nlog = { level = \"error\" }\n", "e.toml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->admin.port, 9000);
  EXPECT_EQ(config->log.level, LogLevel::kError);
}

TEST(ConfigTest, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_THAT(ErrorOf("[admin]\nport = 8443\nbind = \"0.0.0.0\n"), StartsWith("edsd.toml:3:"));
  EXPECT_THAT(ErrorOf("[admin]\n\n\n\n\n\n  port = = 1\n"), StartsWith("edsd.toml:7:"));
}

TEST(ConfigTest, DuplicateKeyIsSyntaxError) {
  EXPECT_THAT(ErrorOf("[log]\nlevel = \"info\"\nlevel = \"debug\"\n"), StartsWith("edsd.toml:3:"));
}

TEST(ConfigTest, UnknownKeyNamesLineAndDottedKey) {
  EXPECT_EQ(ErrorOf("[admin]\nport = 8443\n\n\n\n\n\n\n\n\n\nprot = 8443\n"),
            "edsd.toml:12: unknown key 'admin.prot'");
}

TEST(ConfigTest, UnknownSectionIsNamed) {
  EXPECT_EQ(ErrorOf("[admin]\nport = 8443\n[adm]\nport = 1\n"),
            "edsd.toml:3: unknown section 'adm'");
}

TEST(ConfigTest, UnknownTopLevelKeyIsNamed) {
  EXPECT_EQ(ErrorOf("# comment\nport = 1\n"), "edsd.toml:2: unknown key 'port'");
}

TEST(ConfigTest, NestedTableInSectionIsUnknownKey) {
  EXPECT_EQ(ErrorOf("[admin.tls]\ncert = \"x\"\n"), "edsd.toml:1: unknown key 'admin.tls'");
}

TEST(ConfigTest, SectionGivenAsValueIsWrongType) {
  EXPECT_EQ(ErrorOf("admin = 3\n"), "edsd.toml:1: admin: expected table, got integer");
}

TEST(ConfigTest, WrongTypeNamesExpectedAndActual) {
  EXPECT_EQ(ErrorOf("[admin]\nbind = \"::\"\n\nport = \"8443\"\n"),
            "edsd.toml:4: admin.port: expected integer, got string");
  EXPECT_EQ(ErrorOf("[admin]\nport = 8443.0\n"),
            "edsd.toml:2: admin.port: expected integer, got float");
  EXPECT_EQ(ErrorOf("[storage]\ncreate_master_key_file = \"yes\"\n"),
            "edsd.toml:2: storage.create_master_key_file: expected boolean, got string");
  EXPECT_EQ(ErrorOf("[storage]\ndata_dir = [\"/a\"]\n"),
            "edsd.toml:2: storage.data_dir: expected string, got array");
  EXPECT_EQ(ErrorOf("[log]\nlevel = 3\n"), "edsd.toml:2: log.level: expected string, got integer");
}

TEST(ConfigTest, OutOfRangeNamesValueAndRange) {
  EXPECT_EQ(ErrorOf("[admin]\nbind = \"::\"\n\nport = 70000\n"),
            "edsd.toml:4: admin.port: 70000 is out of range 1..65535");
  EXPECT_EQ(ErrorOf("[admin]\nthreads = 0\n"),
            "edsd.toml:2: admin.threads: 0 is out of range 1..64");
  EXPECT_EQ(ErrorOf("[storage]\ncompression_level = -3\n"),
            "edsd.toml:2: storage.compression_level: -3 is out of range 1..19");
  EXPECT_EQ(ErrorOf("[daemon]\nshutdown_timeout_ms = 9223372036854775807\n"),
            "edsd.toml:2: daemon.shutdown_timeout_ms: 9223372036854775807 is out of range "
            "100..60000");
}

TEST(ConfigTest, BadEnumValueListsAllowedValues) {
  EXPECT_EQ(ErrorOf("[log]\nlevel = \"verbose\"\n"),
            "edsd.toml:2: log.level: \"verbose\" is not one of debug, info, warning, error");
  EXPECT_EQ(ErrorOf("[log]\nlevel = \"INFO\"\n"),
            "edsd.toml:2: log.level: \"INFO\" is not one of debug, info, warning, error");
}

TEST(ConfigTest, RejectsBadStringValues) {
  EXPECT_EQ(ErrorOf("[storage]\ndata_dir = \"\"\n"),
            "edsd.toml:2: storage.data_dir: must not be empty");
  EXPECT_EQ(ErrorOf("[admin]\nbind = \"localhost\"\n"),
            "edsd.toml:2: admin.bind: \"localhost\" is not an IPv4 or IPv6 address");
  EXPECT_EQ(ErrorOf("[storage]\nmaster_key_credential = \"a/b\"\n"),
            "edsd.toml:2: storage.master_key_credential: \"a/b\" must be a credential name "
            "without '/'");
  const std::string long_path = "/run/" + std::string(103, 's');
  EXPECT_EQ(ErrorOf("[control]\nsocket = \"" + long_path + "\"\n"),
            "edsd.toml:2: control.socket: \"" + long_path +
                "\" is longer than 107 bytes, the limit for a UNIX socket path");
}

TEST(ConfigTest, AdminRequestLimitIsReadAndBounded) {
  EXPECT_EQ(Config{}.admin.max_request_mb, 64);
  Result<Config> config = ParseConfig("[admin]\nmax_request_mb = 512\n", "edsd.toml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->admin.max_request_mb, 512);
  EXPECT_EQ(ErrorOf("[admin]\nmax_request_mb = 0\n"),
            "edsd.toml:2: admin.max_request_mb: 0 is out of range 1..1024");
}

TEST(ConfigTest, RebootCommandIsReadAndMayNotBeEmpty) {
  EXPECT_EQ(Config{}.update.reboot_command, "systemctl reboot");
  Result<Config> config = ParseConfig(
      "[update]\nreboot_command = \"/usr/bin/touch /run/eds/reboot-requested\"\n", "edsd.toml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->update.reboot_command, "/usr/bin/touch /run/eds/reboot-requested");
  EXPECT_EQ(ErrorOf("[update]\nreboot_command = \"\"\n"),
            "edsd.toml:2: update.reboot_command: must not be empty");
}

TEST(ConfigTest, SyncSettingsAreCheckedBeforeStart) {
  EXPECT_EQ(ErrorOf("[sync]\nenabled = true\n"),
            "edsd.toml:2: sync.upstream_url: must be set when sync.enabled is true\n"
            "edsd.toml:2: sync.ca_file: must be set when sync.enabled is true");
  EXPECT_EQ(ErrorOf("[sync]\nupstream_url = \"http://hub.example.fr\"\n"),
            "edsd.toml:2: sync.upstream_url: \"http://hub.example.fr\" must be an https:// URL");
  EXPECT_THAT(ErrorOf("[sync]\nschedule = \"0 25 * * *\"\n"),
              HasSubstr("edsd.toml:2: sync.schedule: \"0 25 * * *\" cron field hour: bad token"));
  EXPECT_EQ(ErrorOf("[sync]\ntime_zone = \"Europe/Lutece\"\n"),
            "edsd.toml:2: sync.time_zone: \"Europe/Lutece\" unknown time zone 'Europe/Lutece'");
  EXPECT_EQ(ErrorOf("[sync]\nclient_cert = \"/c\"\n"),
            "edsd.toml:2: sync.client_cert and sync.client_key: set both or neither");
  EXPECT_EQ(ErrorOf("[sync]\nretry_initial_s = 60\nretry_max_s = 30\n"),
            "edsd.toml:3: sync.retry_max_s: must be at least retry_initial_s");
}

TEST(ConfigTest, CreatingKeyFileNeedsItsPath) {
  EXPECT_EQ(ErrorOf("[storage]\n\ncreate_master_key_file = true\n"),
            "edsd.toml:3: storage.create_master_key_file: needs storage.master_key_file to be set");
}

TEST(ConfigTest, ReportsEveryErrorInLineOrder) {
  EXPECT_EQ(ErrorOf("[log]\nlevel = \"loud\"\n[admin]\nthreads = 100\nprot = 1\n"),
            "edsd.toml:2: log.level: \"loud\" is not one of debug, info, warning, error\n"
            "edsd.toml:4: admin.threads: 100 is out of range 1..64\n"
            "edsd.toml:5: unknown key 'admin.prot'");
}

TEST(ConfigTest, MissingFileIsNotFoundNamingPath) {
  eds::testing::TempDir dir;
  const std::string path = dir.Sub("absent.toml");
  Result<Config> config = LoadConfig(path);
  EXPECT_THAT(config, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(config.status().message(), HasSubstr(path));
}

TEST(ConfigTest, LoadConfigErrorsNameThePathGiven) {
  eds::testing::TempDir dir;
  const std::string path = dir.Sub("edsd.toml");
  WriteFile(path, "[admin]\nport = 0\n");
  Result<Config> config = LoadConfig(path);
  EXPECT_THAT(config, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(config.status().message(), path + ":2: admin.port: 0 is out of range 1..65535");
}

TEST(ConfigTest, RelativePathsResolveAgainstConfigDirectory) {
  eds::testing::TempDir dir;
  const std::filesystem::path conf_dir = dir.path() / "checkout" / "config";
  WriteFile(conf_dir / "dev.toml", R"([storage]
data_dir = "../var/data"
master_key_file = "dev.key"
create_master_key_file = true
[admin]
tls_cert = "./tls/admin.crt"
tls_key = "/etc/eds/tls/admin.key"
[control]
socket = "run/edsd.sock"
)");
  const std::filesystem::path old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());  // a cwd unrelated to the config file
  Result<Config> config = LoadConfig("checkout/config/dev.toml");
  std::filesystem::current_path(old_cwd);
  ASSERT_THAT(config, IsOk());
  const std::filesystem::path root = dir.path() / "checkout";
  EXPECT_EQ(config->storage.data_dir, (root / "var/data").string());
  EXPECT_EQ(config->storage.master_key_file, (conf_dir / "dev.key").string());
  EXPECT_EQ(config->admin.tls_cert, (conf_dir / "tls/admin.crt").string());
  EXPECT_EQ(config->admin.tls_key, "/etc/eds/tls/admin.key");
  EXPECT_EQ(config->control.socket, (conf_dir / "run/edsd.sock").string());
  EXPECT_EQ(config->storage.master_key_credential, "eds-master-key");  // a name, not a path
}

TEST(ConfigTest, ParseConfigResolvesAgainstSourceNameDirectory) {
  Result<Config> config = ParseConfig("[storage]\ndata_dir = \"data\"\n", "/etc/eds/edsd.toml");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->storage.data_dir, "/etc/eds/data");
}

TEST(ConfigTest, DiffOfEqualConfigsIsEmpty) { EXPECT_TRUE(DiffConfig(Config{}, Config{}).empty()); }

TEST(ConfigTest, DiffSaysWhichChangesNeedRestart) {
  Config running;
  Config reloaded;
  reloaded.log.level = LogLevel::kDebug;
  reloaded.admin.port = 9443;
  reloaded.storage.data_dir = "/srv/eds";
  reloaded.admin.generate_dev_certificate = true;
  const std::vector<ConfigChange> changes = DiffConfig(running, reloaded);
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].key, "storage.data_dir");
  EXPECT_EQ(changes[0].old_value, "\"/var/lib/eds\"");
  EXPECT_EQ(changes[0].new_value, "\"/srv/eds\"");
  EXPECT_FALSE(changes[0].applies_at_runtime);
  EXPECT_EQ(changes[1].key, "admin.port");
  EXPECT_EQ(changes[1].old_value, "8443");
  EXPECT_EQ(changes[1].new_value, "9443");
  EXPECT_FALSE(changes[1].applies_at_runtime);
  EXPECT_EQ(changes[2].key, "admin.generate_dev_certificate");
  EXPECT_EQ(changes[2].new_value, "true");
  EXPECT_FALSE(changes[2].applies_at_runtime);
  EXPECT_EQ(changes[3].key, "log.level");
  EXPECT_EQ(changes[3].old_value, "\"info\"");
  EXPECT_EQ(changes[3].new_value, "\"debug\"");
  EXPECT_TRUE(changes[3].applies_at_runtime);
}

TEST(ConfigTest, OnlyLogLevelAppliesAtRuntime) {
  Result<Config> changed = ParseConfig(R"(
[storage]
data_dir = "/a"
master_key_credential = "k"
master_key_file = "/k"
create_master_key_file = true
compression_level = 4
dictionary_training_records = 101
block_cache_mb = 9
[admin]
bind = "127.0.0.1"
port = 2
tls_cert = "/c"
tls_key = "/k"
generate_dev_certificate = true
threads = 2
request_timeout_ms = 101
max_request_mb = 65
[control]
socket = "/s"
group = "g"
[mllp]
enabled = false
bind = "127.0.0.1"
port = 3
max_message_kb = 2
max_connections = 2
idle_timeout_ms = 1001
read_timeout_ms = 101
allowed_peers = "10.0.0.0/8"
tls_cert = "/mc"
tls_key = "/mk"
threads = 2
[fhir]
enabled = false
bind = "127.0.0.1"
port = 4
tls_cert = "/fc"
tls_key = "/fk"
threads = 2
max_request_mb = 2
[aggregate]
packs_dir = "/p"
k = 12
reporter = "Hospital"
rounding_base = 5
cell_key_perturbation = true
[sync]
enabled = true
upstream_url = "https://hub.example.fr/eds"
ca_file = "/ca.pem"
spki_pin = "pin"
client_cert = "/cc"
client_key = "/ck"
proxy_url = "http://proxy.example.fr:3128"
schedule = "30 2 * * 1"
time_zone = "America/New_York"
jitter_s = 5
connect_timeout_ms = 101
read_timeout_ms = 102
total_timeout_ms = 103
max_response_kb = 2
retry_initial_s = 2
retry_max_s = 4
[update]
poll = true
repository_url = "https://tuf.example.fr/metadata"
targets_url = "https://tuf.example.fr/targets2"
ca_file = "/tuf-ca.pem"
schedule = "15 4 * * *"
trusted_root = "/root.json"
slots = "directory"
slots_dir = "/slots"
download_dir = "/dl"
health_check = "/bin/true"
reboot_command = "/usr/bin/touch /run/eds/reboot-requested"
[log]
level = "error"
[daemon]
shutdown_timeout_ms = 101
)",
                                       "/etc/eds/edsd.toml");
  ASSERT_THAT(changed, IsOk());
  const std::vector<ConfigChange> changes = DiffConfig(Config{}, *changed);
  ASSERT_EQ(changes.size(), AllConfigKeys().size());
  for (size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(changes[i].key, AllConfigKeys()[i]);
    EXPECT_EQ(changes[i].applies_at_runtime, changes[i].key == "log.level") << changes[i].key;
  }
}

TEST(ConfigTest, ListTomlKeysReportsSyntaxErrors) {
  EXPECT_THAT(ListTomlKeys("a = \n", "x.toml"), StatusIs(StatusCode::kInvalidArgument));
  Result<std::vector<std::string>> keys = ListTomlKeys("b = 1\n[a]\nc.d = 2\n", "x.toml");
  ASSERT_THAT(keys, IsOk());
  EXPECT_THAT(*keys, ElementsAre("a.c.d", "b"));
}

}  // namespace
}  // namespace eds::daemon
