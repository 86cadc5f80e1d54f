#include "ingest/mllp/internal/peer_allow_list.h"

#include <charconv>
#include <string_view>
#include <system_error>

namespace eds::ingest::internal {
namespace {

namespace ip = boost::asio::ip;

// IPv4-mapped IPv6 addresses are IPv4 peers on a dual-stack socket; compare them as IPv4.
ip::address Canonical(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::array<uint8_t, 16> Bytes(const ip::address& address) {
  std::array<uint8_t, 16> out{};
  if (address.is_v4()) {
    const auto v4 = address.to_v4().to_bytes();
    for (size_t i = 0; i < v4.size(); ++i) out[i] = v4[i];
  } else {
    const auto v6 = address.to_v6().to_bytes();
    for (size_t i = 0; i < v6.size(); ++i) out[i] = v6[i];
  }
  return out;
}

}  // namespace

Result<PeerAllowList> PeerAllowList::Parse(const std::vector<std::string>& entries) {
  PeerAllowList list;
  for (const std::string& entry : entries) {
    const Status bad =
        InvalidArgumentError("allowed_peers: '" + entry + "' is not an IP address or a CIDR block");
    const std::string_view text(entry);
    const size_t slash = text.find('/');
    boost::system::error_code ec;
    const ip::address address = Canonical(ip::make_address(std::string(text.substr(0, slash)), ec));
    if (ec) return bad;
    Block block;
    block.v6 = address.is_v6();
    block.bytes = Bytes(address);
    const int max_bits = block.v6 ? 128 : 32;
    block.prefix_bits = max_bits;
    if (slash != std::string_view::npos) {
      const std::string_view bits = text.substr(slash + 1);
      const char* first = bits.data();
      const char* last = first + bits.size();
      const auto [ptr, err] = std::from_chars(first, last, block.prefix_bits);
      if (bits.empty() || err != std::errc() || ptr != last || block.prefix_bits < 0 ||
          block.prefix_bits > max_bits) {
        return bad;
      }
    }
    list.blocks_.push_back(block);
  }
  return list;
}

bool PeerAllowList::Matches(const Block& block, const std::array<uint8_t, 16>& bytes, bool v6) {
  if (block.v6 != v6) return false;
  int bits = block.prefix_bits;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const auto mask = static_cast<uint8_t>(bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
    if ((block.bytes[i] & mask) != (bytes[i] & mask)) return false;
  }
  return true;
}

bool PeerAllowList::Allows(const ip::address& peer) const {
  if (blocks_.empty()) return true;
  const ip::address canonical = Canonical(peer);
  const std::array<uint8_t, 16> bytes = Bytes(canonical);
  for (const Block& block : blocks_) {
    if (Matches(block, bytes, canonical.is_v6())) return true;
  }
  return false;
}

}  // namespace eds::ingest::internal
