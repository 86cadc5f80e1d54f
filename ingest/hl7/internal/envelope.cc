#include "ingest/hl7/internal/envelope.h"

#include <algorithm>
#include <utility>

namespace eds::ingest::hl7::internal {
namespace {

// Offsets into a message's text are 32-bit; a copy plus decoded values must fit.
constexpr size_t kMaxInputBytes = size_t{1} << 30;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Delimiters must be printable ASCII and never alphanumeric, or segment ids and UTF-8 text
// could be mistaken for structure.
bool IsDelimiterChar(char c) { return c >= 0x21 && c <= 0x7E && !IsAlnum(c); }

EnvelopeResult Fail(int field, Hl7ErrorCode code, std::string message) {
  EnvelopeResult result;
  result.error = Hl7Error{"MSH", 1, field, 0, code, std::move(message)};
  return result;
}

// Fills the delimiters; returns a failed result when MSH-1/MSH-2 cannot be used.
std::optional<EnvelopeResult> ReadDelimiters(std::string_view in, Envelope& env) {
  if (in.size() < 4 || in[3] == '\r' || in[3] == '\n') {
    return Fail(1, Hl7ErrorCode::kRequiredFieldMissing, "MSH-1 field separator missing");
  }
  const char fs = in[3];
  if (!IsDelimiterChar(fs)) {
    return Fail(1, Hl7ErrorCode::kDataTypeError,
                "MSH-1 must be a printable non-alphanumeric ASCII character");
  }
  size_t end = 4;
  while (end < in.size() && in[end] != fs && in[end] != '\r' && in[end] != '\n') ++end;
  const std::string_view enc = in.substr(4, end - 4);
  if (enc.empty()) {
    return Fail(2, Hl7ErrorCode::kRequiredFieldMissing, "MSH-2 encoding characters missing");
  }
  if (enc.size() > 5) {
    return Fail(2, Hl7ErrorCode::kDataTypeError, "MSH-2 holds more than 5 encoding characters");
  }
  for (size_t i = 0; i < enc.size(); ++i) {
    if (!IsDelimiterChar(enc[i]) || enc[i] == fs || enc.find(enc[i]) != i) {
      return Fail(2, Hl7ErrorCode::kDataTypeError,
                  "MSH-2 encoding characters must be distinct printable non-alphanumeric "
                  "characters other than MSH-1");
    }
  }
  auto at = [&](size_t i) { return i < enc.size() ? enc[i] : '\0'; };
  env.encoding = enc;
  env.delimiters = Delimiters{fs, at(0), at(1), at(2), at(3), at(4)};
  return std::nullopt;
}

// MSH-18 decides how every value is decoded, including MSH's own, so it is read first.
std::optional<EnvelopeResult> ReadCharset(std::string_view in, bool lenient, Envelope& env) {
  const Delimiters& d = env.delimiters;
  const std::string_view line = in.substr(0, in.find_first_of("\r\n"));
  std::string_view value;
  size_t pos = 4 + env.encoding.size();
  for (int field = 3; pos < line.size(); ++field) {
    const size_t start = pos + 1;
    pos = std::min(line.find(d.field, start), line.size());
    if (field == 18) {
      value = line.substr(start, pos - start);
      break;
    }
  }
  for (char stop : {d.repetition, d.component, d.subcomponent}) {
    if (stop != '\0') value = value.substr(0, value.find(stop));
  }
  // Decoded like any value, so that what charset() returns and what we act on agree even
  // when a delimiter or the escape character occurs in the name (an ACK escapes it).
  std::string name;
  AppendDecoded(value, d, Charset::kAscii, name);
  const std::optional<Charset> charset = CharsetFromName(name);
  if (charset) {
    env.charset = *charset;
  } else if (!lenient) {
    return Fail(18, Hl7ErrorCode::kTableValueNotFound,
                "unsupported character set '" + PrintableExcerpt(name) +
                    "' (supported: ASCII, 8859/1, UNICODE UTF-8)");
  }
  return std::nullopt;
}

}  // namespace

EnvelopeResult ReadEnvelope(std::string_view raw, bool lenient) {
  std::string_view in = raw;
  if (in.starts_with(kUtf8Bom)) in.remove_prefix(kUtf8Bom.size());
  while (!in.empty() && (in[0] == '\r' || in[0] == '\n' || in[0] == ' ' || in[0] == '\t')) {
    in.remove_prefix(1);
  }
  if (in.size() > kMaxInputBytes) {
    return Fail(0, Hl7ErrorCode::kApplicationInternalError, "message larger than 1 GiB");
  }
  if (!in.starts_with("MSH")) {
    return Fail(0, Hl7ErrorCode::kSegmentSequenceError,
                in.empty() ? "empty message" : "message does not start with MSH");
  }
  Envelope env;
  env.message = in;
  if (auto failed = ReadDelimiters(in, env)) return std::move(*failed);
  if (auto failed = ReadCharset(in, lenient, env)) return std::move(*failed);
  EnvelopeResult result;
  result.envelope = env;
  return result;
}

std::string PrintableExcerpt(std::string_view bytes) {
  std::string out(bytes.substr(0, 32));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7E) c = '?';
  }
  if (bytes.size() > 32) out += "...";
  return out;
}

}  // namespace eds::ingest::hl7::internal
