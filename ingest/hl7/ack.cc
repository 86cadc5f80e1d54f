#include "ingest/hl7/ack.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <string>

#include "common/status_macros.h"
#include "ingest/hl7/internal/lenient.h"
#include "ingest/hl7/internal/text_codec.h"

namespace eds::ingest::hl7 {
namespace {

// Answers input whose MSH cannot be read at all: the sender still gets a well-formed AR.
constexpr std::string_view kFallbackMsh = "MSH|^~\\&|||||||ACK||P|2.5.1";
constexpr std::string_view kDefaultProcessingId = "P";
constexpr std::string_view kDefaultVersion = "2.5.1";
constexpr std::string_view kErrorCodeTable = "HL70357";

constexpr std::array<std::string_view, 10> kAdtTriggers = {"A01", "A02", "A03", "A04", "A05",
                                                           "A08", "A11", "A13", "A31", "A40"};

// v2.3 and v2.4 receivers read the error from ERR-1 (ELD), which v2.5 keeps for them.
bool WantsErr1(std::string_view version) {
  return version == "2.3" || version.starts_with("2.3.") || version == "2.4" ||
         version.starts_with("2.4.");
}

class AckWriter {
 public:
  explicit AckWriter(const Delimiters& d) : d_(d) { out_.reserve(256); }

  void Raw(std::string_view s) { out_.append(s); }
  void Field() { out_.push_back(d_.field); }
  void Component() { out_.push_back(d_.component); }
  void SubComponent() { out_.push_back(d_.subcomponent); }
  void EndSegment() { out_.push_back('\r'); }
  // Caller-supplied text: made valid UTF-8, then escaped so it cannot break the structure.
  void Text(std::string_view text) {
    if (internal::IsValidUtf8(text)) {
      internal::AppendEscaped(text, d_, out_);
    } else {
      std::string clean(text);
      internal::SanitizeUtf8(clean);
      internal::AppendEscaped(clean, d_, out_);
    }
  }
  void Number(int n) { out_.append(std::to_string(n)); }
  std::string Take() { return std::move(out_); }

 private:
  const Delimiters& d_;
  std::string out_;
};

void WriteMsh(const Hl7Message& original, const AckOptions& options, AckWriter& w) {
  const Segment* msh = original.FindSegment("MSH");
  w.Raw("MSH");
  w.Field();
  w.Raw(msh != nullptr ? msh->Value(2) : std::string_view("^~\\&"));
  for (int field : {5, 6, 3, 4}) {  // the receiver becomes the sender
    w.Field();
    if (msh != nullptr) w.Raw(msh->EncodeField(field));
  }
  w.Field();
  w.Text(options.timestamp.empty() ? FormatHl7Timestamp(std::chrono::system_clock::now())
                                   : options.timestamp);
  w.Field();
  w.Field();
  w.Raw("ACK");
  w.Component();
  w.Text(original.message_type().trigger);
  w.Component();
  w.Raw("ACK");
  w.Field();
  w.Text(options.ack_control_id);
  w.Field();
  if (msh == nullptr || original.processing_id().empty()) {
    w.Raw(kDefaultProcessingId);
  } else {
    w.Raw(msh->EncodeField(11));
  }
  w.Field();
  if (msh == nullptr || original.version().empty()) {
    w.Raw(kDefaultVersion);
  } else {
    w.Raw(msh->EncodeField(12));
  }
  // Answer in the sender's character set, but never declare one we could not read ourselves.
  if (!original.charset().empty() && internal::CharsetFromName(original.charset())) {
    for (int field = 13; field <= 18; ++field) w.Field();
    w.Text(original.charset());
  }
  w.EndSegment();
}

void WriteErr(const Hl7Error& e, std::string_view version, const Delimiters& d, AckWriter& w) {
  const std::string_view code_text = Hl7ErrorCodeText(e.code);
  const int code = static_cast<int>(e.code);
  const int sequence = std::max(1, e.sequence);
  w.Raw("ERR");
  w.Field();
  if (WantsErr1(version)) {  // ERR-1: segment^sequence^field^code&text&table
    if (!e.segment.empty()) {
      w.Text(e.segment);
      w.Component();
      w.Number(sequence);
      w.Component();
      if (e.field > 0) w.Number(e.field);
    } else {
      w.Component();
      w.Component();
    }
    w.Component();
    w.Number(code);
    if (d.subcomponent != '\0') {
      w.SubComponent();
      w.Text(code_text);
      w.SubComponent();
      w.Raw(kErrorCodeTable);
    }
  }
  w.Field();  // ERR-2: segment^sequence^field^repetition^component
  if (!e.segment.empty()) {
    w.Text(e.segment);
    w.Component();
    w.Number(sequence);
    if (e.field > 0) {
      w.Component();
      w.Number(e.field);
      if (e.component > 0) {
        w.Component();
        w.Number(1);
        w.Component();
        w.Number(e.component);
      }
    }
  }
  w.Field();  // ERR-3: code^text^HL70357
  w.Number(code);
  w.Component();
  w.Text(code_text);
  w.Component();
  w.Raw(kErrorCodeTable);
  w.Field();  // ERR-4: severity
  w.Raw("E");
  if (!e.message.empty()) {  // ERR-8: user message
    for (int field = 5; field <= 8; ++field) w.Field();
    w.Text(e.message);
  }
  w.EndSegment();
}

}  // namespace

std::string_view AckCodeText(AckCode code) {
  switch (code) {
    case AckCode::kAccept:
      return "AA";
    case AckCode::kError:
      return "AE";
    case AckCode::kReject:
      return "AR";
  }
  return "AR";
}

std::string MakeAck(const Hl7Message& original, AckCode code, const std::optional<Hl7Error>& error,
                    std::string_view text, const AckOptions& options) {
  const Delimiters& d = original.delimiters();
  const bool with_error = error.has_value() && code != AckCode::kAccept;
  AckWriter w(d);
  WriteMsh(original, options, w);
  w.Raw("MSA");
  w.Field();
  w.Raw(AckCodeText(code));
  w.Field();
  w.Text(original.control_id());
  const std::string_view msa3 = !text.empty() ? text
                                : with_error  ? std::string_view(error->message)
                                              : std::string_view();
  if (!msa3.empty()) {
    w.Field();
    w.Text(msa3);
  }
  w.EndSegment();
  if (with_error) WriteErr(*error, original.version(), d, w);
  std::string ack = w.Take();
  if (internal::CharsetFromName(original.charset()) == internal::Charset::kLatin1) {
    return internal::Utf8ToLatin1(ack);
  }
  return ack;
}

std::string MakeAckForUnparseable(std::string_view raw, const Hl7Error& error,
                                  std::string_view text, const AckOptions& options) {
  std::optional<Hl7Message> original = internal::ParseMshLenient(raw);
  if (!original) original = internal::ParseMshLenient(kFallbackMsh);
  EDS_CHECK(original.has_value(), "the fallback MSH is well formed");
  return MakeAck(*original, AckCode::kReject, error, text, options);
}

bool IsSupportedType(const Hl7Message& message) {
  const MessageType type = message.message_type();
  if (type.code == "ORU") return type.trigger == "R01";
  if (type.code != "ADT") return false;
  return std::find(kAdtTriggers.begin(), kAdtTriggers.end(), type.trigger) != kAdtTriggers.end();
}

Hl7Error UnsupportedTypeError(const Hl7Message& message) {
  const MessageType type = message.message_type();
  std::string name(type.code);
  if (!type.trigger.empty()) name += "^" + std::string(type.trigger);
  return Hl7Error{"MSH",
                  1,
                  9,
                  0,
                  Hl7ErrorCode::kUnsupportedMessageType,
                  "message type " + name + " is not accepted"};
}

std::string FormatHl7Timestamp(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y%m%d%H%M%S+0000", &utc);
  return std::string(buf, n);
}

}  // namespace eds::ingest::hl7
