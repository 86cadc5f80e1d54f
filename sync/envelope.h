// The signed release envelope (docs/formats/release_envelope.md): the exact Bundle bytes of a
// release's MeasureReports, a header saying who sent what (node id, release id, per-node
// sequence, period, pack versions, a summary of the disclosure report, the Bundle's SHA-256), and
// a detached Ed25519 signature over both. On the wire the body is the Bundle itself, so any FHIR
// server can take it; header and signature travel as HTTP header fields.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aggregate/release.h"
#include "common/result.h"
#include "sync/identity.h"

namespace eds::sync {

inline constexpr std::string_view kEnvelopeFormat = "eds-release/1";
inline constexpr std::string_view kHeaderField = "EDS-Release";       // base64 of the header
inline constexpr std::string_view kSignatureField = "EDS-Signature";  // base64 of the signature

struct EnvelopeHeader {
  std::string node_id;
  std::string release_id;
  uint64_t sequence = 0;
  std::string period;
  std::vector<std::string> packs;
  std::map<std::string, uint64_t> masked_by_rule;  // disclosure summary: masked cells per rule
  uint64_t k = 0;
  std::string bundle_sha256;  // hex
  std::string signed_at;      // RFC 3339
};

struct SignedRelease {
  std::string header;     // the header's exact JSON bytes
  std::string bundle;     // the exact Bundle bytes
  std::string signature;  // 64 raw bytes
};

// What the signature covers: the format, the header and the Bundle, unambiguously (a header's
// JSON holds no raw newline).
std::string SigningInput(std::string_view header, std::string_view bundle);

Result<SignedRelease> SignRelease(const aggregate::Release& release, uint64_t sequence,
                                  const NodeIdentity& identity, const std::string& signed_at);

// Checks the signature with `public_key`, the header's format and the Bundle's digest.
// kPermissionDenied for a bad signature, kInvalidArgument for a malformed envelope.
Result<EnvelopeHeader> VerifyRelease(const SignedRelease& release, std::string_view public_key);
// Parses the header without checking the signature (to find the sender's key).
Result<EnvelopeHeader> ParseHeader(std::string_view header);

// The form an envelope is kept in (the outbox) and read back.
std::string EncodeSignedRelease(const SignedRelease& release);
Result<SignedRelease> DecodeSignedRelease(std::string_view text);

std::string Sha256Hex(std::string_view bytes);

}  // namespace eds::sync
