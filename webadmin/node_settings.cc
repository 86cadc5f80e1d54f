#include "webadmin/node_settings.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "sync/cron.h"

namespace eds::webadmin {
namespace {

constexpr std::string_view kRecordId = "webadmin/settings";

bool KnownTimeZone(const std::string& tz) {
  if (tz.empty() || tz.find("..") != std::string::npos || tz.front() == '/') return false;
  std::error_code ec;
  return std::filesystem::is_regular_file("/usr/share/zoneinfo/" + tz, ec);
}

// Every PEM block must be a certificate OpenSSL can read.
bool ValidCertificates(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return false;
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++count;
  }
  BIO_free(bio);
  return count > 0;
}

}  // namespace

Status ValidateNodeSettings(const NodeSettings& s) {
  if (s.hospital_name.empty() || s.hospital_name.size() > 200) {
    return InvalidArgumentError("hospital_name: 1 to 200 characters");
  }
  if (!KnownTimeZone(s.time_zone)) {
    return InvalidArgumentError("time_zone: '" + s.time_zone + "' is not a known time zone");
  }
  if (!s.upstream_url.empty() &&
      (s.upstream_url.rfind("https://", 0) != 0 || s.upstream_url.size() <= 8 ||
       s.upstream_url.find_first_of(" \r\n\t") != std::string::npos)) {
    return InvalidArgumentError("upstream_url: must be an https:// URL");
  }
  if (!s.upstream_ca_pem.empty() && !ValidCertificates(s.upstream_ca_pem)) {
    return InvalidArgumentError("upstream_ca_pem: not a PEM certificate");
  }
  auto cron = sync::CronSchedule::Parse(s.schedule);
  if (!cron.ok()) return InvalidArgumentError("schedule: " + cron.status().message());
  return OkStatus();
}

Result<std::optional<NodeSettings>> LoadNodeSettings(storage::Store& store) {
  EDS_ASSIGN_OR_RETURN(bool exists, store.Exists("", kRecordId));
  if (!exists) return std::optional<NodeSettings>();
  EDS_ASSIGN_OR_RETURN(std::string text,
                       store.Read("", kRecordId, {"system", "settings.read", "", ""}));
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object()) return DataLossError("the settings record is not a JSON object");
  EDS_ASSIGN_OR_RETURN(NodeSettings s, NodeSettingsFromJson(doc, {}));
  s.metrics_token_hash = doc.value("metrics_token_hash", "");
  return std::optional<NodeSettings>(std::move(s));
}

Status SaveNodeSettings(storage::Store& store, const NodeSettings& s, const std::string& actor) {
  EDS_RETURN_IF_ERROR(ValidateNodeSettings(s));
  nlohmann::json doc = NodeSettingsToJson(s);
  doc["metrics_token_hash"] = s.metrics_token_hash;
  return store.Write({{"", std::string(kRecordId), doc.dump()}},
                     {actor, "settings.save", "",
                      "hospital=" + s.hospital_name + " tz=" + s.time_zone +
                          " upstream=" + s.upstream_url + " schedule=" + s.schedule});
}

nlohmann::json NodeSettingsToJson(const NodeSettings& s) {
  return {{"hospital_name", s.hospital_name},
          {"time_zone", s.time_zone},
          {"upstream_url", s.upstream_url},
          {"upstream_ca_pem", s.upstream_ca_pem},
          {"schedule", s.schedule}};
}

Result<NodeSettings> NodeSettingsFromJson(const nlohmann::json& j, NodeSettings base) {
  if (!j.is_object()) return InvalidArgumentError("settings must be a JSON object");
  const std::pair<const char*, std::string*> fields[] = {{"hospital_name", &base.hospital_name},
                                                         {"time_zone", &base.time_zone},
                                                         {"upstream_url", &base.upstream_url},
                                                         {"upstream_ca_pem", &base.upstream_ca_pem},
                                                         {"schedule", &base.schedule}};
  for (const auto& [key, field] : fields) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_string()) return InvalidArgumentError(std::string(key) + ": must be a string");
    *field = it->get<std::string>();
  }
  return base;
}

}  // namespace eds::webadmin
