// What the crash writer stores for sequence number `seq`, so the test can check it exactly.
#pragma once

#include <cstdint>
#include <string>

namespace eds::storage {

// Runs of 3 consecutive numbers share a patient, so a batch often stores several records of one
// patient: in a record block.
inline std::string CrashWriterPatient(uint64_t seq) {
  return "crash-patient-" + std::to_string(seq / 3 % 37);
}
inline std::string CrashWriterLogicalId(uint64_t seq) {
  return "Observation/" + std::to_string(seq);
}
inline std::string CrashWriterPayload(uint64_t seq) {
  return R"({"resourceType":"Observation","id":")" + std::to_string(seq) +
         R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":)" +
         std::to_string(seq % 180) + "}}";
}

}  // namespace eds::storage
