// Pseudonymizer: turns a patient identifier (system + value) into the pseudonym the store files
// the patient under: keyed BLAKE2b-256 of the normalised identifier with the node's pseudonym
// secret, so the same patient gets the same pseudonym from HL7 v2 and FHIR and no one without the
// secret can compute or reverse it. Thread-safe (const).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/secret_key.h"
#include "storage/store.h"

namespace eds::ingest {

struct Identifier {
  std::string system;  // URI, OID (with or without urn:oid:) or HL7 v2 assigning authority
  std::string value;
  std::string type;  // HL7 v2 CX-5 / FHIR identifier.type code (MR, PI, NH, INS-NIR, ...)
};

// OIDs of the French national health identifier (INS): NIR, NIA and test NIR.
inline constexpr std::string_view kInsNirOid = "1.2.250.1.213.1.4.8";
inline constexpr std::string_view kInsNiaOid = "1.2.250.1.213.1.4.9";
inline constexpr std::string_view kInsNirTestOid = "1.2.250.1.213.1.4.10";

class Pseudonymizer {
 public:
  explicit Pseudonymizer(storage::SecretKey key) : key_(std::move(key)) {}

  // 32 raw bytes.
  std::string Pseudonym(const Identifier& id) const;
  // The text an identifier is known by in the store's alias index ("system|value", normalised).
  static std::string AliasOf(const Identifier& id);
  // Trims, drops "urn:oid:", lower-cases URL systems, removes spaces inside INS numbers.
  static Identifier Normalize(const Identifier& id);
  // Which identifier names the patient: the INS first, then hospital numbers (MR, PI, PN, ...),
  // then the first one with a system and a value; nullopt when none qualifies.
  static std::optional<size_t> PrimaryIndex(const std::vector<Identifier>& ids);

 private:
  storage::SecretKey key_;
};

// Aliases (alias text -> pseudonym) a write adds before it is durable: a bulk chunk filed while
// the one before it commits looks there before the store.
using PendingAliases = std::unordered_map<std::string, std::string>;

// The pseudonym `alias` names: in `pending` (may be null) first, then in the store; or nullopt.
std::optional<std::string> KnownAlias(storage::Store& store, const PendingAliases* pending,
                                      const std::string& alias);
// The pseudonym the store already files one of `ids` under (its sealed alias), or nullopt.
std::optional<std::string> KnownPseudonym(storage::Store& store, const std::vector<Identifier>& ids,
                                          const PendingAliases* pending = nullptr);
// The patient `ids` name: a known pseudonym, else the primary identifier's; "" when no
// identifier is usable (see PrimaryIndex).
std::string ResolvePseudonym(storage::Store& store, const Pseudonymizer& pseudonymizer,
                             const std::vector<Identifier>& ids);

}  // namespace eds::ingest
