#include "sync/envelope.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/status_macros.h"

namespace eds::sync {
namespace {

using nlohmann::json;

}  // namespace

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return HexEncode({reinterpret_cast<const char*>(digest), sizeof digest});
}

std::string SigningInput(std::string_view header, std::string_view bundle) {
  std::string input;
  input.reserve(kEnvelopeFormat.size() + header.size() + bundle.size() + 2);
  input.append(kEnvelopeFormat).append("\n").append(header).append("\n").append(bundle);
  return input;
}

Result<SignedRelease> SignRelease(const aggregate::Release& release, uint64_t sequence,
                                  const NodeIdentity& identity, const std::string& signed_at) {
  if (release.state != aggregate::ReleaseState::kApproved &&
      release.state != aggregate::ReleaseState::kSigned) {
    return FailedPreconditionError("release " + release.id + " is " +
                                   std::string(aggregate::StateName(release.state)) +
                                   ": only an approved release is signed");
  }
  if (sequence == 0) return InvalidArgumentError("sequence numbers start at 1");
  json masked = json::object();
  for (const auto& d : release.decisions) {
    masked[d.rule] = masked.value(d.rule, uint64_t{0}) + 1;
  }
  const json header = {{"format", kEnvelopeFormat},
                       {"node_id", identity.node_id()},
                       {"release_id", release.id},
                       {"sequence", sequence},
                       {"period", release.period},
                       {"packs", release.packs},
                       {"disclosure", {{"k", release.k}, {"masked_by_rule", masked}}},
                       {"bundle_sha256", Sha256Hex(release.bundle)},
                       {"signed_at", signed_at}};
  SignedRelease out;
  out.header = header.dump();
  out.bundle = release.bundle;
  out.signature = identity.Sign(SigningInput(out.header, out.bundle));
  return out;
}

Result<EnvelopeHeader> ParseHeader(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgumentError("header is not JSON");
  if (j.value("format", "") != kEnvelopeFormat) {
    return InvalidArgumentError("unknown envelope format (want " + std::string(kEnvelopeFormat) +
                                ")");
  }
  EnvelopeHeader h;
  try {
    h.node_id = j.at("node_id").get<std::string>();
    h.release_id = j.at("release_id").get<std::string>();
    h.sequence = j.at("sequence").get<uint64_t>();
    h.period = j.at("period").get<std::string>();
    h.packs = j.at("packs").get<std::vector<std::string>>();
    const json& d = j.at("disclosure");
    h.k = d.at("k").get<uint64_t>();
    h.masked_by_rule = d.at("masked_by_rule").get<std::map<std::string, uint64_t>>();
    h.bundle_sha256 = j.at("bundle_sha256").get<std::string>();
    h.signed_at = j.at("signed_at").get<std::string>();
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("header field missing or of the wrong type: ") +
                                e.what());
  }
  if (h.sequence == 0) return InvalidArgumentError("header sequence must be at least 1");
  return h;
}

Result<EnvelopeHeader> VerifyRelease(const SignedRelease& release, std::string_view public_key) {
  if (!VerifySignature(public_key, SigningInput(release.header, release.bundle),
                       release.signature)) {
    return PermissionDeniedError("the signature does not verify with the node's key");
  }
  EDS_ASSIGN_OR_RETURN(EnvelopeHeader h, ParseHeader(release.header));
  if (h.bundle_sha256 != Sha256Hex(release.bundle)) {
    return InvalidArgumentError("the Bundle does not match the header's digest");
  }
  if (h.node_id != NodeIdOf(public_key)) {
    return PermissionDeniedError("the header names another node");
  }
  return h;
}

std::string EncodeSignedRelease(const SignedRelease& release) {
  return json{{"header", release.header},
              {"bundle", release.bundle},
              {"signature", Base64Encode(release.signature)}}
      .dump();
}

Result<SignedRelease> DecodeSignedRelease(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("header") || !j.contains("bundle") ||
      !j.contains("signature") || !j["header"].is_string() || !j["bundle"].is_string() ||
      !j["signature"].is_string()) {
    return DataLossError("signed release entry is corrupt");
  }
  auto sig = Base64Decode(j["signature"].get<std::string>());
  if (!sig || sig->size() != kSignatureSize) return DataLossError("signature is corrupt");
  return SignedRelease{j["header"].get<std::string>(), j["bundle"].get<std::string>(), *sig};
}

}  // namespace eds::sync
