// A node and a receiver on loopback, both real: the node's store holds the patients of a small
// hospital and computes releases of a two-measure pack; the receiver is edshub's Receiver behind
// the HTTPS server, with a certificate from a test CA for 127.0.0.1, the node enrolled.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "aggregate/release.h"
#include "hub/receiver.h"
#include "storage/store.h"
#include "sync/identity.h"
#include "sync/outbox.h"
#include "sync/upstream_client.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_certs.h"
#include "webadmin/admin_server.h"

namespace eds::sync {

class SyncFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A node store with `women` inpatient stays and `men` emergency visits in January 2025.
  static void FillStore(storage::Store& store, int women, int men);
  // Computes a release for `period` and, when `approve`, approves it. Returns its id.
  std::string Release(const std::string& period, bool approve = true);
  void OpenNode();  // (re)opens the node's store, book, identity and outbox
  UpstreamOptions ClientOptions(uint16_t port) const;
  std::vector<hub::ReceivedRelease> Received();

  eds::testing::TempDir dir_;
  std::vector<aggregate::MeasurePack> packs_;
  storage::SecretKey node_key_ = storage::SecretKey::Random();
  std::unique_ptr<storage::Store> node_store_;
  std::unique_ptr<aggregate::ReleaseBook> book_;
  std::unique_ptr<NodeIdentity> identity_;
  std::unique_ptr<Outbox> outbox_;

  eds::testing::CertFiles ca_;
  eds::testing::CertFiles hub_cert_;
  std::unique_ptr<storage::Store> hub_store_;
  std::unique_ptr<hub::Receiver> receiver_;
  std::unique_ptr<webadmin::AdminServer> hub_server_;
};

}  // namespace eds::sync
