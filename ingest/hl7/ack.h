// HL7 v2 acknowledgements (original mode ACK, v2.5.1 layout): MSH, MSA and, for AE/AR with an
// Hl7Error, an ERR segment (ERR-2 location, ERR-3 table 0357 code, ERR-4 severity; ERR-1 too
// when the original is older than v2.5). The ACK uses the original's delimiters, version,
// processing id and character set, with sending and receiving application/facility swapped.
// Segments end with CR; the result is the unframed message. Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/hl7/error.h"
#include "ingest/hl7/message.h"

namespace eds::ingest::hl7 {

// MSA-1 (HL7 table 0008, original mode).
enum class AckCode {
  kAccept,  // AA: stored durably
  kError,   // AE: the content is wrong (ERR says where); resending as is will fail again
  kReject,  // AR: unsupported type or version, or a broken envelope
};

std::string_view AckCodeText(AckCode code);  // "AA", "AE" or "AR"

struct AckOptions {
  // MSH-10 of the ACK itself; the caller keeps it unique (a counter, or "A" + a sequence).
  // Letters and digits survive any delimiters; other characters are escaped, or become spaces
  // when the original declares no escape character.
  std::string ack_control_id;
  // MSH-7, an HL7 DTM such as "20240306111154+0100"; empty = the current UTC time.
  std::string timestamp;
};

// The ACK for a message that parsed. `error` fills ERR for AE/AR (ignored for AA); `text` goes
// to MSA-3 (empty = the error's message, if any).
std::string MakeAck(const Hl7Message& original, AckCode code, const std::optional<Hl7Error>& error,
                    std::string_view text, const AckOptions& options);

// An AR for input the parser refused. Addressed from the input's MSH when its delimiters can be
// read (control id, applications, version); otherwise from defaults (|^~\&, v2.5.1, empty MSA-2).
std::string MakeAckForUnparseable(std::string_view raw, const Hl7Error& error,
                                  std::string_view text, const AckOptions& options);

// True for the types the node stores: ADT^A01/A02/A03/A04/A05/A08/A11/A13/A31/A40, ORU^R01.
bool IsSupportedType(const Hl7Message& message);
// The error to answer (with AR) for a type IsSupportedType refuses: code 200 at MSH-9.
Hl7Error UnsupportedTypeError(const Hl7Message& message);

// `t` as an HL7 DTM in UTC to the second: "YYYYMMDDHHMMSS+0000".
std::string FormatHl7Timestamp(std::chrono::system_clock::time_point t);

}  // namespace eds::ingest::hl7
