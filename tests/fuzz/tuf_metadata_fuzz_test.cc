// Fuzz target for the TUF metadata parser and canonical JSON. The first input byte picks the role
// the bytes are parsed as; the rest is the metadata file. Checks: parsing never crashes or throws;
// canonical JSON is a fixed point (re-parsing and re-encoding gives the same bytes) whenever it is
// JSON at all (it is not when a string holds a control character: canonical JSON writes those
// raw); a root that parses can be used to check signatures of the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "update/internal/canonical_json.h"
#include "update/internal/metadata.h"

namespace {

namespace internal = eds::update::internal;

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr const char* kRoles[] = {"root", "timestamp", "snapshot", "targets"};
  const char* role = kRoles[data[0] % 4];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto env = internal::ParseEnvelope(bytes, role);
  if (!env.ok()) return 0;
  auto again = internal::ParseJson(env->canonical_signed, "canonical");
  if (again.ok()) {
    auto canonical = internal::CanonicalJson(*again);
    Require(canonical.ok() && *canonical == env->canonical_signed);
  }
  switch (data[0] % 4) {
    case 0: {
      auto root = internal::ParseRoot(*env);
      if (root.ok()) {
        (void)internal::VerifyThreshold(*env, root->keys, root->roles.at("root"), "root");
      }
      break;
    }
    case 1:
      (void)internal::ParseTimestamp(*env);
      break;
    case 2:
      (void)internal::ParseSnapshot(*env);
      break;
    default: {
      auto targets = internal::ParseTargets(*env, "targets");
      if (targets.ok()) {
        for (const auto& d : targets->delegations) (void)internal::DelegationCovers(d, "a/b.json");
      }
      break;
    }
  }
  return 0;
}
