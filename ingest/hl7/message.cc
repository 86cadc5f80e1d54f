#include "ingest/hl7/message.h"

#include <utility>

#include "ingest/hl7/internal/message_storage.h"
#include "ingest/hl7/internal/text_codec.h"

namespace eds::ingest::hl7 {
namespace {

using internal::MessageStorage;
using internal::Node;

// The `index`-th (1-based) child of `parent` in `children`, or nullptr.
template <typename T>
const T* Child(const std::vector<T>& children, const Node* parent, int index) {
  if (parent == nullptr || index < 1 || static_cast<uint32_t>(index) > parent->count) {
    return nullptr;
  }
  const size_t at = size_t{parent->first} + static_cast<size_t>(index - 1);
  return at < children.size() ? &children[at] : nullptr;
}

// Reads a positive decimal number at path[*pos]; 0 when there is none or it is absurdly large.
int ReadNumber(std::string_view path, size_t* pos) {
  int value = 0;
  size_t digits = 0;
  while (*pos < path.size() && path[*pos] >= '0' && path[*pos] <= '9') {
    if (++digits > 6) return 0;
    value = value * 10 + (path[*pos] - '0');
    ++*pos;
  }
  return value;
}

// Reads an optional "(n)" index; 1 when absent, 0 when malformed.
int ReadIndex(std::string_view path, size_t* pos) {
  if (*pos >= path.size() || path[*pos] != '(') return 1;
  ++*pos;
  const int n = ReadNumber(path, pos);
  if (*pos >= path.size() || path[*pos] != ')') return 0;
  ++*pos;
  return n;
}

bool IsMsh(std::string_view name) { return name == "MSH"; }

}  // namespace

int Segment::RepetitionCount(int field) const {
  const Node seg{first_field_, field_count_};
  const Node* f = Child(storage_->fields, &seg, field);
  return f == nullptr ? 0 : static_cast<int>(f->count);
}

int Segment::ComponentCount(int field, int repetition) const {
  const Node seg{first_field_, field_count_};
  const Node* r = Child(storage_->repetitions, Child(storage_->fields, &seg, field), repetition);
  return r == nullptr ? 0 : static_cast<int>(r->count);
}

int Segment::SubComponentCount(int field, int repetition, int component) const {
  const Node seg{first_field_, field_count_};
  const Node* r = Child(storage_->repetitions, Child(storage_->fields, &seg, field), repetition);
  const Node* c = Child(storage_->components, r, component);
  return c == nullptr ? 0 : static_cast<int>(c->count);
}

std::string_view Segment::Value(int field, int repetition, int component, int subcomponent) const {
  const Node seg{first_field_, field_count_};
  const Node* r = Child(storage_->repetitions, Child(storage_->fields, &seg, field), repetition);
  const Node* c = Child(storage_->components, r, component);
  const internal::Span* v = Child(storage_->values, c, subcomponent);
  return v == nullptr ? std::string_view() : storage_->ValueText(*v);
}

std::string Segment::EncodeField(int field) const {
  if (IsMsh(name()) && (field == 1 || field == 2)) return std::string(Value(field));
  const Delimiters& d = storage_->delimiters;
  std::string out;
  const int reps = RepetitionCount(field);
  for (int r = 1; r <= reps; ++r) {
    if (r > 1) out.push_back(d.repetition);
    const int comps = ComponentCount(field, r);
    for (int c = 1; c <= comps; ++c) {
      if (c > 1) out.push_back(d.component);
      const int subs = SubComponentCount(field, r, c);
      for (int s = 1; s <= subs; ++s) {
        if (s > 1) out.push_back(d.subcomponent);
        internal::AppendEscaped(Value(field, r, c, s), d, out);
      }
    }
  }
  return out;
}

Hl7Message::Hl7Message(std::unique_ptr<internal::MessageStorage> storage)
    : storage_(std::move(storage)) {}
Hl7Message::Hl7Message(Hl7Message&& other) noexcept = default;
Hl7Message& Hl7Message::operator=(Hl7Message&& other) noexcept = default;
Hl7Message::~Hl7Message() = default;

const Delimiters& Hl7Message::delimiters() const {
  static const Delimiters kDefault;
  return storage_ ? storage_->delimiters : kDefault;
}

std::span<const Segment> Hl7Message::segments() const {
  if (!storage_) return {};
  return storage_->segments;
}

const Segment* Hl7Message::FindSegment(std::string_view name, int occurrence) const {
  if (occurrence < 1) return nullptr;
  for (const Segment& s : segments()) {
    if (s.name() == name && --occurrence == 0) return &s;
  }
  return nullptr;
}

std::vector<const Segment*> Hl7Message::Segments(std::string_view name) const {
  std::vector<const Segment*> out;
  for (const Segment& s : segments()) {
    if (s.name() == name) out.push_back(&s);
  }
  return out;
}

std::string_view Hl7Message::Get(std::string_view path) const {
  size_t pos = 0;
  while (pos < path.size() && pos < 3 && path[pos] != '(' && path[pos] != '-') ++pos;
  const std::string_view name = path.substr(0, pos);
  const int occurrence = ReadIndex(path, &pos);
  if (pos >= path.size() || path[pos] != '-') return {};
  ++pos;
  const int field = ReadNumber(path, &pos);
  const int repetition = ReadIndex(path, &pos);
  int position[2] = {1, 1};  // component, sub-component
  for (int& p : position) {
    if (pos >= path.size()) break;
    if (path[pos] != '.' && path[pos] != '-') return {};
    ++pos;
    p = ReadNumber(path, &pos);
  }
  if (pos != path.size() || occurrence == 0 || field == 0 || repetition == 0) return {};
  const Segment* seg = FindSegment(name, occurrence);
  if (seg == nullptr) return {};
  return seg->Value(field, repetition, position[0], position[1]);
}

MessageType Hl7Message::message_type() const {
  const Segment* msh = FindSegment("MSH");
  if (msh == nullptr) return {};
  return {msh->Value(9, 1, 1), msh->Value(9, 1, 2), msh->Value(9, 1, 3)};
}

std::string_view Hl7Message::control_id() const {
  const Segment* msh = FindSegment("MSH");
  return msh == nullptr ? std::string_view() : msh->Value(10);
}

std::string_view Hl7Message::processing_id() const {
  const Segment* msh = FindSegment("MSH");
  return msh == nullptr ? std::string_view() : msh->Value(11);
}

std::string_view Hl7Message::version() const {
  const Segment* msh = FindSegment("MSH");
  return msh == nullptr ? std::string_view() : msh->Value(12);
}

std::string_view Hl7Message::charset() const {
  const Segment* msh = FindSegment("MSH");
  return msh == nullptr ? std::string_view() : msh->Value(18);
}

}  // namespace eds::ingest::hl7
