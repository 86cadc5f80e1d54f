// Required value sets of the understood resources (R4), shared by the schema_resources_*.cc
// tables. Compile-time constants.
#pragma once

#include <string_view>

#include "ingest/fhir/internal/schema.h"

namespace eds::ingest::fhir::internal::value_sets {

inline constexpr std::string_view kGenderCodes[] = {"male", "female", "other", "unknown"};
inline constexpr ValueSet kGender{{}, kGenderCodes};

inline constexpr std::string_view kEncounterStatusCodes[] = {
    "planned",  "arrived",   "triaged",          "in-progress", "onleave",
    "finished", "cancelled", "entered-in-error", "unknown"};
inline constexpr ValueSet kEncounterStatus{{}, kEncounterStatusCodes};

inline constexpr std::string_view kEncounterLocationStatusCodes[] = {"planned", "active",
                                                                     "reserved", "completed"};
inline constexpr ValueSet kEncounterLocationStatus{{}, kEncounterLocationStatusCodes};

inline constexpr std::string_view kConditionClinicalCodes[] = {
    "active", "recurrence", "relapse", "inactive", "remission", "resolved"};
inline constexpr ValueSet kConditionClinical{
    "http://terminology.hl7.org/CodeSystem/condition-clinical", kConditionClinicalCodes};

inline constexpr std::string_view kConditionVerificationCodes[] = {
    "unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"};
inline constexpr ValueSet kConditionVerification{
    "http://terminology.hl7.org/CodeSystem/condition-ver-status", kConditionVerificationCodes};

inline constexpr std::string_view kObservationStatusCodes[] = {
    "registered", "preliminary",      "final",  "amended", "corrected",
    "cancelled",  "entered-in-error", "unknown"};
inline constexpr ValueSet kObservationStatus{{}, kObservationStatusCodes};

inline constexpr std::string_view kEventStatusCodes[] = {
    "preparation", "in-progress", "not-done",         "on-hold",
    "stopped",     "completed",   "entered-in-error", "unknown"};
inline constexpr ValueSet kEventStatus{{}, kEventStatusCodes};

inline constexpr std::string_view kMedicationRequestStatusCodes[] = {
    "active",           "on-hold", "cancelled", "completed",
    "entered-in-error", "stopped", "draft",     "unknown"};
inline constexpr ValueSet kMedicationRequestStatus{{}, kMedicationRequestStatusCodes};

inline constexpr std::string_view kMedicationRequestIntentCodes[] = {
    "proposal",     "plan",         "order",          "original-order",
    "reflex-order", "filler-order", "instance-order", "option"};
inline constexpr ValueSet kMedicationRequestIntent{{}, kMedicationRequestIntentCodes};

inline constexpr std::string_view kRequestPriorityCodes[] = {"routine", "urgent", "asap", "stat"};
inline constexpr ValueSet kRequestPriority{{}, kRequestPriorityCodes};

inline constexpr std::string_view kMedicationAdminStatusCodes[] = {
    "in-progress", "not-done", "on-hold", "completed", "entered-in-error", "stopped", "unknown"};
inline constexpr ValueSet kMedicationAdminStatus{{}, kMedicationAdminStatusCodes};

inline constexpr std::string_view kDiagnosticReportStatusCodes[] = {
    "registered", "partial",   "preliminary",      "final",  "amended", "corrected",
    "appended",   "cancelled", "entered-in-error", "unknown"};
inline constexpr ValueSet kDiagnosticReportStatus{{}, kDiagnosticReportStatusCodes};

inline constexpr std::string_view kImmunizationStatusCodes[] = {"completed", "entered-in-error",
                                                                "not-done"};
inline constexpr ValueSet kImmunizationStatus{{}, kImmunizationStatusCodes};

inline constexpr std::string_view kAllergyClinicalCodes[] = {"active", "inactive", "resolved"};
inline constexpr ValueSet kAllergyClinical{
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", kAllergyClinicalCodes};

inline constexpr std::string_view kAllergyVerificationCodes[] = {"unconfirmed", "confirmed",
                                                                 "refuted", "entered-in-error"};
inline constexpr ValueSet kAllergyVerification{
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
    kAllergyVerificationCodes};

inline constexpr std::string_view kAllergyTypeCodes[] = {"allergy", "intolerance"};
inline constexpr ValueSet kAllergyType{{}, kAllergyTypeCodes};

inline constexpr std::string_view kAllergyCategoryCodes[] = {"food", "medication", "environment",
                                                             "biologic"};
inline constexpr ValueSet kAllergyCategory{{}, kAllergyCategoryCodes};

inline constexpr std::string_view kAllergyCriticalityCodes[] = {"low", "high", "unable-to-assess"};
inline constexpr ValueSet kAllergyCriticality{{}, kAllergyCriticalityCodes};

}  // namespace eds::ingest::fhir::internal::value_sets
