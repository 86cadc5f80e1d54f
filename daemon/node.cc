#include "daemon/node.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/log.h"
#include "common/status_macros.h"
#include "daemon/control_commands.h"
#include "daemon/control_import.h"
#include "daemon/control_server.h"
#include "daemon/journald_log.h"
#include "daemon/master_key.h"
#include "daemon/systemd.h"
#include "daemon/update_poller.h"
#include "daemon/version.h"
#include "ingest/bulk_ingest.h"
#include "ingest/fhir_ingest.h"
#include "ingest/fhir_tokens.h"
#include "ingest/hl7_ingest.h"
#include "ingest/ingest_errors.h"
#include "ingest/mllp/listener.h"
#include "ingest/objection_register.h"
#include "ingest/pseudonymizer.h"
#include "storage/store.h"
#include "update/https_fetcher.h"
#include "update/store_metadata_store.h"
#include "update/updater.h"
#include "webadmin/admin_server.h"
#include "webadmin/api/api.h"
#include "webadmin/node_settings.h"
#include "webadmin/tls_certificate.h"

namespace eds::daemon {

struct Node::Impl {
  Config config;
  std::string config_path;
  Systemd systemd;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::unique_ptr<storage::Store> store;
  // Borrowed by the ingest paths below: declared first, destroyed last.
  std::unique_ptr<ingest::Pseudonymizer> pseudonymizer;
  ingest::IngestErrorLog ingest_errors;
  std::unique_ptr<ingest::Hl7Ingest> hl7;
  std::unique_ptr<ingest::MllpListener> mllp;
  std::unique_ptr<ingest::FhirTokens> tokens;
  std::unique_ptr<ingest::ObjectionRegister> objections;
  std::unique_ptr<ingest::BulkIngest> bulk;
  Mutex packs_mu;
  std::shared_ptr<const std::vector<aggregate::MeasurePack>> packs EDS_GUARDED_BY(packs_mu);
  std::unique_ptr<aggregate::ReleaseBook> releases;
  std::unique_ptr<sync::NodeIdentity> identity;
  std::unique_ptr<sync::Outbox> outbox;
  std::unique_ptr<sync::SyncService> sync;
  // Updates: trusted metadata in the store, the online source (when configured), slots.
  std::unique_ptr<update::StoreMetadataStore> tuf_metadata;
  std::unique_ptr<update::HttpsFetcher> update_fetcher;
  update::ProcessRunner runner;
  std::unique_ptr<update::SlotInstaller> slots;
  std::unique_ptr<update::HealthCheck> health;
  std::unique_ptr<update::Updater> updater;
  UpdateLog update_log;
  std::unique_ptr<UpdatePoller> update_poller;
  std::thread boot_confirmation;
  std::unique_ptr<ingest::FhirIngest> fhir;
  std::unique_ptr<webadmin::AdminServer> fhir_server;
  std::unique_ptr<ControlServer> control;
  std::unique_ptr<webadmin::Api> api;  // must outlive `admin`, which calls it
  std::unique_ptr<webadmin::AdminServer> admin;

  nlohmann::json Health() const;
  ControlContext Context() {
    std::shared_ptr<const std::vector<aggregate::MeasurePack>> enabled;
    {
      MutexLock lock(packs_mu);
      enabled = packs;
    }
    ReleaseContext r{releases.get(),
                     std::move(enabled),
                     objections.get(),
                     store.get(),
                     {static_cast<uint64_t>(config.aggregate.k),
                      config.aggregate.reporter,
                      {static_cast<uint64_t>(config.aggregate.rounding_base),
                       config.aggregate.cell_key_perturbation}}};
    return {*store,
            config.storage,
            started,
            tokens.get(),
            pseudonymizer.get(),
            objections.get(),
            bulk.get(),
            r,
            {identity.get(), outbox.get(), sync.get()},
            UpdateCtx()};
  }
  UpdateContext UpdateCtx() {
    return {updater.get(), slots.get(),    tuf_metadata.get(),       &update_log,
            store.get(),   identity.get(), [this] { ReloadPacks(); }};
  }
  void ReloadPacks() {
    auto fresh = std::make_shared<const std::vector<aggregate::MeasurePack>>(
        LoadPacks(config.aggregate.packs_dir));
    MutexLock lock(packs_mu);
    packs = std::move(fresh);
  }
  webadmin::HttpResponse ServeFhir(const webadmin::HttpRequest& request);
  void Reload();
  void Shutdown();
};

void BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

namespace {

sync::UpstreamOptions UpdateSourceOf(const Config& c) {
  sync::UpstreamOptions o;
  o.url = c.update.repository_url;
  o.ca_file = c.update.ca_file.empty() ? c.sync.ca_file : c.update.ca_file;
  o.spki_pin = "";
  o.proxy_url = c.sync.proxy_url;
  o.connect_timeout = std::chrono::milliseconds(c.sync.connect_timeout_ms);
  o.read_timeout = std::chrono::milliseconds(c.sync.read_timeout_ms);
  // Firmware images are big: the whole transfer gets an hour, each read the usual limit.
  o.total_timeout = std::chrono::hours(1);
  o.user_agent = std::string("edsd/") + kVersion;
  return o;
}

std::vector<std::string> SplitOnSpaces(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char ch : text) {
    if (ch == ' ') {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word += ch;
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

// The update module: trusted metadata in the store, slots, the health check, the online source
// and its poller when configured.
Status StartUpdates(Node::Impl& impl) {
  const Config& c = impl.config;
  impl.tuf_metadata = std::make_unique<update::StoreMetadataStore>(*impl.store);
  if (c.update.slots == "directory") {
    update::DirectorySlotOptions o;
    o.dir = c.update.slots_dir;
    o.initial_version = kVersion;
    impl.slots = update::MakeDirectorySlotInstaller(std::move(o));
  } else {
    update::RaucSlotOptions o;
    o.state_dir = c.update.download_dir;
    o.reboot_command = SplitOnSpaces(c.update.reboot_command);
    impl.slots = update::MakeRaucSlotInstaller(impl.runner, std::move(o));
  }
  impl.health = std::make_unique<update::HealthCheck>(
      impl.runner,
      update::HealthCheckOptions{SplitOnSpaces(c.update.health_check), std::chrono::seconds(120)});
  if (!c.update.repository_url.empty()) {
    EDS_ASSIGN_OR_RETURN(impl.update_fetcher, update::HttpsFetcher::Create(UpdateSourceOf(c)));
  }
  update::UpdaterOptions o;
  o.metadata_url = c.update.repository_url;
  o.targets_url =
      c.update.targets_url.empty() ? c.update.repository_url + "/targets" : c.update.targets_url;
  o.packs_dir = c.aggregate.packs_dir;
  o.download_dir = c.update.download_dir;
  o.shipped_root = c.update.trusted_root;
  impl.updater =
      std::make_unique<update::Updater>(*impl.tuf_metadata, impl.update_fetcher.get(), *impl.slots,
                                        *impl.health, SystemClock::Get(), std::move(o));
  if (c.update.poll) {
    Node::Impl* raw = &impl;
    EDS_ASSIGN_OR_RETURN(impl.update_poller,
                         UpdatePoller::Start(
                             c.update.schedule, c.sync.time_zone,
                             [raw] {
                               UpdateContext ctx = raw->UpdateCtx();
                               RunUpdate(ctx, "poll", [raw] { return raw->updater->Poll(); });
                             },
                             [raw] { raw->update_fetcher->Cancel(); }));
  }
  return OkStatus();
}

sync::SyncOptions SyncOptionsOf(const SyncConfig& c) {
  sync::SyncOptions o;
  o.upstream.url = c.upstream_url;
  o.upstream.ca_file = c.ca_file;
  o.upstream.spki_pin = c.spki_pin;
  o.upstream.client_cert = c.client_cert;
  o.upstream.client_key = c.client_key;
  o.upstream.proxy_url = c.proxy_url;
  o.upstream.connect_timeout = std::chrono::milliseconds(c.connect_timeout_ms);
  o.upstream.read_timeout = std::chrono::milliseconds(c.read_timeout_ms);
  o.upstream.total_timeout = std::chrono::milliseconds(c.total_timeout_ms);
  o.upstream.max_response_bytes = static_cast<size_t>(c.max_response_kb) << 10;
  o.upstream.user_agent = std::string("edsd/") + kVersion;
  o.schedule = c.schedule;
  o.time_zone = c.time_zone;
  o.jitter = std::chrono::seconds(c.jitter_s);
  o.retry_initial = std::chrono::seconds(c.retry_initial_s);
  o.retry_max = std::chrono::seconds(c.retry_max_s);
  return o;
}

// The sync settings in force: the config file's [sync] (when enabled), overridden by what the
// web admin's setup and settings pages saved (upstream URL and CA, schedule, time zone).
sync::SyncOptions EffectiveSyncOptions(const Config& c,
                                       const std::optional<webadmin::NodeSettings>& settings) {
  sync::SyncOptions o = SyncOptionsOf(c.sync);
  if (!c.sync.enabled) o.upstream.url.clear();
  if (!settings) return o;
  if (!settings->upstream_url.empty()) {
    o.upstream.url = settings->upstream_url;
    o.upstream.ca_pem = settings->upstream_ca_pem;
    if (!settings->upstream_ca_pem.empty()) o.upstream.ca_file.clear();
  }
  if (!settings->schedule.empty()) o.schedule = settings->schedule;
  if (!settings->time_zone.empty()) o.time_zone = settings->time_zone;
  return o;
}

void Announce(const Systemd& systemd, const std::string& text) {
  systemd.NotifyStatus(text).IgnoreError();
  LogInfo(text);
}

std::string AdminUrl(const AdminConfig& admin, uint16_t port) {
  std::string host = admin.bind;
  if (host == "0.0.0.0" || host == "::") host = "localhost";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "https://" + host + ":" + std::to_string(port) + "/";
}

ingest::MllpListenerOptions MllpOptions(const MllpConfig& c) {
  ingest::MllpListenerOptions o;
  o.bind_address = c.bind;
  o.port = static_cast<uint16_t>(c.port);
  o.max_message_bytes = static_cast<size_t>(c.max_message_kb) * 1024;
  o.max_connections = c.max_connections;
  o.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  o.read_timeout = std::chrono::milliseconds(c.read_timeout_ms);
  std::string peers = c.allowed_peers;
  for (size_t pos = 0; pos <= peers.size();) {
    size_t comma = peers.find(',', pos);
    if (comma == std::string::npos) comma = peers.size();
    std::string p = peers.substr(pos, comma - pos);
    p.erase(0, p.find_first_not_of(' '));
    p.erase(p.find_last_not_of(' ') + 1);
    if (!p.empty()) o.allowed_peers.push_back(p);
    pos = comma + 1;
  }
  o.tls_cert_path = c.tls_cert;
  o.tls_key_path = c.tls_key;
  o.threads = c.threads;
  return o;
}

}  // namespace

nlohmann::json Node::Impl::Health() const {
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  nlohmann::json store_json = {{"state", store ? "open" : "closed"}};
  return {{"status", store ? "ok" : "degraded"},
          {"version", kVersion},
          {"store", store_json},
          {"uptime_s", uptime.count()}};
}

webadmin::HttpResponse Node::Impl::ServeFhir(const webadmin::HttpRequest& request) {
  auto to_http = [](const ingest::FhirResponse& f) {
    webadmin::HttpResponse h;
    h.status = f.status;
    h.content_type = "application/fhir+json";
    h.body = f.body;
    if (!f.location.empty()) h.headers.emplace_back("Location", f.location);
    return h;
  };
  std::string path = request.path.substr(5);  // after "/fhir"
  if (path == "/metadata" && request.method == "GET") {
    return to_http({200, fhir->CapabilityStatement(), ""});
  }
  const std::string_view auth = webadmin::FindHeader(request.headers, "Authorization");
  std::optional<std::string> who;
  if (auth.rfind("Bearer ", 0) == 0) who = tokens->Authenticate(auth.substr(7));
  if (!who) {
    webadmin::HttpResponse h = to_http(ingest::OutcomeResponse(
        401, "security", "a valid bearer token is required (edsctl token create)"));
    h.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"eds-node\"");
    return h;
  }
  return to_http(fhir->Handle(request.method, path, request.body,
                              webadmin::FindHeader(request.headers, "Content-Type"),
                              "fhir " + *who + " " + request.remote_addr));
}

Result<std::unique_ptr<Node>> Node::Start(Config config, std::string config_path) {
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->config_path = std::move(config_path);
  const Config& c = impl->config;
  SetMinLogLevel(c.log.level);

  Announce(impl->systemd, "opening the store");
  EDS_ASSIGN_OR_RETURN(auto key, LoadStoreMasterKey(c.storage));
  storage::StoreOptions store_options;
  store_options.data_dir = c.storage.data_dir;
  store_options.compression_level = c.storage.compression_level;
  store_options.dictionary_training_records =
      static_cast<size_t>(c.storage.dictionary_training_records);
  store_options.block_cache_mb = static_cast<size_t>(c.storage.block_cache_mb);
  EDS_ASSIGN_OR_RETURN(impl->store,
                       OpenStoreFinishingRotation(c.storage, store_options, std::move(key)));

  EDS_ASSIGN_OR_RETURN(impl->tokens, ingest::FhirTokens::Load(*impl->store));
  {
    EDS_ASSIGN_OR_RETURN(storage::SecretKey pseudonym_secret, impl->store->Secret("pseudonym"));
    impl->pseudonymizer = std::make_unique<ingest::Pseudonymizer>(std::move(pseudonym_secret));
  }
  EDS_ASSIGN_OR_RETURN(impl->objections,
                       ingest::ObjectionRegister::Load(*impl->store, *impl->pseudonymizer));
  impl->bulk = std::make_unique<ingest::BulkIngest>(*impl->store, *impl->pseudonymizer);
  impl->ReloadPacks();
  impl->releases = std::make_unique<aggregate::ReleaseBook>(*impl->store, SystemClock::Get());
  EDS_ASSIGN_OR_RETURN(sync::NodeIdentity identity, sync::NodeIdentity::Load(*impl->store));
  impl->identity = std::make_unique<sync::NodeIdentity>(std::move(identity));
  impl->outbox = std::make_unique<sync::Outbox>(*impl->store, *impl->releases, *impl->identity,
                                                SystemClock::Get());
  EDS_RETURN_IF_ERROR(impl->outbox->Load());
  LogInfo("node identity " + impl->identity->node_id(),
          {{"EDS_NODE_ID", impl->identity->node_id()},
           {"EDS_NODE_FINGERPRINT", impl->identity->Fingerprint()}});
  EDS_RETURN_IF_ERROR(StartUpdates(*impl));
  {
    Announce(impl->systemd, "starting the upstream sync");
    EDS_ASSIGN_OR_RETURN(auto settings, webadmin::LoadNodeSettings(*impl->store));
    const sync::SyncOptions options = EffectiveSyncOptions(c, settings);
    auto service = sync::SyncService::Start(*impl->outbox, options, impl->identity->node_id());
    if (!service.ok() && settings && !settings->upstream_url.empty()) {
      // Settings saved from the web page that no longer work (a CA that expired, say) must not
      // keep the box from starting: sync waits, unconfigured, for new settings.
      LogError("upstream settings refused; sync is off until they are fixed",
               {{"EDS_ERROR", service.status().ToString()}});
      service = sync::SyncService::Start(*impl->outbox, EffectiveSyncOptions(c, std::nullopt),
                                         impl->identity->node_id());
    }
    if (!service.ok()) return service.status();
    impl->sync = std::move(*service);
    if (impl->sync->Configured()) {
      LogInfo("releases go to " + options.upstream.url + " on \"" + options.schedule + "\" (" +
                  options.time_zone + "), next run " + impl->sync->NextRunAt(),
              {{"EDS_SYNC_NEXT", impl->sync->NextRunAt()}});
    }
  }

  Announce(impl->systemd, "starting the control socket");
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(c.control.socket).parent_path(), ec);
  ControlServerOptions control_options;
  control_options.socket_path = c.control.socket;
  control_options.group = c.control.group;
  Impl* raw = impl.get();
  EDS_ASSIGN_OR_RETURN(
      impl->control,
      ControlServer::Start(
          control_options,
          [raw](const nlohmann::json& req, const PeerCredentials& peer) {
            ControlContext ctx = raw->Context();
            return HandleControlRequest(ctx, req, peer);
          },
          [raw](ControlStream& stream, const nlohmann::json& req, const PeerCredentials& peer) {
            ControlContext ctx = raw->Context();
            ServeImport(ctx, stream, req, peer);
          }));

  if (c.mllp.enabled) {
    Announce(impl->systemd, "starting the MLLP listener");
    impl->hl7 = std::make_unique<ingest::Hl7Ingest>(*impl->store, *impl->pseudonymizer,
                                                    &impl->ingest_errors);
    EDS_ASSIGN_OR_RETURN(impl->mllp, ingest::MllpListener::Start(MllpOptions(c.mllp), *impl->hl7));
    LogInfo("MLLP listener on " + c.mllp.bind + ":" + std::to_string(impl->mllp->port()),
            {{"EDS_MLLP_PORT", std::to_string(impl->mllp->port())}});
  }

  Announce(impl->systemd, "starting the admin server");
  if (c.admin.generate_dev_certificate) {
    EDS_RETURN_IF_ERROR(
        webadmin::EnsureDevCertificate(c.admin.tls_cert, c.admin.tls_key, "eds-node")
            .WithContext("admin.generate_dev_certificate"));
  }
  webadmin::AdminServerOptions admin_options;
  admin_options.bind_address = c.admin.bind;
  admin_options.port = static_cast<uint16_t>(c.admin.port);
  admin_options.cert_path = c.admin.tls_cert;
  admin_options.key_path = c.admin.tls_key;
  admin_options.num_threads = c.admin.threads;
  admin_options.request_timeout_ms = c.admin.request_timeout_ms;
  // An update bundle may be uploaded (base64 in JSON): packs fit the default; an appliance image
  // needs admin.max_request_mb raised (the appliance's edsd.toml does).
  admin_options.max_request_bytes = static_cast<size_t>(c.admin.max_request_mb) << 20;
  // The page's scripts call the API request after request: one TLS handshake per browser
  // connection, not per call.
  admin_options.keep_alive = true;
  EDS_ASSIGN_OR_RETURN(
      impl->admin, webadmin::AdminServer::Start(admin_options, [raw] { return raw->Health(); }));
  {
    // Named fields: AdminContext grows, and a positional list would silently shift.
    webadmin::AdminContext web;
    web.store = impl->store.get();
    web.tokens = impl->tokens.get();
    web.objections = impl->objections.get();
    web.pseudonymizer = impl->pseudonymizer.get();
    web.releases = impl->releases.get();
    web.packs = [raw] {
      MutexLock lock(raw->packs_mu);
      return raw->packs;
    };
    web.release_options = impl->Context().releases.options;
    web.identity = impl->identity.get();
    web.outbox = impl->outbox.get();
    web.sync = impl->sync.get();
    web.update_status = [raw] {
      UpdateContext u = raw->UpdateCtx();
      return UpdateStatusJson(u);
    };
    web.apply_update = [raw](const std::string& path) {
      UpdateContext u = raw->UpdateCtx();
      return RunUpdate(u, "upload " + path, [&] { return raw->updater->ApplyBundle(path); });
    };
    web.update_dir = (std::filesystem::path(c.update.download_dir) / "uploads").string();
    web.settings_changed = [raw](const webadmin::NodeSettings& settings) {
      return raw->sync->Reconfigure(EffectiveSyncOptions(raw->config, settings));
    };
    web.version = kVersion;
    web.started = impl->started;
    web.mllp = impl->mllp.get();
    web.mllp_options = MllpOptions(c.mllp);
    web.hl7 = impl->hl7.get();
    web.ingest_errors = &impl->ingest_errors;
    web.admin_tls_cert = c.admin.tls_cert;
    web.admin_tls_key = c.admin.tls_key;
    web.rotate_master_key = [raw, storage_config = c.storage](const storage::AuditEvent& event) {
      return RotateMasterKey(storage_config, *raw->store, "", event);
    };
    EDS_ASSIGN_OR_RETURN(impl->api, webadmin::Api::Create(web, {}));
    impl->api->Register(*impl->admin);
  }

  if (c.fhir.enabled) {
    Announce(impl->systemd, "starting the FHIR server");
    webadmin::AdminServerOptions fhir_options = admin_options;
    fhir_options.bind_address = c.fhir.bind;
    fhir_options.port = static_cast<uint16_t>(c.fhir.port);
    if (!c.fhir.tls_cert.empty()) fhir_options.cert_path = c.fhir.tls_cert;
    if (!c.fhir.tls_key.empty()) fhir_options.key_path = c.fhir.tls_key;
    fhir_options.num_threads = c.fhir.threads;
    fhir_options.max_request_bytes = static_cast<size_t>(c.fhir.max_request_mb) << 20;
    // EHRs post Bundle after Bundle: a kept connection saves a TLS handshake each time.
    fhir_options.keep_alive = true;
    EDS_ASSIGN_OR_RETURN(impl->fhir_server, webadmin::AdminServer::Start(
                                                fhir_options, [raw] { return raw->Health(); }));
    const std::string base =
        "https://" + c.fhir.bind + ":" + std::to_string(impl->fhir_server->port()) + "/fhir";
    impl->fhir = std::make_unique<ingest::FhirIngest>(*impl->store, *impl->pseudonymizer, base,
                                                      &impl->ingest_errors);
    impl->fhir_server->AddPrefixRoute(
        "/fhir", [raw](const webadmin::HttpRequest& r) { return raw->ServeFhir(r); });
    LogInfo("FHIR server on " + base,
            {{"EDS_FHIR_PORT", std::to_string(impl->fhir_server->port())}});
  }

  auto fingerprint = webadmin::CertificateFingerprintSha256(c.admin.tls_cert);
  const std::string url = AdminUrl(c.admin, impl->admin->port());
  LogInfo("admin interface at " + url,
          {{"EDS_ADMIN_URL", url},
           {"EDS_TLS_SHA256", fingerprint.ok() ? *fingerprint : std::string("unknown")}});
  impl->store->Audit({"system", "daemon.start", kVersion, ""}).IgnoreError();
  impl->systemd.NotifyReady().IgnoreError();
  Announce(impl->systemd, "ready; admin interface at " + url);
  // A new firmware is committed only once this system runs: its health check talks to us.
  impl->boot_confirmation = std::thread([raw] {
    auto confirmation = raw->updater->ConfirmBoot();
    if (!confirmation.ok()) {
      LogWarning("firmware slots unreadable; the store keeps its format",
                 {{"EDS_ERROR", confirmation.status().ToString()}});
      return;
    }
    if (confirmation->outcome == update::BootOutcome::kRolledBack) {
      LogError("new firmware failed its health check; rolled back",
               {{"EDS_ERROR", confirmation->reason}});
      return;
    }
    if (confirmation->outcome == update::BootOutcome::kCommitted) {
      LogInfo("firmware " + confirmation->version + " committed in slot " + confirmation->slot);
    }
    // No rollback can reach an older edsd now: the store may take the newest format.
    const int before = raw->store->format();
    const Status format = raw->store->CommitFormat();
    if (!format.ok()) {
      LogError("store format not updated", {{"EDS_ERROR", format.ToString()}});
    } else if (before != raw->store->format()) {
      LogInfo("store format " + std::to_string(raw->store->format()),
              {{"EDS_STORE_FORMAT", std::to_string(raw->store->format())}});
    }
  });
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  if (impl_) impl_->Shutdown();
}

void Node::Impl::Reload() {
  systemd.NotifyReloading().IgnoreError();
  Result<Config> reloaded = LoadConfig(config_path);
  if (!reloaded.ok()) {
    LogError("configuration reload refused; keeping the running settings",
             {{"EDS_ERROR", reloaded.status().message()}});
  } else {
    for (const auto& change : DiffConfig(config, *reloaded)) {
      if (change.applies_at_runtime) {
        LogInfo("setting applied: " + change.key, {{"EDS_KEY", change.key}});
      } else {
        LogWarning("setting changed but needs a restart: " + change.key, {{"EDS_KEY", change.key}});
      }
    }
    config.log = reloaded->log;
    SetMinLogLevel(config.log.level);
    store->Audit({"system", "config.reload", config_path, ""}).IgnoreError();
  }
  systemd.NotifyReady().IgnoreError();
}

void Node::Impl::Shutdown() {
  if (!store) return;
  systemd.NotifyStopping().IgnoreError();
  Announce(systemd, "stopping");
  // A running import ends after the chunk it is storing, before the slower stops below.
  if (control) control->EndStreams();
  // Stop accepting first; each Stop() lets requests in flight finish before returning.
  // CivetWeb notices a stop only at its next 2 s listener poll: stop both servers at once so
  // their waits overlap instead of adding up.
  std::thread fhir_stop([this] {
    if (fhir_server) fhir_server->Stop();
  });
  if (admin) admin->Stop();
  fhir_stop.join();
  if (boot_confirmation.joinable()) boot_confirmation.join();
  if (update_poller) update_poller->Stop();
  if (mllp) mllp->Stop();
  if (control) control->Stop();
  if (sync) sync->Stop();
  if (releases) releases->DropFacts();
  store->Audit({"system", "daemon.stop", "", ""}).IgnoreError();
  store.reset();
  LogInfo("stopped");
}

int Node::Run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  const auto ping = impl_->systemd.WatchdogPingPeriod();
  // Wakes at least once a minute for the dashboard's history.
  const auto wait = std::min<std::chrono::nanoseconds>(ping ? *ping : std::chrono::minutes(1),
                                                       std::chrono::minutes(1));
  for (;;) {
    timespec ts{static_cast<time_t>(wait.count() / 1'000'000'000),
                static_cast<long>(wait.count() % 1'000'000'000)};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGHUP) {
      impl_->Reload();
    } else if (sig == SIGTERM || sig == SIGINT) {
      break;
    }
    if (ping) impl_->systemd.NotifyWatchdog().IgnoreError();
    if (impl_->api) impl_->api->RecordStats();
  }
  // A stuck shutdown must not hang the service manager: give up after the configured time.
  const int timeout_ms = impl_->config.daemon.shutdown_timeout_ms;
  std::thread([timeout_ms] {
    std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
    LogError("shutdown took too long; exiting");
    _exit(1);
  }).detach();
  impl_->Shutdown();
  return 0;
}

}  // namespace eds::daemon
