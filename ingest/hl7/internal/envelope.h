// The envelope of an HL7 v2 message: what must be known before any value can be decoded (where
// the message starts, the MSH-1/MSH-2 delimiters, the MSH-18 character set). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ingest/hl7/error.h"
#include "ingest/hl7/internal/text_codec.h"
#include "ingest/hl7/message.h"

namespace eds::ingest::hl7::internal {

struct Envelope {
  std::string_view message;   // the input from "MSH" on, after a byte-order mark and blank lines
  std::string_view encoding;  // MSH-2 as written, e.g. "^~\&"
  Delimiters delimiters;
  Charset charset = Charset::kAscii;
};

struct EnvelopeResult {
  std::optional<Envelope> envelope;
  Hl7Error error;  // meaningful only when !envelope
};

// Borrows `raw`. With `lenient`, an unsupported MSH-18 reads as ASCII instead of failing.
EnvelopeResult ReadEnvelope(std::string_view raw, bool lenient);

// At most 32 bytes of untrusted input, non-printable bytes as '?', for error messages.
std::string PrintableExcerpt(std::string_view bytes);

}  // namespace eds::ingest::hl7::internal
