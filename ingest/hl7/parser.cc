#include "ingest/hl7/parser.h"

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/status.h"
#include "ingest/hl7/internal/envelope.h"
#include "ingest/hl7/internal/lenient.h"
#include "ingest/hl7/internal/message_storage.h"
#include "ingest/hl7/internal/text_codec.h"

namespace eds::ingest::hl7 {
namespace {

using internal::Charset;
using internal::MessageStorage;
using internal::Node;

// What a byte means to the scanner. kSpecial is data that needs the full decoder (the escape
// character, non-ASCII bytes); values without any are copied as they are, the common case.
enum Kind : uint8_t {
  kData = 0,
  kSpecial = 1,
  kField,
  kRepetition,
  kComponent,
  kSubcomponent,
  kSegmentEnd
};

bool IsSegmentId(std::string_view name) {
  if (name.size() != 3 || name[0] < 'A' || name[0] > 'Z') return false;
  for (char c : name.substr(1)) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool IsBlankUpToLineEnd(std::string_view in, size_t pos, size_t* end) {
  while (pos < in.size() && (in[pos] == ' ' || in[pos] == '\t')) ++pos;
  *end = pos;
  return pos == in.size() || in[pos] == '\r' || in[pos] == '\n';
}

class Parser {
 public:
  Parser(std::string_view raw, const Hl7ParseOptions& options, bool lenient)
      : raw_(raw), options_(options), lenient_(lenient) {
    if (options_.max_values > UINT32_MAX - 1) options_.max_values = UINT32_MAX - 1;
  }

  Hl7ParseResult Run() {
    Hl7ParseResult result;
    if (Parse()) {
      result.message = internal::MessageBuilder::Finish(std::move(storage_));
    } else {
      result.error = std::move(error_);
    }
    return result;
  }

 private:
  bool Parse() {
    internal::EnvelopeResult envelope = internal::ReadEnvelope(raw_, lenient_);
    if (!envelope.envelope) {
      error_ = std::move(envelope.error);
      return false;
    }
    const std::string_view in = envelope.envelope->message;
    encoding_ = envelope.envelope->encoding;
    d_ = envelope.envelope->delimiters;
    charset_ = envelope.envelope->charset;
    BuildKindTable();
    storage_ = std::make_unique<MessageStorage>();
    storage_->delimiters = d_;
    Reserve(in.size());
    // Values without escapes or non-ASCII bytes are read in place from this copy; decoded ones
    // are appended after it.
    storage_->text.assign(in);
    base_ = in.data();
    size_t pos = 0;
    while (pos < in.size()) {
      size_t end = 0;
      if (IsBlankUpToLineEnd(in, pos, &end)) {
        pos = end + 1;  // blank lines between or after segments are common in files
        continue;
      }
      if (!ParseSegment(in, &pos)) return false;
      if (lenient_) return true;  // the MSH segment is all a lenient read wants
      ++pos;
    }
    return lenient_ || CheckEnvelope();
  }

  void Reserve(size_t n) {
    MessageStorage& s = *storage_;
    s.text.reserve(n + (charset_ == Charset::kLatin1 ? n : n / 8));
    s.values.reserve(n / 16 + 16);
    s.components.reserve(n / 16 + 16);
    s.repetitions.reserve(n / 32 + 16);
    s.fields.reserve(n / 32 + 16);
    s.segments.reserve(n / 128 + 4);
  }

  void BuildKindTable() {
    kind_[static_cast<uint8_t>(d_.field)] = kField;
    kind_[static_cast<uint8_t>(d_.component)] = kComponent;
    if (d_.repetition != '\0') kind_[static_cast<uint8_t>(d_.repetition)] = kRepetition;
    if (d_.subcomponent != '\0') kind_[static_cast<uint8_t>(d_.subcomponent)] = kSubcomponent;
    kind_['\r'] = kSegmentEnd;
    kind_['\n'] = kSegmentEnd;
    if (d_.escape != '\0') kind_[static_cast<uint8_t>(d_.escape)] = kSpecial;
    for (size_t b = 0x80; b < kind_.size(); ++b) kind_[b] = kSpecial;
  }

  bool ParseSegment(std::string_view in, size_t* pos) {
    MessageStorage& s = *storage_;
    size_t name_end = *pos;
    while (name_end < in.size() && kind_[static_cast<uint8_t>(in[name_end])] <= kSpecial &&
           name_end - *pos < 4) {
      ++name_end;
    }
    const std::string_view name = in.substr(*pos, name_end - *pos);
    const bool ends_well = name_end == in.size() || in[name_end] == d_.field ||
                           in[name_end] == '\r' || in[name_end] == '\n';
    if (!IsSegmentId(name) || !ends_well) {
      return Fail(Hl7ErrorCode::kSegmentSequenceError,
                  "segment " + std::to_string(s.segments.size() + 1) +
                      " has no valid segment id ('" +
                      internal::PrintableExcerpt(in.substr(*pos, 8)) + "')",
                  "", 0);
    }
    const bool is_msh = name == "MSH";
    if (is_msh && !s.segments.empty()) {
      return Fail(Hl7ErrorCode::kSegmentSequenceError,
                  "second MSH segment: one message per frame, batches are not accepted", "MSH", 2);
    }
    if (s.segments.size() >= options_.max_segments) {
      return Fail(Hl7ErrorCode::kApplicationInternalError,
                  "more than " + std::to_string(options_.max_segments) + " segments", "", 0);
    }
    const uint32_t key = (uint32_t{static_cast<uint8_t>(name[0])} << 16) |
                         (uint32_t{static_cast<uint8_t>(name[1])} << 8) |
                         uint32_t{static_cast<uint8_t>(name[2])};
    seg_name_ = name;
    seg_sequence_ = ++sequences_[key];
    seg_first_field_ = s.fields.size();
    *pos = name_end;
    if (is_msh) {
      AddLiteralField(in.substr(3, 1));
      AddLiteralField(encoding_);
      *pos = 4 + encoding_.size();
    }
    if (*pos < in.size() && in[*pos] == d_.field) {
      ++*pos;
      field_no_ = is_msh ? 3 : 1;
      if (!ScanFields(in, pos)) return false;
    }
    s.segments.push_back(internal::MessageBuilder::MakeSegment(
        storage_.get(), name, seg_sequence_, static_cast<uint32_t>(seg_first_field_),
        static_cast<uint32_t>(s.fields.size() - seg_first_field_)));
    return true;
  }

  // The hot loop: one table lookup per byte, values decoded as their end is found.
  bool ScanFields(std::string_view in, size_t* pos) {
    if (!OpenField()) return false;
    size_t value_start = *pos;
    uint8_t special = 0;
    for (size_t i = *pos; i < in.size(); ++i) {
      const uint8_t kind = kind_[static_cast<uint8_t>(in[i])];
      if (kind <= kSpecial) {
        special |= kind;
        continue;
      }
      if (!AddValue(in.substr(value_start, i - value_start), special != 0)) return false;
      value_start = i + 1;
      special = 0;
      if (kind == kSubcomponent) continue;
      Close(storage_->components, storage_->values.size());
      if (kind == kComponent) {
        Open(storage_->components, storage_->values.size());
        ++component_no_;
        continue;
      }
      Close(storage_->repetitions, storage_->components.size());
      if (kind == kRepetition) {
        Open(storage_->repetitions, storage_->components.size());
        Open(storage_->components, storage_->values.size());
        component_no_ = 1;
        continue;
      }
      Close(storage_->fields, storage_->repetitions.size());
      if (kind == kSegmentEnd) {
        *pos = i;
        return true;
      }
      ++field_no_;
      if (!OpenField()) return false;
    }
    if (!AddValue(in.substr(value_start), special != 0)) return false;
    Close(storage_->components, storage_->values.size());
    Close(storage_->repetitions, storage_->components.size());
    Close(storage_->fields, storage_->repetitions.size());
    *pos = in.size();
    return true;
  }

  static void Open(std::vector<Node>& level, size_t first_child) {
    level.push_back(Node{static_cast<uint32_t>(first_child), 0});
  }
  static void Close(std::vector<Node>& level, size_t children_end) {
    level.back().count = static_cast<uint32_t>(children_end - level.back().first);
  }

  bool OpenField() {
    MessageStorage& s = *storage_;
    if (s.fields.size() - seg_first_field_ >= options_.max_fields_per_segment) {
      return FailHere(Hl7ErrorCode::kApplicationInternalError,
                      "more than " + std::to_string(options_.max_fields_per_segment) +
                          " fields in one segment");
    }
    Open(s.fields, s.repetitions.size());
    Open(s.repetitions, s.components.size());
    Open(s.components, s.values.size());
    component_no_ = 1;
    return true;
  }

  bool AddValue(std::string_view raw, bool needs_decoding) {
    MessageStorage& s = *storage_;
    if (s.values.size() >= options_.max_values) {
      return FailHere(Hl7ErrorCode::kApplicationInternalError,
                      "more than " + std::to_string(options_.max_values) + " values");
    }
    const size_t offset = s.text.size();
    if (!needs_decoding) {
      s.values.push_back({Offset(raw), static_cast<uint32_t>(raw.size())});
      return true;
    }
    if (!internal::AppendDecoded(raw, d_, charset_, s.text)) {
      if (!lenient_) {
        return FailHere(Hl7ErrorCode::kDataTypeError,
                        charset_ == Charset::kUtf8
                            ? "value is not valid UTF-8"
                            : "value is neither ASCII nor UTF-8; MSH-18 must name its charset");
      }
      internal::SanitizeUtf8(s.text, offset);
    }
    s.values.push_back(
        {static_cast<uint32_t>(offset), static_cast<uint32_t>(s.text.size() - offset)});
    return true;
  }

  // Where a piece of the input sits in the copy at the start of the text buffer.
  uint32_t Offset(std::string_view piece) const {
    return static_cast<uint32_t>(piece.data() - base_);
  }

  // MSH-1 and MSH-2 are the delimiters themselves: stored as one plain value each.
  void AddLiteralField(std::string_view text) {
    MessageStorage& s = *storage_;
    Open(s.fields, s.repetitions.size());
    Open(s.repetitions, s.components.size());
    Open(s.components, s.values.size());
    s.values.push_back({Offset(text), static_cast<uint32_t>(text.size())});
    Close(s.components, s.values.size());
    Close(s.repetitions, s.components.size());
    Close(s.fields, s.repetitions.size());
  }

  bool CheckEnvelope() {
    const Segment& msh = storage_->segments.front();
    if (msh.Value(9).empty()) {
      return FailAtMsh(9, Hl7ErrorCode::kRequiredFieldMissing, "MSH-9 message type missing");
    }
    if (msh.Value(10).empty()) {
      return FailAtMsh(10, Hl7ErrorCode::kRequiredFieldMissing, "MSH-10 control id missing");
    }
    if (msh.Value(11).empty()) {
      return FailAtMsh(11, Hl7ErrorCode::kRequiredFieldMissing, "MSH-11 processing id missing");
    }
    const std::string_view version = msh.Value(12);
    if (version.empty()) {
      return FailAtMsh(12, Hl7ErrorCode::kRequiredFieldMissing, "MSH-12 version id missing");
    }
    if (!IsSupportedVersion(version)) {
      return FailAtMsh(
          12, Hl7ErrorCode::kUnsupportedVersionId,
          "version '" + internal::PrintableExcerpt(version) + "' is not supported (2.3 or later)");
    }
    return true;
  }

  bool Fail(Hl7ErrorCode code, std::string message, std::string segment, int sequence,
            int field = 0, int component = 0) {
    error_ = Hl7Error{std::move(segment), sequence, field, component, code, std::move(message)};
    return false;
  }
  bool FailAtMsh(int field, Hl7ErrorCode code, std::string message) {
    return Fail(code, std::move(message), "MSH", 1, field);
  }
  bool FailHere(Hl7ErrorCode code, std::string message) {
    return Fail(code, std::move(message), std::string(seg_name_), static_cast<int>(seg_sequence_),
                field_no_, component_no_);
  }

  std::string_view raw_;
  Hl7ParseOptions options_;
  const bool lenient_;
  std::unique_ptr<MessageStorage> storage_;
  Hl7Error error_;
  Delimiters d_;
  std::string_view encoding_;
  const char* base_ = nullptr;  // start of the input after any byte-order mark
  Charset charset_ = Charset::kAscii;
  std::array<uint8_t, 256> kind_{};
  std::unordered_map<uint32_t, uint32_t> sequences_;
  // Where the scanner is, for error locations.
  std::string_view seg_name_;
  uint32_t seg_sequence_ = 0;
  size_t seg_first_field_ = 0;
  int field_no_ = 0;
  int component_no_ = 0;
};

}  // namespace

bool IsSupportedVersion(std::string_view version) {
  if (!version.starts_with("2.")) return false;
  size_t pos = 2;
  for (bool first = true; first || pos < version.size(); first = false) {
    if (!first && version[pos++] != '.') return false;
    int number = 0;
    size_t digits = 0;
    while (pos < version.size() && version[pos] >= '0' && version[pos] <= '9' && digits < 4) {
      number = number * 10 + (version[pos++] - '0');
      ++digits;
    }
    if (digits == 0 || (first && number < 3)) return false;
  }
  return true;
}

Hl7ParseResult ParseHl7Detailed(std::string_view raw, const Hl7ParseOptions& options) {
  return Parser(raw, options, /*lenient=*/false).Run();
}

Result<Hl7Message> ParseHl7(std::string_view raw, const Hl7ParseOptions& options) {
  Hl7ParseResult result = ParseHl7Detailed(raw, options);
  if (!result.ok())
    return InvalidArgumentError("HL7 v2 message refused: " + result.error.ToString());
  return std::move(*result.message);
}

namespace internal {

std::optional<Hl7Message> ParseMshLenient(std::string_view raw) {
  Hl7ParseResult result = Parser(raw, Hl7ParseOptions{}, /*lenient=*/true).Run();
  return std::move(result.message);
}

}  // namespace internal
}  // namespace eds::ingest::hl7
