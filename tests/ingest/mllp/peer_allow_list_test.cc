// PeerAllowList: addresses and CIDR blocks, IPv4 and IPv6, and the entries it must reject.
#include "ingest/mllp/internal/peer_allow_list.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace eds::ingest::internal {
namespace {

using ::eds::testing::IsOk;
using ::eds::testing::StatusIs;

boost::asio::ip::address Ip(const char* text) { return boost::asio::ip::make_address(text); }

PeerAllowList Parse(const std::vector<std::string>& entries) {
  Result<PeerAllowList> list = PeerAllowList::Parse(entries);
  EXPECT_THAT(list, IsOk());
  return list.ok() ? *list : PeerAllowList();
}

TEST(MllpPeerAllowListTest, EmptyListAllowsEveryPeer) {
  PeerAllowList list = Parse({});
  EXPECT_TRUE(list.empty());
  EXPECT_TRUE(list.Allows(Ip("203.0.113.9")));
  EXPECT_TRUE(list.Allows(Ip("2001:db8::1")));
}

TEST(MllpPeerAllowListTest, SingleAddressesMatchExactly) {
  PeerAllowList list = Parse({"10.1.2.3", "2001:db8::7"});
  EXPECT_TRUE(list.Allows(Ip("10.1.2.3")));
  EXPECT_FALSE(list.Allows(Ip("10.1.2.4")));
  EXPECT_TRUE(list.Allows(Ip("2001:db8::7")));
  EXPECT_FALSE(list.Allows(Ip("2001:db8::8")));
}

TEST(MllpPeerAllowListTest, Ipv4CidrBlocksCoverTheirRange) {
  PeerAllowList list = Parse({"127.0.0.0/30", "192.168.16.0/20"});
  EXPECT_TRUE(list.Allows(Ip("127.0.0.0")));
  EXPECT_TRUE(list.Allows(Ip("127.0.0.3")));
  EXPECT_FALSE(list.Allows(Ip("127.0.0.4")));
  EXPECT_TRUE(list.Allows(Ip("192.168.31.255")));
  EXPECT_FALSE(list.Allows(Ip("192.168.32.0")));
  EXPECT_FALSE(list.Allows(Ip("192.168.15.255")));
}

TEST(MllpPeerAllowListTest, Ipv6CidrBlocksCoverTheirRange) {
  PeerAllowList list = Parse({"fd00::/8", "2001:db8:abcd:12::/63"});
  EXPECT_TRUE(list.Allows(Ip("fd12:3456::1")));
  EXPECT_FALSE(list.Allows(Ip("fe80::1")));
  EXPECT_TRUE(list.Allows(Ip("2001:db8:abcd:13::ffff")));
  EXPECT_FALSE(list.Allows(Ip("2001:db8:abcd:14::")));
}

TEST(MllpPeerAllowListTest, ZeroPrefixMatchesItsWholeFamilyOnly) {
  PeerAllowList list = Parse({"0.0.0.0/0"});
  EXPECT_TRUE(list.Allows(Ip("198.51.100.1")));
  EXPECT_FALSE(list.Allows(Ip("2001:db8::1")));
}

TEST(MllpPeerAllowListTest, Ipv4MappedPeersMatchIpv4Entries) {
  PeerAllowList list = Parse({"10.0.0.0/8"});
  EXPECT_TRUE(list.Allows(Ip("::ffff:10.9.8.7")));
  EXPECT_FALSE(list.Allows(Ip("::ffff:11.0.0.1")));
}

TEST(MllpPeerAllowListTest, RejectsEntriesThatAreNotAddressesOrBlocks) {
  for (const char* bad : {"", "host.example", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/-1",
                          "10.0.0.1/8x", "fd00::/129", "/8", "10.0.0.256", " 10.0.0.1"}) {
    EXPECT_THAT(PeerAllowList::Parse({bad}), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace eds::ingest::internal
