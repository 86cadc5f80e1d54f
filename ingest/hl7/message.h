// Hl7Message: one parsed HL7 v2 message. Every value is already decoded to UTF-8 with escape
// sequences resolved; the message owns all of it (one text buffer plus index arrays), so the
// string_views it returns stay valid as long as the message lives, also across moves.
// Move-only; immutable after parsing, so concurrent readers are safe.
//
//   Get("PID-3")        PID-3, first repetition, first component (Terser-style paths)
//   Get("PID-3(2).1")   second repetition of PID-3, component 1
//   Get("OBX(3)-5.1.2") third OBX, field 5, component 1, sub-component 2
// Absent segments, fields, repetitions or components read as "". MSH-1 is the field separator
// and MSH-2 the encoding characters, numbered as in the standard.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eds::ingest::hl7 {

namespace internal {
struct MessageStorage;
struct MessageBuilder;
}  // namespace internal

// The delimiters of one message (MSH-1 and MSH-2). '\0' marks one the message does not declare.
struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  char truncation = '\0';  // v2.7+; data, never a separator
};

// MSH-9: message code, trigger event, message structure.
struct MessageType {
  std::string_view code;       // e.g. "ADT"
  std::string_view trigger;    // e.g. "A01"
  std::string_view structure;  // e.g. "ADT_A01" (empty before v2.3.1)
};

// One segment; owned by its Hl7Message, which must outlive it. Positions are 1-based.
class Segment {
 public:
  std::string_view name() const { return {name_.data(), name_.size()}; }
  // Occurrence among the message's segments with the same name, 1-based.
  int sequence() const { return static_cast<int>(sequence_); }
  int field_count() const { return static_cast<int>(field_count_); }
  int RepetitionCount(int field) const;
  int ComponentCount(int field, int repetition = 1) const;
  int SubComponentCount(int field, int repetition, int component) const;
  // The decoded value at that position, or "" when absent.
  std::string_view Value(int field, int repetition = 1, int component = 1,
                         int subcomponent = 1) const;
  // The whole field re-encoded with the message's delimiters (escaping what needs it), as it
  // would appear on the wire in the message's own character set before conversion.
  std::string EncodeField(int field) const;

 private:
  friend struct internal::MessageBuilder;
  Segment() = default;  // only the parser makes segments

  const internal::MessageStorage* storage_ = nullptr;
  std::array<char, 3> name_{};
  uint32_t sequence_ = 0;
  uint32_t first_field_ = 0;
  uint32_t field_count_ = 0;
};

class Hl7Message {
 public:
  Hl7Message(Hl7Message&& other) noexcept;
  Hl7Message& operator=(Hl7Message&& other) noexcept;
  Hl7Message(const Hl7Message&) = delete;
  Hl7Message& operator=(const Hl7Message&) = delete;
  ~Hl7Message();

  const Delimiters& delimiters() const;
  // All segments in message order; the first is MSH.
  std::span<const Segment> segments() const;
  // The `occurrence`-th segment named `name` (1-based), or nullptr.
  const Segment* FindSegment(std::string_view name, int occurrence = 1) const;
  std::vector<const Segment*> Segments(std::string_view name) const;
  // Value at an HL7 path (see the header comment); "" when absent or when the path is malformed.
  std::string_view Get(std::string_view path) const;

  MessageType message_type() const;
  std::string_view control_id() const;     // MSH-10
  std::string_view processing_id() const;  // MSH-11.1, e.g. "P"
  std::string_view version() const;        // MSH-12.1, e.g. "2.5.1"
  std::string_view charset() const;        // MSH-18 (first repetition) as declared; "" = ASCII

 private:
  friend struct internal::MessageBuilder;
  explicit Hl7Message(std::unique_ptr<internal::MessageStorage> storage);

  std::unique_ptr<internal::MessageStorage> storage_;
};

}  // namespace eds::ingest::hl7
