// Acknowledged means durable, through the real feeds: edsd is killed with SIGKILL while an MLLP
// client and a FHIR client are sending; after a restart every message that got AA and every
// resource that got a 2xx is there, and resending everything stores nothing twice.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "storage/store.h"
#include "tests/e2e/edsd_harness.h"
#include "tests/testing/tls_client.h"

namespace eds::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Adt(int i) {
  const std::string id = std::to_string(i);
  return "MSH|^~\\&|CRASHTEST|HOSP|EDS|EDS|20260101120000||ADT^A01^ADT_A01|CTRL" + id +
         "|P|2.5\rEVN|A01|20260101120000\rPID|1||IPP" + std::to_string(i % 50) +
         "^^^HOSP&1.2.250.99&ISO^PI||NOM^Prenom||19800101|F\rPV1|1|I|CARDIO^12^1|||||||||||||||V" +
         id + "\r";
}

std::string Observation(int i) {
  return R"({"resourceType":"Observation","id":"obs-)" + std::to_string(i) +
         R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p-)" +
         std::to_string(i % 40) + R"("},"valueQuantity":{"value":)" + std::to_string(60 + i % 50) +
         "}}";
}

// Sends ADT messages one at a time on one connection until an error; records the acknowledged.
void SendMllp(uint16_t port, int first, std::atomic<bool>& stop, std::set<int>& acked,
              std::mutex& mu, std::set<int>& sent) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return;
  }
  for (int i = first; !stop; ++i) {
    const std::string frame = "\x0b" + Adt(i) + "\x1c\r";
    {
      std::lock_guard<std::mutex> lock(mu);
      sent.insert(i);
    }
    if (::write(fd, frame.data(), frame.size()) != static_cast<ssize_t>(frame.size())) break;
    std::string in;
    char buf[2048];
    while (in.find("\x1c\r") == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) break;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    if (in.find("MSA|AA|CTRL" + std::to_string(i) + "|") == std::string::npos &&
        in.find("MSA|AA|CTRL" + std::to_string(i) + "\r") == std::string::npos) {
      break;
    }
    std::lock_guard<std::mutex> lock(mu);
    acked.insert(i);
  }
  ::close(fd);
}

TEST(FeedCrashTest, SigkillWhileBothFeedsSendLosesNothingAcknowledged) {
  TempDir dir;
  NotifySocket notify(dir.Sub("notify.sock"));
  uint16_t mllp = 0, fhir = 0;
  const std::string config = WriteTestConfig(dir, FreeLoopbackPort(), "", &mllp, &fhir);
  auto start = [&] {
    auto p = std::make_unique<EdsdProcess>(
        BuiltBinary("edsd"), std::vector<std::string>{"--config", config},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify.path()}, dir.Sub("edsd.log"));
    EXPECT_TRUE(notify.WaitFor("READY=1", seconds(30), nullptr)) << p->Log();
    return p;
  };
  auto edsd = start();
  auto token_out = RunCommand(
      {BuiltBinary("edsctl"), "--config", config, "--json", "token", "create", "ehr"}, seconds(30));
  ASSERT_EQ(token_out.exit_code, 0) << token_out.output;
  const std::string token = nlohmann::json::parse(token_out.output)["token"];

  std::mutex mu;
  std::set<int> hl7_acked, hl7_sent, fhir_acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < 3; ++c) {
    threads.emplace_back([&, c] { SendMllp(mllp, c * 1000000, stop, hl7_acked, mu, hl7_sent); });
  }
  threads.emplace_back([&] {
    TlsClientOptions o;
    o.trusted_cert_path = dir.Sub("tls/admin.crt");
    TlsHttpClient client(o);
    for (int i = 0; !stop; ++i) {
      auto r = client.Request(
          fhir, "PUT", "/fhir/Observation/obs-" + std::to_string(i), Observation(i),
          "Content-Type: application/fhir+json\r\nAuthorization: Bearer " + token + "\r\n");
      if (!r.ok() || r->status / 100 != 2) break;
      std::lock_guard<std::mutex> lock(mu);
      fhir_acked.insert(i);
    }
  });
  std::this_thread::sleep_for(milliseconds(1500));
  edsd->Signal(SIGKILL);
  ASSERT_TRUE(edsd->WaitExit(seconds(5)).has_value());
  stop = true;
  for (auto& t : threads) t.join();
  edsd.reset();
  ASSERT_FALSE(hl7_acked.empty()) << "no HL7 message was acknowledged before the kill";
  ASSERT_FALSE(fhir_acked.empty()) << "no FHIR resource was acknowledged before the kill";

  // Restart, resend every HL7 message ever sent (a sender does after a crash), then stop.
  edsd = start();
  std::set<int> resent_acked, resent_sent;
  {
    // One connection replays them in order: SendMllp counts up from its first id, so replay each.
    for (int c = 0; c < 3; ++c) {
      std::set<int> ids;
      for (int i : hl7_sent) {
        if (i / 1000000 == c) ids.insert(i);
      }
      if (ids.empty()) continue;
      std::atomic<bool> done{false};
      std::set<int> acked_now, sent_now;
      std::thread t([&] { SendMllp(mllp, *ids.begin(), done, acked_now, mu, sent_now); });
      for (int spins = 0; spins < 3000; ++spins) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (acked_now.size() >= ids.size()) break;
        }
        std::this_thread::sleep_for(milliseconds(10));
      }
      done = true;
      t.join();
    }
  }
  edsd->Signal(SIGTERM);
  ASSERT_TRUE(edsd->WaitExit(seconds(10)).has_value());

  storage::StoreOptions options;
  options.data_dir = dir.Sub("data");
  auto store = storage::Store::Open(options, *storage::ReadKeyFile(dir.Sub("master.key")));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::multiset<std::string> hl7_controls;
  std::set<std::string> observations;
  EXPECT_TRUE((*store)
                  ->Scan(
                      [&](uint64_t, std::string_view p) {
                        if (p.rfind("MSH", 0) == 0) {
                          const size_t at = p.find("|CTRL");
                          hl7_controls.insert(
                              std::string(p.substr(at + 5, p.find('|', at + 1) - at - 5)));
                        } else if (auto j = nlohmann::json::parse(p, nullptr, false);
                                   j.is_object() && j.value("resourceType", "") == "Observation" &&
                                   j.value("id", "").rfind("obs-", 0) == 0) {
                          observations.insert(j["id"]);
                        }
                        return true;
                      },
                      {"test", "test.verify", "", ""})
                  .ok());
  for (int i : hl7_acked) {
    EXPECT_EQ(hl7_controls.count(std::to_string(i)), 1u) << "acknowledged HL7 message " << i;
  }
  for (const auto& c : hl7_controls) {
    EXPECT_EQ(hl7_controls.count(c), 1u) << "stored twice: " << c;
  }
  for (int i : fhir_acked) {
    EXPECT_TRUE(observations.count("obs-" + std::to_string(i))) << "acknowledged resource " << i;
  }
  std::cout << hl7_acked.size() << " HL7 messages and " << fhir_acked.size()
            << " FHIR resources acknowledged before SIGKILL, all present after restart\n";
}

}  // namespace
}  // namespace eds::testing
