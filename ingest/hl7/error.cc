#include "ingest/hl7/error.h"

namespace eds::ingest::hl7 {

std::string_view Hl7ErrorCodeText(Hl7ErrorCode code) {
  switch (code) {
    case Hl7ErrorCode::kSegmentSequenceError:
      return "Segment sequence error";
    case Hl7ErrorCode::kRequiredFieldMissing:
      return "Required field missing";
    case Hl7ErrorCode::kDataTypeError:
      return "Data type error";
    case Hl7ErrorCode::kTableValueNotFound:
      return "Table value not found";
    case Hl7ErrorCode::kUnsupportedMessageType:
      return "Unsupported message type";
    case Hl7ErrorCode::kUnsupportedEventCode:
      return "Unsupported event code";
    case Hl7ErrorCode::kUnsupportedProcessingId:
      return "Unsupported processing id";
    case Hl7ErrorCode::kUnsupportedVersionId:
      return "Unsupported version id";
    case Hl7ErrorCode::kUnknownKeyIdentifier:
      return "Unknown key identifier";
    case Hl7ErrorCode::kDuplicateKeyIdentifier:
      return "Duplicate key identifier";
    case Hl7ErrorCode::kApplicationRecordLocked:
      return "Application record locked";
    case Hl7ErrorCode::kApplicationInternalError:
      return "Application internal error";
  }
  return "Application internal error";
}

std::string Hl7Error::ToString() const {
  std::string out;
  if (!segment.empty()) {
    out += segment;
    if (sequence > 0) out += "(" + std::to_string(sequence) + ")";
    if (field > 0) out += "-" + std::to_string(field);
    if (component > 0) out += "." + std::to_string(component);
    out += ": ";
  }
  out += Hl7ErrorCodeText(code);
  out += " (" + std::to_string(static_cast<int>(code)) + ")";
  if (!message.empty()) out += ": " + message;
  return out;
}

}  // namespace eds::ingest::hl7
