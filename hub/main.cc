// edshub: the reference upstream receiver (tests, demos, the mutualized level).
#include <signal.h>
#include <sodium.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "hub/http_api.h"
#include "hub/receiver.h"
#include "storage/secret_key.h"
#include "storage/store.h"
#include "webadmin/admin_server.h"

namespace {

using nlohmann::json;

void Usage() {
  std::fputs(
      "usage: edshub --data-dir DIR --key-file FILE COMMAND [ARGS]\n"
      "  enrol PUBLIC_KEY_BASE64 [--name NAME]   accept releases signed by this node key\n"
      "  nodes                                   enrolled nodes\n"
      "  serve --cert FILE --key FILE [--listen ADDR] [--port N] [--client-ca FILE]\n"
      "        [--port-file FILE]                receive releases over HTTPS (POST /releases)\n"
      "  list                                    received releases\n"
      "  export NODE_ID SEQUENCE                 the Bundle of one release\n"
      "  sum MEASURE PERIOD                      a measure summed over the nodes (masked\n"
      "                                          anywhere = masked)\n"
      "The key file (32 bytes, hex) seals the hub's store; it is made when missing.\n",
      stderr);
}

int Fail(const eds::Status& s) {
  std::fprintf(stderr, "edshub: %s\n", s.ToString().c_str());
  return 1;
}

std::string Flag(std::vector<std::string>& args, const std::string& name,
                 const std::string& fallback = "") {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == name) {
      std::string v = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                 args.begin() + static_cast<std::ptrdiff_t>(i + 2));
      return v;
    }
  }
  return fallback;
}

int Serve(eds::hub::Receiver& receiver, std::vector<std::string>& args) {
  eds::webadmin::AdminServerOptions o;
  o.cert_path = Flag(args, "--cert");
  o.key_path = Flag(args, "--key");
  o.bind_address = Flag(args, "--listen", "127.0.0.1");
  o.port = static_cast<uint16_t>(std::stoi(Flag(args, "--port", "9444")));
  o.client_ca_path = Flag(args, "--client-ca");
  o.max_request_bytes = 16 << 20;
  const std::string port_file = Flag(args, "--port-file");
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before CivetWeb starts its threads
  auto server = eds::webadmin::AdminServer::Start(o, [] { return json{{"status", "ok"}}; });
  if (!server.ok()) return Fail(server.status());
  eds::hub::AddRoutes(**server, receiver);
  std::printf("edshub: listening on https://%s:%u/releases\n", o.bind_address.c_str(),
              (*server)->port());
  std::fflush(stdout);
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string data_dir = Flag(args, "--data-dir");
  const std::string key_file = Flag(args, "--key-file");
  if (data_dir.empty() || key_file.empty() || args.empty()) {
    Usage();
    return 2;
  }
  auto key = eds::storage::LoadMasterKey({"", key_file, true});
  if (!key.ok()) return Fail(key.status());
  eds::storage::StoreOptions store_options;
  store_options.data_dir = data_dir;
  auto store = eds::storage::Store::Open(store_options, std::move(key->key));
  if (!store.ok()) return Fail(store.status());
  eds::SystemClock clock;
  eds::hub::Receiver receiver(**store, clock);
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "enrol" && !args.empty()) {
    const std::string name = Flag(args, "--name");
    auto id = receiver.Enrol(args[0], name);
    if (!id.ok()) return Fail(id.status());
    std::printf("%s\n", id->c_str());
    return 0;
  }
  if (command == "nodes") {
    auto nodes = receiver.Nodes();
    if (!nodes.ok()) return Fail(nodes.status());
    for (const auto& n : *nodes) {
      std::printf("%s\t%s\t%s\n", n.node_id.c_str(), eds::sync::FingerprintOf(n.public_key).c_str(),
                  n.name.c_str());
    }
    return 0;
  }
  if (command == "serve") return Serve(receiver, args);
  if (command == "list") {
    auto list = receiver.List();
    if (!list.ok()) return Fail(list.status());
    for (const auto& r : *list) {
      std::printf("%s\t%llu\t%s\t%s\t%s\t%zu\n", r.node_id.c_str(),
                  static_cast<unsigned long long>(r.sequence), r.release_id.c_str(),
                  r.period.c_str(), r.received_at.c_str(), r.bytes);
    }
    return 0;
  }
  if (command == "export" && args.size() == 2) {
    auto bundle = receiver.Export(args[0], std::stoull(args[1]));
    if (!bundle.ok()) return Fail(bundle.status());
    std::fwrite(bundle->data(), 1, bundle->size(), stdout);
    return 0;
  }
  if (command == "sum" && args.size() == 2) {
    auto sum = receiver.Sum(args[0], args[1]);
    if (!sum.ok()) return Fail(sum.status());
    json cells = json::array();
    for (const auto& c : sum->cells) {
      json cell = {{"measure", c.cell.measure},
                   {"stratifier", c.cell.stratifier},
                   {"values", c.cell.values}};
      if (c.count) {
        cell["count"] = *c.count;
      } else {
        cell["masked"] = true;
      }
      cells.push_back(cell);
    }
    std::printf("%s\n", json{{"measure", sum->measure},
                             {"period", sum->period},
                             {"nodes", sum->nodes},
                             {"cells", cells}}
                            .dump(2)
                            .c_str());
    return 0;
  }
  Usage();
  return 2;
}
