// The signed release envelope: what is signed is exactly what arrives; any changed byte of the
// header or the Bundle, another key, or an unapproved release is refused.
#include "sync/envelope.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/testing/status_matchers.h"

namespace eds::sync {
namespace {

using ::eds::testing::StatusIs;

aggregate::Release Approved() {
  aggregate::Release r;
  r.id = "2025-01.1";
  r.period = "2025-01";
  r.packs = {"eds-default@1.0.0"};
  r.state = aggregate::ReleaseState::kApproved;
  r.bundle = R"({"resourceType":"Bundle","type":"collection","entry":[]})";
  r.k = 11;
  r.decisions = {{{"urn:m|1", "sex", {"male"}}, "primary", "3 < 11"},
                 {{"urn:m|1", "sex", {"female"}}, "secondary", "protects male"},
                 {{"urn:m|1", "", {}}, "secondary", "x"}};
  return r;
}

NodeIdentity Identity(uint8_t fill) {
  std::string seed(32, static_cast<char>(fill));
  return NodeIdentity::FromSeed(storage::SecretKey::FromBytes(seed).value());
}

TEST(EnvelopeTest, SignedReleaseVerifiesAndCarriesItsHeader) {
  const NodeIdentity node = Identity(1);
  const SignedRelease e = SignRelease(Approved(), 42, node, "2025-02-01T06:00:00Z").value();
  EXPECT_EQ(e.bundle, Approved().bundle);
  EXPECT_EQ(e.signature.size(), kSignatureSize);
  auto h = VerifyRelease(e, node.public_key());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->node_id, node.node_id());
  EXPECT_EQ(h->release_id, "2025-01.1");
  EXPECT_EQ(h->sequence, 42u);
  EXPECT_EQ(h->period, "2025-01");
  EXPECT_EQ(h->packs, std::vector<std::string>{"eds-default@1.0.0"});
  EXPECT_EQ(h->k, 11u);
  EXPECT_EQ(h->masked_by_rule.at("primary"), 1u);
  EXPECT_EQ(h->masked_by_rule.at("secondary"), 2u);
  EXPECT_EQ(h->bundle_sha256, Sha256Hex(e.bundle));
  // Kept in the outbox and read back byte for byte.
  auto back = DecodeSignedRelease(EncodeSignedRelease(e)).value();
  EXPECT_EQ(back.header, e.header);
  EXPECT_EQ(back.bundle, e.bundle);
  EXPECT_EQ(back.signature, e.signature);
}

TEST(EnvelopeTest, AnyChangedByteOrAnotherKeyIsRefused) {
  const NodeIdentity node = Identity(1);
  const SignedRelease e = SignRelease(Approved(), 1, node, "2025-02-01T06:00:00Z").value();
  for (size_t i = 0; i < e.bundle.size(); i += 7) {
    SignedRelease t = e;
    t.bundle[i] ^= 0x20;
    EXPECT_THAT(VerifyRelease(t, node.public_key()), StatusIs(StatusCode::kPermissionDenied));
  }
  SignedRelease t = e;
  const size_t at = t.header.find("\"sequence\":1");
  ASSERT_NE(at, std::string::npos);
  t.header.replace(at, 12, "\"sequence\":2");
  EXPECT_THAT(VerifyRelease(t, node.public_key()), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(VerifyRelease(e, Identity(2).public_key()), StatusIs(StatusCode::kPermissionDenied));
}

TEST(EnvelopeTest, OnlyApprovedReleasesAreSigned) {
  aggregate::Release r = Approved();
  for (auto s : {aggregate::ReleaseState::kComputed, aggregate::ReleaseState::kChecked,
                 aggregate::ReleaseState::kRejected}) {
    r.state = s;
    EXPECT_THAT(SignRelease(r, 1, Identity(1), "2025-02-01T06:00:00Z"),
                StatusIs(StatusCode::kFailedPrecondition));
  }
  EXPECT_THAT(SignRelease(Approved(), 0, Identity(1), "x"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(EnvelopeTest, IdentityNamesAndFingerprintsDeriveFromTheKey) {
  const NodeIdentity a = Identity(1);
  EXPECT_EQ(a.node_id().rfind("node-", 0), 0u);
  EXPECT_EQ(a.node_id().size(), 5u + 24u);
  EXPECT_EQ(a.node_id(), NodeIdOf(a.public_key()));
  EXPECT_EQ(a.Fingerprint().rfind("SHA256:", 0), 0u);
  EXPECT_NE(a.node_id(), Identity(2).node_id());
  EXPECT_EQ(a.node_id(), Identity(1).node_id());
}

TEST(EnvelopeTest, MalformedHeadersNameTheProblem) {
  EXPECT_THAT(ParseHeader("not json"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHeader(R"({"format":"other/1"})"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHeader(R"({"format":"eds-release/1","node_id":"n"})"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(DecodeSignedRelease("{}"), StatusIs(StatusCode::kDataLoss));
}

}  // namespace
}  // namespace eds::sync
