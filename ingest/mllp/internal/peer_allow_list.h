// PeerAllowList: the MLLP listener's allow-list of peer addresses, parsed once at start.
// Entries are IP addresses or CIDR blocks, IPv4 ("10.1.2.3", "10.1.0.0/16") or IPv6 ("fd00::7",
// "fd00::/8"). An IPv4 peer seen through a dual-stack socket (::ffff:a.b.c.d) is matched as IPv4.
// An empty list allows every peer. Immutable after Parse, so safe to share between threads.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "common/result.h"

namespace eds::ingest::internal {

class PeerAllowList {
 public:
  // kInvalidArgument naming the first entry that is not an address or a CIDR block.
  static Result<PeerAllowList> Parse(const std::vector<std::string>& entries);

  bool Allows(const boost::asio::ip::address& peer) const;
  bool empty() const { return blocks_.empty(); }

 private:
  struct Block {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
    int prefix_bits = 0;
  };

  static bool Matches(const Block& block, const std::array<uint8_t, 16>& bytes, bool v6);

  std::vector<Block> blocks_;
};

}  // namespace eds::ingest::internal
