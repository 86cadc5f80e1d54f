#include "tests/e2e/edsd_harness.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

extern char** environ;

namespace eds::testing {

namespace {

// Whether a listening socket could bind `port` on loopback now.
bool CanBind(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// The lowest port the kernel hands out to outgoing connections (and to bind(0)).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  in >> low;
  return in ? low : 32768;
}

}  // namespace

uint16_t FreeLoopbackPort() {
  // Below the ephemeral range, so no client connection of a test running alongside can take
  // the port between this check and the daemon's bind (which a port from bind(0) allowed);
  // spread by process id so parallel tests start in different places.
  constexpr int kFirst = 20000;
  static std::atomic<uint32_t> next{0};
  const int span = EphemeralLow() - kFirst;
  if (span >= 1000) {
    const uint32_t start = static_cast<uint32_t>(::getpid()) * 7919u;
    for (int attempt = 0; attempt < 500; ++attempt) {
      const auto port =
          static_cast<uint16_t>(kFirst + (start + next++) % static_cast<uint32_t>(span));
      if (CanBind(port)) return port;
    }
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

NotifySocket::NotifySocket(const std::string& path) : path_(path) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ::unlink(path.c_str());
  ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  ::unlink(path_.c_str());
}

std::optional<std::string> NotifySocket::Receive(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

bool NotifySocket::WaitFor(const std::string& wanted, std::chrono::milliseconds timeout,
                           std::vector<std::string>* seen) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto msg = Receive(left);
    if (!msg) return false;
    if (seen) seen->push_back(*msg);
    if (*msg == wanted) return true;
  }
  return false;
}

EdsdProcess::EdsdProcess(const std::string& binary, const std::vector<std::string>& args,
                         const std::vector<std::string>& env, const std::string& log_path)
    : log_path_(log_path) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    bool overridden = false;
    for (const auto& x : env) overridden |= kv.substr(0, kv.find('=')) == x.substr(0, x.find('='));
    if (!overridden) env_strings.push_back(kv);
  }
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // The child must not inherit the test's blocked signal mask or ignored signals.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  if (posix_spawn(&pid_, binary.c_str(), &actions, &attr, argv.data(), envp.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
}

EdsdProcess::~EdsdProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void EdsdProcess::Signal(int sig) const { ::kill(pid_, sig); }

std::optional<int> EdsdProcess::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return std::nullopt;
}

std::string EdsdProcess::Log() const {
  std::ifstream in(log_path_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool EdsdProcess::WaitForLog(const std::string& text, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    if (Log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::vector<std::string>& env) {
  TempDir dir;
  const std::string out = dir.Sub("out");
  CommandResult result;
  {
    std::vector<std::string> args(argv.begin() + 1, argv.end());
    EdsdProcess p(argv[0], args, env, out);
    auto status = p.WaitExit(timeout);
    if (status && WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
    result.output = p.Log();
  }
  return result;
}

std::string BuiltBinary(const std::string& name) { return BinaryPath("bin/" + name).string(); }

std::string WriteTestConfig(const TempDir& dir, uint16_t port, const std::string& extra,
                            uint16_t* mllp_port, uint16_t* fhir_port) {
  const std::string path = dir.Sub("edsd.toml");
  const uint16_t mllp = FreeLoopbackPort();
  if (mllp_port != nullptr) *mllp_port = mllp;
  const uint16_t fhir = FreeLoopbackPort();
  if (fhir_port != nullptr) *fhir_port = fhir;
  std::ofstream out(path);
  out << "[storage]\ndata_dir = \"data\"\nmaster_key_file = \"master.key\"\n"
      << "create_master_key_file = true\n\n"
      << "[admin]\nbind = \"127.0.0.1\"\nport = " << port << "\n"
      << "tls_cert = \"tls/admin.crt\"\ntls_key = \"tls/admin.key\"\n"
      << "generate_dev_certificate = true\nthreads = 2\n\n"
      << "[control]\nsocket = \"edsd.sock\"\n\n"
      << "[mllp]\nbind = \"127.0.0.1\"\nport = " << mllp << "\n\n"
      << "[fhir]\nbind = \"127.0.0.1\"\nport = " << fhir << "\n\n";
  // A test that needs its own packs (updates write into the directory) writes [aggregate].
  if (extra.find("[aggregate]") == std::string::npos) {
    out << "[aggregate]\npacks_dir = \"" << SourcePath("packs").string() << "\"\n"
        << "reporter = \"Test hospital\"\n\n";
  }
  // Firmware slots as directories, health-checked with this build's edsctl; a test that needs
  // other update settings writes the whole [update] table itself.
  if (extra.find("[update]") == std::string::npos) {
    out << "[update]\nslots = \"directory\"\nslots_dir = \"slots\"\n"
        << "download_dir = \"update\"\ntrusted_root = \"tuf-root.json\"\n"
        << "health_check = \"" << BuiltBinary("edsctl") << " --config " << path
        << " self-test\"\n\n";
  }
  out << extra;
  return path;
}

}  // namespace eds::testing
