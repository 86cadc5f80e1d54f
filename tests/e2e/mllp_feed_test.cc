// HL7 v2 over MLLP into the real edsd, sent by a third-party client (node-hl7-client): every
// message gets the right ACK, accepted ones are stored once, resends are not stored twice, and
// broken input changes nothing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "storage/store.h"
#include "tests/e2e/edsd_harness.h"
#include "tests/testing/tls_client.h"

namespace eds::testing {
namespace {

using std::chrono::seconds;
namespace fs = std::filesystem;

// HL7 message files to send: the committed fixtures, plus the shared samples when present.
std::vector<std::string> MessageFiles() {
  std::vector<std::string> files;
  auto add_dir = [&files](const fs::path& dir, const std::string& must_contain) {
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      const std::string ext = e.path().extension().string();
      if ((ext == ".hl7" || ext == ".er7") && name.find(must_contain) != std::string::npos &&
          name.find("ack") == std::string::npos) {
        found.push_back(e.path().string());
      }
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  };
  add_dir(SourcePath("tests/data/hl7"), "");
  const fs::path shared = SharedTestData();
  if (shared.empty()) {
    std::cout << "shared test data absent: sending the committed HL7 fixtures only\n";
  } else {
    add_dir(shared / "hl7v2/microsoft-fhir-converter", "");
    add_dir(shared / "hl7v2/ansforge-fr", "");
  }
  return files;
}

struct Ack {
  std::string code, control, text;
};

// ERR-3.1 of an ACK (the HL7 table 0357 code), or "" when it has no ERR segment.
std::string ErrorCode(const std::string& ack) {
  const size_t err = ack.find("\rERR|");
  if (err == std::string::npos) return "";
  size_t pos = err + 1;
  for (int field = 0; field < 3; ++field) {
    pos = ack.find('|', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  return ack.substr(pos, ack.find_first_of("^|\r", pos) - pos);
}

std::map<std::string, Ack> SendWithNodeClient(uint16_t port,
                                              const std::vector<std::string>& files) {
  std::vector<std::string> argv = {"/usr/bin/node",
                                   SourcePath("tests/clients/send_hl7.mjs").string(), "127.0.0.1",
                                   std::to_string(port)};
  argv.insert(argv.end(), files.begin(), files.end());
  CommandResult r = RunCommand(argv, seconds(240));
  EXPECT_EQ(r.exit_code, 0) << r.output.substr(0, 2000);
  std::map<std::string, Ack> acks;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("file")) continue;
    acks[j["file"]] = {j.value("code", ""), j.value("control", ""),
                       j.value("error", j.value("ack", ""))};
  }
  return acks;
}

// Records of a stopped daemon's store, by kind ("HL7v2" raw messages, FHIR types).
std::map<std::string, int> CountRecords(const TempDir& dir) {
  auto key = storage::ReadKeyFile(dir.Sub("master.key"));
  EXPECT_TRUE(key.ok());
  storage::StoreOptions options;
  options.data_dir = dir.Sub("data");
  auto store = storage::Store::Open(options, std::move(key).value());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  std::map<std::string, int> counts;
  (*store)
      ->Scan(
          [&](uint64_t, std::string_view payload) {
            if (payload.rfind("MSH", 0) == 0) {
              ++counts["HL7v2"];
            } else if (auto j = nlohmann::json::parse(payload, nullptr, false); j.is_object()) {
              ++counts[j.value("resourceType", "?")];
            } else {
              ++counts["other"];
            }
            return true;
          },
          {"test", "test.count", "", ""})
      .IgnoreError();
  return counts;
}

class MllpFeedTest : public ::testing::Test {
 protected:
  MllpFeedTest() : notify_(dir_.Sub("notify.sock")) {
    config_ = WriteTestConfig(dir_, FreeLoopbackPort(), "", &mllp_port_);
  }
  void Start() {
    edsd_ = std::make_unique<EdsdProcess>(
        BuiltBinary("edsd"), std::vector<std::string>{"--config", config_},
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify_.path()}, dir_.Sub("edsd.log"));
    ASSERT_TRUE(notify_.WaitFor("READY=1", seconds(20), nullptr)) << edsd_->Log();
  }
  void Stop() {
    edsd_->Signal(SIGTERM);
    ASSERT_TRUE(edsd_->WaitExit(seconds(10)).has_value());
    edsd_.reset();
  }

  TempDir dir_;
  NotifySocket notify_;
  uint16_t mllp_port_ = 0;
  std::string config_;
  std::unique_ptr<EdsdProcess> edsd_;
};

TEST_F(MllpFeedTest, EveryMessageIsAcknowledgedAndStoredOnceEvenWhenResent) {
  const auto files = MessageFiles();
  ASSERT_FALSE(files.empty());
  Start();
  const auto first = SendWithNodeClient(mllp_port_, files);
  int accepted = 0, rejected = 0, errors = 0;
  for (const auto& f : files) {
    auto it = first.find(f);
    ASSERT_NE(it, first.end()) << "no answer for " << f;
    const Ack& ack = it->second;
    if (ack.code.empty()) {
      // The client itself refused to send it (e.g. a batch file): nothing reached the box.
      std::cout << fs::path(f).filename().string() << ": not sent by the client: " << ack.text
                << "\n";
      continue;
    }
    ASSERT_TRUE(ack.code == "AA" || ack.code == "AE" || ack.code == "AR") << f << ": " << ack.code;
    EXPECT_FALSE(ack.control.empty()) << f << ": MSA-2 must echo the control id";
    // A refusal is the message's fault, never the box's (HL7 table 0357 code 207).
    EXPECT_NE(ErrorCode(ack.text), "207") << f << ": " << ack.text;
    // The same message in two files (a committed copy of a shared sample) is a resend.
    accepted += ack.code == "AA" && ack.text.find("duplicate") == std::string::npos;
    rejected += ack.code == "AR";
    errors += ack.code == "AE";
  }
  std::cout << files.size() << " files: " << accepted << " AA, " << errors << " AE, " << rejected
            << " AR\n";
  EXPECT_GT(accepted, 0);

  // Resending everything: the same answers, and nothing new stored.
  const auto second = SendWithNodeClient(mllp_port_, files);
  for (const auto& [file, ack] : first) {
    EXPECT_EQ(second.at(file).code, ack.code) << file;
  }
  Stop();
  auto counts = CountRecords(dir_);
  EXPECT_EQ(counts["HL7v2"], accepted) << "one original message stored per accepted message";
  EXPECT_GE(counts["Patient"], 1);
  EXPECT_EQ(counts["other"], accepted) << "one duplicate marker per accepted message";
}

// Raw TCP: what node-hl7-client cannot send.
int Connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until `fd` closes or a whole frame arrives (5 s bound); returns what came.
std::string ReadReply(int fd) {
  std::string in;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    if (in.size() >= 2 && in.substr(in.size() - 2) == "\x1c\r") break;
  }
  return in;
}

TEST_F(MllpFeedTest, BrokenInputGetsAnErrorAndStoresNothing) {
  Start();
  auto send = [&](const std::string& bytes) {
    const int fd = Connect(mllp_port_);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    std::string reply = ReadReply(fd);
    ::close(fd);
    return reply;
  };
  // Not HL7 at all, framed: AR.
  std::string reply = send("\x0bhello world\x1c\r");
  EXPECT_NE(reply.find("MSA|AR"), std::string::npos) << reply;
  // Wrong delimiters (MSH-2 missing): AR with ERR.
  reply = send("\x0bMSH|\rPID|1\x1c\r");
  EXPECT_NE(reply.find("MSA|AR"), std::string::npos) << reply;
  EXPECT_NE(reply.find("ERR|"), std::string::npos) << reply;
  // A supported type without a patient identifier: AE naming PID-3.
  reply = send(
      "\x0bMSH|^~\\&|APP|FAC|EDS|EDS|20260101120000||ADT^A01^ADT_A01|BAD1|P|2.5\rPID|1||\r"
      "PV1|1|I\x1c\r");
  EXPECT_NE(reply.find("MSA|AE|BAD1"), std::string::npos) << reply;
  EXPECT_NE(reply.find("PID^1^3"), std::string::npos) << reply;
  // Bytes outside a frame and an oversized frame: the connection is closed, no ACK.
  EXPECT_EQ(send("garbage before any frame"), "");
  EXPECT_EQ(send("\x0b" + std::string(2 << 20, 'A') + "\x1c\r"), "");
  // A truncated frame (no end block): closed after the read timeout, no ACK.
  Stop();
  auto counts = CountRecords(dir_);
  EXPECT_EQ(counts["HL7v2"], 0);
  EXPECT_EQ(counts["Patient"], 0);
}

// The admin API's feeds view: the listener as configured, its counters, and the reasons of the
// last refusals of both feeds, without the refused content.
TEST_F(MllpFeedTest, TheFeedsPageShowsTheListenerAndTheLastRefusalReasons) {
  const uint16_t admin_port = FreeLoopbackPort();
  uint16_t fhir_port = 0;
  config_ = WriteTestConfig(dir_, admin_port, "", &mllp_port_, &fhir_port);
  Start();
  const int fd = Connect(mllp_port_);
  ASSERT_GE(fd, 0);
  const std::string bad_hl7 =
      "\x0bMSH|^~\\&|APP|FAC|EDS|EDS|20260101120000||ADT^A01^ADT_A01|BAD7|P|2.5\rPID|1||||"
      "DUPONT^Jeanne\rPV1|1|I\x1c\r";
  ASSERT_EQ(::write(fd, bad_hl7.data(), bad_hl7.size()), static_cast<ssize_t>(bad_hl7.size()));
  const std::string ack = ReadReply(fd);
  ASSERT_NE(ack.find("MSA|AE|BAD7"), std::string::npos) << ack;  // the connection stays open

  auto token =
      RunCommand({BuiltBinary("edsctl"), "--config", config_, "--json", "token", "create", "lab"},
                 seconds(30));
  ASSERT_EQ(token.exit_code, 0) << token.output;
  TlsClientOptions tls;
  tls.trusted_cert_path = dir_.Sub("tls/admin.crt");
  auto fhir = TlsHttpClient(tls).Request(
      fhir_port, "POST", "/fhir/Patient",
      R"({"resourceType":"Patient","birthDate":"31/12/1961","name":[{"family":"Durand"}]})",
      "Content-Type: application/fhir+json\r\nAuthorization: Bearer " +
          nlohmann::json::parse(token.output)["token"].get<std::string>() + "\r\n");
  ASSERT_TRUE(fhir.ok()) << fhir.status().ToString();
  ASSERT_GE(fhir->status, 400) << fhir->body;
  ASSERT_LT(fhir->status, 500) << fhir->body;

  std::smatch m;
  const std::string log = edsd_->Log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex("setup token ([0-9a-f]{64})"))) << log;
  TlsHttpClient admin(tls);
  auto call = [&](const std::string& method, const std::string& path, const nlohmann::json& body,
                  const std::string& cookie) {
    std::string headers = "Content-Type: application/json\r\n";
    if (!cookie.empty()) headers += "Cookie: " + cookie + "\r\n";
    auto r = admin.Request(admin_port, method, path, body.is_null() ? "" : body.dump(), headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : HttpReply{};
  };
  const nlohmann::json setup = {
      {"token", m[1].str()},
      {"admin", {{"name", "it-admin"}, {"password", "Sx9!feeds-page-e2e"}, {"language", "fr"}}},
      {"settings", {{"hospital_name", "CH"}, {"time_zone", "Europe/Paris"}}}};
  ASSERT_EQ(call("POST", "/api/setup", setup, "").status, 200);
  const HttpReply login =
      call("POST", "/api/login", {{"name", "it-admin"}, {"password", "Sx9!feeds-page-e2e"}}, "");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string cookie =
      login.headers.at("set-cookie").substr(0, login.headers.at("set-cookie").find(';'));
  const HttpReply feeds = call("GET", "/api/feeds", nullptr, cookie);
  ASSERT_EQ(feeds.status, 200) << feeds.body;
  const auto j = nlohmann::json::parse(feeds.body);
  EXPECT_EQ(j["mllp"]["enabled"], true);
  EXPECT_EQ(j["mllp"]["port"], mllp_port_);
  EXPECT_EQ(j["mllp"]["tls"], false);
  EXPECT_EQ(j["mllp"]["messages_received"], 1) << feeds.body;
  EXPECT_EQ(j["mllp"]["messages_rejected"], 1) << feeds.body;
  EXPECT_EQ(j["mllp"]["messages_accepted"], 0) << feeds.body;
  ASSERT_EQ(j["mllp"]["peers"].size(), 1u) << feeds.body;  // the sender still connected
  EXPECT_EQ(j["mllp"]["peers"][0]["address"], "127.0.0.1");
  EXPECT_EQ(j["mllp"]["peers"][0]["messages"], 1);
  EXPECT_FALSE(j["mllp"]["peers"][0]["connected_at"].get<std::string>().empty());
  EXPECT_FALSE(j["mllp"]["peers"][0]["last_message_at"].get<std::string>().empty());
  ::close(fd);
  ASSERT_GE(j["errors"].size(), 2u) << feeds.body;
  EXPECT_EQ(j["errors"][0]["feed"], "fhir") << feeds.body;  // newest first
  bool birth_date_named = false;
  for (const auto& e : j["errors"]) {
    if (e["feed"] != "fhir") continue;
    EXPECT_EQ(e["code"], std::to_string(fhir->status));
    birth_date_named |=
        e["reason"].get<std::string>().find("Patient.birthDate") != std::string::npos;
  }
  EXPECT_TRUE(birth_date_named) << feeds.body;
  const auto& hl7 = j["errors"][j["errors"].size() - 1];
  EXPECT_EQ(hl7["feed"], "mllp") << feeds.body;
  EXPECT_EQ(hl7["code"], "AE");
  EXPECT_EQ(hl7["source"], "mllp 127.0.0.1");
  EXPECT_NE(hl7["reason"].get<std::string>().find("PID"), std::string::npos) << feeds.body;
  for (const char* personal : {"DUPONT", "Jeanne", "Durand", "31/12/1961"}) {
    EXPECT_EQ(feeds.body.find(personal), std::string::npos) << personal << " " << feeds.body;
  }
  // The same counts for Prometheus (from loopback, no token needed).
  const HttpReply metrics = call("GET", "/metrics", nullptr, "");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.body.find("eds_ingest_messages_total{feed=\"mllp\",outcome=\"error\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("eds_update_trusted_version{role=\"targets\"} 0"), std::string::npos)
      << metrics.body;
  Stop();
}

TEST_F(MllpFeedTest, ObjectionAndErasureFindThePatientByAnyOfItsIdentifiers) {
  Start();
  const std::string message = ReadFileOrDie(SourcePath("tests/data/hl7/pam-fr/adt_a01_ins.hl7"));
  const int fd = Connect(mllp_port_);
  ASSERT_GE(fd, 0);
  const std::string frame = "\x0b" + message + "\x1c\r";
  ASSERT_EQ(::write(fd, frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  const std::string ack = ReadReply(fd);
  ::close(fd);
  ASSERT_NE(ack.find("MSA|AA"), std::string::npos) << ack;

  auto edsctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {BuiltBinary("edsctl"), "--config", config_});
    return RunCommand(args, seconds(30));
  };
  // The objection names the patient by its INS; the erasure by its hospital number (IPP).
  auto add = edsctl({"objection", "add", "urn:oid:1.2.250.1.213.1.4.8|285022505604263"});
  ASSERT_EQ(add.exit_code, 0) << add.output;
  EXPECT_NE(edsctl({"objection", "add", "1.2.250.1.213.1.4.8|285022505604263"}).exit_code, 0)
      << "the same patient twice";
  auto list = edsctl({"objection", "list"});
  EXPECT_NE(list.output.find("285022505604263"), std::string::npos) << list.output;
  auto erase = edsctl({"erase", "2.999.250.1|0012345678"});
  ASSERT_EQ(erase.exit_code, 0) << erase.output;
  EXPECT_NE(erase.output.find("erased: "), std::string::npos) << erase.output;
  EXPECT_EQ(erase.output.find("erased: 0 records"), std::string::npos) << erase.output;
  EXPECT_NE(edsctl({"erase", "2.999.250.1|0012345678"}).exit_code, 0) << "nothing left to erase";
  Stop();
  auto counts = CountRecords(dir_);
  EXPECT_EQ(counts["Patient"], 0);
  EXPECT_EQ(counts["Encounter"], 0);
  EXPECT_EQ(counts["HL7v2"], 0);
}

}  // namespace
}  // namespace eds::testing
