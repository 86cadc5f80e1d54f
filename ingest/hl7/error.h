// Hl7Error: where and why an HL7 v2 message was refused, in the terms an ACK's ERR segment uses
// (HL7 table 0357 codes, an ERL-style location). Plain value type; the parser fills it, MakeAck
// writes it back to the sender.
#pragma once

#include <string>
#include <string_view>

namespace eds::ingest::hl7 {

// HL7 table 0357 (message error condition codes) as of v2.5.1.
enum class Hl7ErrorCode : int {
  kSegmentSequenceError = 100,
  kRequiredFieldMissing = 101,
  kDataTypeError = 102,
  kTableValueNotFound = 103,
  kUnsupportedMessageType = 200,
  kUnsupportedEventCode = 201,
  kUnsupportedProcessingId = 202,
  kUnsupportedVersionId = 203,
  kUnknownKeyIdentifier = 204,
  kDuplicateKeyIdentifier = 205,
  kApplicationRecordLocked = 206,
  kApplicationInternalError = 207,
};

// The table's display text, e.g. "Required field missing".
std::string_view Hl7ErrorCodeText(Hl7ErrorCode code);

struct Hl7Error {
  std::string segment;  // segment id, e.g. "PID"; empty when the error has no location
  int sequence = 0;     // occurrence of that segment in the message, 1-based; 0 = unknown
  int field = 0;        // field position, 1-based (MSH-1 is the field separator); 0 = whole segment
  int component = 0;    // component position, 1-based; 0 = whole field
  Hl7ErrorCode code = Hl7ErrorCode::kApplicationInternalError;
  std::string message;  // human-readable detail, in English

  // "PID(1)-3.2: Data type error (102): <message>", for logs and Status messages.
  std::string ToString() const;
};

}  // namespace eds::ingest::hl7
