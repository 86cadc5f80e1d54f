// Delivery end to end in one process: the outbox sends approved releases to the receiver over
// real HTTPS on loopback, through a proxy that injects network faults. Every approved release
// arrives exactly once and in order; nothing unapproved arrives; every failure says why.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "tests/sync/sync_fixture.h"
#include "tests/testing/fault_proxy.h"
#include "tests/testing/status_matchers.h"

namespace eds::sync {
namespace {

using ::eds::testing::FaultConfig;
using ::eds::testing::FaultMode;
using ::eds::testing::FaultProxy;
using ::eds::testing::IsOk;
using ::testing::HasSubstr;

class DeliveryTest : public SyncFixture {
 protected:
  std::unique_ptr<UpstreamClient> Client(uint16_t port) {
    return std::move(UpstreamClient::Create(ClientOptions(port)).value());
  }
  aggregate::ReleaseState StateOf(const std::string& id) { return book_->Get(id).value().state; }
};

TEST_F(DeliveryTest, ApprovedReleasesArriveOnceInOrderAndNothingElseLeaves) {
  const std::string jan = Release("2025-01");
  const std::string feb = Release("2025-02");
  const std::string unapproved = Release("2025-03", false);
  const std::string mar = Release("2025-04");
  ASSERT_EQ(outbox_->QueueApproved("test").value(), 3u);
  EXPECT_EQ(outbox_->QueueApproved("test").value(), 0u);  // nothing signed twice
  auto pending = outbox_->Pending(10).value();
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending[0].seq, 1u);
  EXPECT_EQ(pending[0].release_id, jan);
  EXPECT_EQ(pending[2].seq, 3u);
  EXPECT_EQ(StateOf(jan), aggregate::ReleaseState::kQueued);

  auto client = Client(hub_server_->port());
  auto report = outbox_->Deliver(*client, 100);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_THAT(report->failure, IsOk());
  EXPECT_EQ(report->delivered, 3u);

  const auto received = Received();
  ASSERT_EQ(received.size(), 3u);
  const std::vector<std::string> expected = {jan, feb, mar};
  for (size_t i = 0; i < received.size(); ++i) {
    EXPECT_EQ(received[i].node_id, identity_->node_id());
    EXPECT_EQ(received[i].sequence, i + 1);
    EXPECT_EQ(received[i].release_id, expected[i]);
  }
  // What arrived is the exact Bundle that was approved.
  EXPECT_EQ(receiver_->Export(identity_->node_id(), 2).value(), book_->Get(feb).value().bundle);
  EXPECT_EQ(StateOf(jan), aggregate::ReleaseState::kDelivered);
  EXPECT_EQ(StateOf(unapproved), aggregate::ReleaseState::kChecked);
  EXPECT_TRUE(outbox_->Pending(10).value().empty());
  EXPECT_EQ(outbox_->State().delivered_total, 3u);
  EXPECT_THAT(book_->Get(jan).value().history.back().comment, HasSubstr("receipt rcpt-"));

  report = outbox_->Deliver(*client, 100);
  EXPECT_EQ(report->delivered, 0u);
  EXPECT_EQ(Received().size(), 3u);
}

TEST_F(DeliveryTest, NetworkFaultsAreRetriedAndEachReleaseArrivesExactlyOnce) {
  Release("2025-01");
  Release("2025-02");
  ASSERT_EQ(outbox_->QueueApproved("test").value(), 2u);
  auto proxy = FaultProxy::Start(hub_server_->port()).value();
  UpstreamOptions options = ClientOptions(proxy->port());
  options.read_timeout = std::chrono::milliseconds(600);
  auto client = UpstreamClient::Create(options).value();
  auto self_signed = eds::testing::MakeSelfSignedCert(dir_.path(), "rogue", "127.0.0.1").value();
  auto expired = eds::testing::MakeServerCert(dir_.path(), "expired", ca_, "127.0.0.1",
                                              eds::testing::CertValidity::Expired())
                     .value();
  auto other_host = eds::testing::MakeServerCert(dir_.path(), "other", ca_, "hub.example").value();
  // How many bytes a short answer (a 400, smaller than a receipt) takes, handshake included: a
  // cut a little before that falls inside the body of the receipt's answer.
  const uint64_t before = proxy->ResponseBytes();
  ASSERT_EQ(client->Post(kReleasesPath, {}, "application/fhir+json", "{}").value().status, 400);
  const size_t cut = static_cast<size_t>(proxy->ResponseBytes() - before) - 10;

  struct Fault {
    FaultConfig config;
    std::string reason;
  };
  const std::vector<Fault> faults = {
      {FaultConfig::Drop(), ""},
      {FaultConfig::HttpStatus(503, hub_cert_), "HTTP 503"},
      {FaultConfig::HttpStatus(500, hub_cert_), "HTTP 500"},
      {FaultConfig::WrongCert(self_signed), "certificate"},
      {FaultConfig::WrongCert(expired), "expired"},
      {FaultConfig::WrongCert(other_host), "mismatch"},
      {FaultConfig::Delay(std::chrono::milliseconds(1500)), "timed out"},
      // The receiver stores the first release, but its answer never reaches the node.
      {FaultConfig::CutResponse(cut), "cut"},
  };
  for (const Fault& f : faults) {
    ASSERT_THAT(proxy->SetMode(f.config), IsOk());
    auto report = outbox_->Deliver(*client, 100);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_EQ(report->delivered, 0u) << static_cast<int>(f.config.mode);
    EXPECT_FALSE(report->failure.ok()) << static_cast<int>(f.config.mode);
    EXPECT_THAT(outbox_->State().last_error, HasSubstr(f.reason));
    EXPECT_EQ(outbox_->Pending(10).value().size(), 2u);
  }
  EXPECT_EQ(outbox_->State().consecutive_failures, faults.size());
  EXPECT_EQ(Received().size(), 1u);  // the cut answer's release
  EXPECT_EQ(StateOf(book_->List().value()[0].id), aggregate::ReleaseState::kFailed);

  ASSERT_THAT(proxy->SetMode(FaultConfig::Pass()), IsOk());
  auto report = outbox_->Deliver(*client, 100);
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->failure, IsOk());
  EXPECT_EQ(report->delivered, 2u);
  const auto received = Received();
  ASSERT_EQ(received.size(), 2u);  // the resend of the first one was a duplicate
  EXPECT_EQ(received[0].sequence, 1u);
  EXPECT_EQ(received[1].sequence, 2u);
  EXPECT_EQ(outbox_->State().consecutive_failures, 0u);
  EXPECT_EQ(outbox_->State().last_error, "");
  for (FaultMode m : {FaultMode::kDrop, FaultMode::kHttpStatus, FaultMode::kWrongCert,
                      FaultMode::kDelay, FaultMode::kCutResponse}) {
    EXPECT_GE(proxy->ConnectionsSeen(m), 1) << static_cast<int>(m);
  }
}

TEST_F(DeliveryTest, AnUnknownNodeIsRefusedAndItsReleaseWaits) {
  storage::StoreOptions other;
  other.data_dir = dir_.Sub("stranger");
  auto stranger_store = storage::Store::Open(other, storage::SecretKey::Random()).value();
  FillStore(*stranger_store, 20, 0);
  aggregate::ReleaseBook stranger_book(*stranger_store, SystemClock::Get());
  NodeIdentity stranger = NodeIdentity::Load(*stranger_store).value();
  Outbox stranger_outbox(*stranger_store, stranger_book, stranger, SystemClock::Get());
  ASSERT_THAT(stranger_outbox.Load(), IsOk());
  auto r = stranger_book.Compute(packs_, "2025-01", {}, {11, "Clinique"}, "test").value();
  ASSERT_THAT(stranger_book.Approve(r.id, packs_, "dpo", "ok"), IsOk());
  ASSERT_EQ(stranger_outbox.QueueApproved("test").value(), 1u);

  auto client = Client(hub_server_->port());
  auto report = stranger_outbox.Deliver(*client, 10).value();
  EXPECT_EQ(report.failure.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(stranger_outbox.State().last_error, HasSubstr("not enrolled"));
  EXPECT_TRUE(Received().empty());

  ASSERT_TRUE(receiver_->Enrol(stranger.PublicKeyBase64(), "Clinique").ok());
  report = stranger_outbox.Deliver(*client, 10).value();
  EXPECT_THAT(report.failure, IsOk());
  EXPECT_EQ(report.delivered, 1u);
  EXPECT_EQ(stranger_book.Get(r.id).value().state, aggregate::ReleaseState::kDelivered);
}

TEST_F(DeliveryTest, TheQueueAndItsSequencesSurviveARestart) {
  Release("2025-01");
  Release("2025-02");
  ASSERT_EQ(outbox_->QueueApproved("test").value(), 2u);
  const std::string node_id = identity_->node_id();
  OpenNode();
  EXPECT_EQ(identity_->node_id(), node_id);  // the same key after a restart
  EXPECT_EQ(outbox_->State().queued, 2u);
  auto client = Client(hub_server_->port());
  ASSERT_EQ(outbox_->Deliver(*client, 1).value().delivered, 1u);
  OpenNode();
  Release("2025-03");
  ASSERT_EQ(outbox_->QueueApproved("test").value(), 1u);
  const auto pending = outbox_->Pending(10).value();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].seq, 2u);
  EXPECT_EQ(pending[1].seq, 3u);  // never a sequence used before
  ASSERT_EQ(outbox_->Deliver(*client, 10).value().delivered, 2u);
  const auto received = Received();
  ASSERT_EQ(received.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(received[i].sequence, i + 1);
}

TEST_F(DeliveryTest, TheReceiverDedupesRefusesReuseAndBadSignatures) {
  const std::string id = Release("2025-01");
  const aggregate::Release release = book_->Get(id).value();
  const SignedRelease envelope =
      SignRelease(release, 7, *identity_, "2025-02-01T06:00:00Z").value();
  auto post = [&](const SignedRelease& e) {
    return receiver_->Accept(Base64Encode(e.header), Base64Encode(e.signature), e.bundle);
  };
  const hub::Answer first = post(envelope);
  EXPECT_EQ(first.status, 201) << first.body;
  const hub::Answer again = post(envelope);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);  // the original receipt

  // The same sequence with other bytes (another signing time) is a conflict.
  const SignedRelease reused = SignRelease(release, 7, *identity_, "2025-02-02T06:00:00Z").value();
  EXPECT_EQ(post(reused).status, 409);

  SignedRelease tampered = SignRelease(release, 8, *identity_, "2025-02-01T06:00:00Z").value();
  tampered.bundle[tampered.bundle.size() / 2] ^= 1;
  EXPECT_EQ(post(tampered).status, 403);
  SignedRelease forged = tampered;
  forged.bundle = release.bundle;
  forged.signature[0] ^= 1;
  EXPECT_EQ(post(forged).status, 403);
  EXPECT_EQ(receiver_->Accept("%%%", "", release.bundle).status, 400);
  EXPECT_EQ(Received().size(), 1u);
}

TEST_F(DeliveryTest, TheMutualizedSumMasksACellMaskedAtAnyNode) {
  storage::StoreOptions other;
  other.data_dir = dir_.Sub("second");
  auto second_store = storage::Store::Open(other, storage::SecretKey::Random()).value();
  FillStore(*second_store, 30, 15);
  aggregate::ReleaseBook second_book(*second_store, SystemClock::Get());
  NodeIdentity second = NodeIdentity::Load(*second_store).value();
  ASSERT_TRUE(receiver_->Enrol(second.PublicKeyBase64(), "CH B").ok());
  Outbox second_outbox(*second_store, second_book, second, SystemClock::Get());
  ASSERT_THAT(second_outbox.Load(), IsOk());
  auto r = second_book.Compute(packs_, "2025-01", {}, {11, "CH B"}, "test").value();
  ASSERT_THAT(second_book.Approve(r.id, packs_, "dpo", "ok"), IsOk());
  ASSERT_EQ(second_outbox.QueueApproved("test").value(), 1u);
  Release("2025-01");
  ASSERT_EQ(outbox_->QueueApproved("test").value(), 1u);
  auto client = Client(hub_server_->port());
  ASSERT_EQ(outbox_->Deliver(*client, 10).value().delivered, 1u);
  ASSERT_EQ(second_outbox.Deliver(*client, 10).value().delivered, 1u);

  auto sum = receiver_->Sum("urn:m:stays", "2025-01");
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(sum->nodes.size(), 2u);
  std::map<std::vector<std::string>, std::optional<uint64_t>> by_sex;
  for (const auto& c : sum->cells) {
    if (c.cell.stratifier == "sex") by_sex[c.cell.values] = c.count;
    if (c.cell.stratifier.empty()) {
      EXPECT_EQ(c.count, std::optional<uint64_t>(88));
    }
  }
  // The first node masks its 3 men (and so its women); the second shows 30 and 15.
  EXPECT_FALSE(by_sex.at({"male"}).has_value());
  EXPECT_FALSE(by_sex.at({"female"}).has_value());
  EXPECT_EQ(receiver_->Sum("urn:m:stays", "2024-12").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace eds::sync
