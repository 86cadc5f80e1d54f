#include "tests/sync/sync_fixture.h"

#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "hub/http_api.h"
#include "ingest/facts.h"
#include "tests/testing/status_matchers.h"

namespace eds::sync {

using ::eds::testing::IsOk;

void SyncFixture::FillStore(storage::Store& store, int women, int men) {
  for (int p = 0; p < women + men; ++p) {
    ingest::Fact patient;
    patient.type = ingest::FactType::kPatient;
    patient.sex = p < women ? ingest::Sex::kFemale : ingest::Sex::kMale;
    patient.day = ingest::DayOf("1970-06-15");
    ingest::Fact stay;
    stay.type = ingest::FactType::kEncounter;
    stay.encounter_class = p < women ? "IMP" : "EMER";
    stay.day = ingest::DayOf("2025-01-10") + p % 15;
    const std::string pseudonym = "p" + std::to_string(p);
    ASSERT_THAT(store.Write({{pseudonym, "Patient/1", "{}", ingest::EncodeFacts({patient})},
                             {pseudonym, "Encounter/1", "{}", ingest::EncodeFacts({stay})}},
                            {"test", "write", "", ""}),
                IsOk());
  }
}

void SyncFixture::SetUp() {
  // The HTTPS server loads the TLS shim (webadmin) from the build tree.
  setenv("EDS_SSL_SHIM", EDS_TEST_SSL_SHIM, /*overwrite=*/0);
  auto pack = aggregate::ParseMeasurePack(R"({"pack":"t","version":"2","title":"t","measures":[
      {"url":"urn:m:stays","version":"1","title":"stays","count":"events",
       "population":{"resource":"Encounter"},
       "stratifiers":[{"id":"sex","components":["sex"]}]},
      {"url":"urn:m:patients","version":"1","title":"patients","count":"patients",
       "population":{"resource":"Encounter"},
       "stratifiers":[{"id":"class","components":["encounter-class"]}]}]})");
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  packs_ = {*pack};
  OpenNode();
  FillStore(*node_store_, 40, 3);

  auto ca = eds::testing::MakeTestCa(dir_.path(), "ca");
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  ca_ = *ca;
  auto cert = eds::testing::MakeServerCert(dir_.path(), "hub", ca_, "127.0.0.1");
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  hub_cert_ = *cert;
  storage::StoreOptions hub_options;
  hub_options.data_dir = dir_.Sub("hub");
  hub_store_ = std::move(storage::Store::Open(hub_options, storage::SecretKey::Random()).value());
  receiver_ = std::make_unique<hub::Receiver>(*hub_store_, SystemClock::Get());
  ASSERT_TRUE(receiver_->Enrol(identity_->PublicKeyBase64(), "Hôpital de Test").ok());
  webadmin::AdminServerOptions server_options;
  server_options.bind_address = "127.0.0.1";
  server_options.port = 0;
  server_options.cert_path = hub_cert_.cert_path;
  server_options.key_path = hub_cert_.key_path;
  auto server = webadmin::AdminServer::Start(server_options, [] { return nlohmann::json{}; });
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  hub_server_ = std::move(*server);
  hub::AddRoutes(*hub_server_, *receiver_);
}

void SyncFixture::TearDown() {
  if (hub_server_) hub_server_->Stop();
}

void SyncFixture::OpenNode() {
  outbox_.reset();
  book_.reset();
  node_store_.reset();
  storage::StoreOptions options;
  options.data_dir = dir_.Sub("node");
  node_store_ = std::move(storage::Store::Open(options, node_key_.Clone()).value());
  book_ = std::make_unique<aggregate::ReleaseBook>(*node_store_, SystemClock::Get());
  identity_ = std::make_unique<NodeIdentity>(NodeIdentity::Load(*node_store_).value());
  outbox_ = std::make_unique<Outbox>(*node_store_, *book_, *identity_, SystemClock::Get());
  ASSERT_THAT(outbox_->Load(), IsOk());
}

std::string SyncFixture::Release(const std::string& period, bool approve) {
  auto r = book_->Compute(packs_, period, {}, {11, "Hôpital de Test"}, "test");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return "";
  if (approve) {
    EXPECT_THAT(book_->Approve(r->id, packs_, "dpo", "checked the tables"), IsOk());
  }
  return r->id;
}

UpstreamOptions SyncFixture::ClientOptions(uint16_t port) const {
  UpstreamOptions o;
  o.url = "https://127.0.0.1:" + std::to_string(port);
  o.ca_file = ca_.cert_path;
  o.connect_timeout = std::chrono::milliseconds(2000);
  o.read_timeout = std::chrono::milliseconds(3000);
  o.total_timeout = std::chrono::milliseconds(8000);
  return o;
}

std::vector<hub::ReceivedRelease> SyncFixture::Received() {
  auto list = receiver_->List();
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  return list.ok() ? *list : std::vector<hub::ReceivedRelease>{};
}

}  // namespace eds::sync
