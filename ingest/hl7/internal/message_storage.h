// What an Hl7Message owns: the decoded text of every value in one buffer, and four flat index
// arrays (field -> repetitions -> components -> values) whose children are contiguous, so a
// parse costs a handful of allocations whatever the number of fields. Built once by the parser.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/hl7/message.h"

namespace eds::ingest::hl7::internal {

// A range of children in the next level's array.
struct Node {
  uint32_t first = 0;
  uint32_t count = 0;
};

// A value: bytes [offset, offset + length) of MessageStorage::text.
struct Span {
  uint32_t offset = 0;
  uint32_t length = 0;
};

struct MessageStorage {
  std::string text;
  std::vector<Node> fields;       // children in repetitions
  std::vector<Node> repetitions;  // children in components
  std::vector<Node> components;   // children in values
  std::vector<Span> values;
  std::vector<Segment> segments;
  Delimiters delimiters;

  std::string_view ValueText(const Span& span) const {
    return std::string_view(text).substr(span.offset, span.length);
  }
};

// The parser's door into the private parts of Segment and Hl7Message.
struct MessageBuilder {
  static Segment MakeSegment(const MessageStorage* storage, std::string_view name,
                             uint32_t sequence, uint32_t first_field, uint32_t field_count) {
    Segment s;
    s.storage_ = storage;
    for (size_t i = 0; i < s.name_.size() && i < name.size(); ++i) s.name_[i] = name[i];
    s.sequence_ = sequence;
    s.first_field_ = first_field;
    s.field_count_ = field_count;
    return s;
  }
  static Hl7Message Finish(std::unique_ptr<MessageStorage> storage) {
    return Hl7Message(std::move(storage));
  }
};

}  // namespace eds::ingest::hl7::internal
