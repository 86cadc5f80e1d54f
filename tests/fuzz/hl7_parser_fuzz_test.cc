// Fuzz target for the HL7 v2 parser and ACK builder. Any input must parse or fail cleanly; a
// parsed message must yield AA/AE/AR ACKs that parse back and echo its control id and sender;
// a refused one must still get an AR that our parser can read (except an unsupported version
// echoed from the sender). Seeds: tests/fuzz/hl7_parser_corpus/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/hl7/ack.h"
#include "ingest/hl7/parser.h"

namespace {

using eds::ingest::hl7::AckCode;
using eds::ingest::hl7::AckOptions;
using eds::ingest::hl7::Hl7Error;
using eds::ingest::hl7::Hl7ErrorCode;
using eds::ingest::hl7::Hl7Message;
using eds::ingest::hl7::Hl7ParseResult;
using eds::ingest::hl7::MakeAck;
using eds::ingest::hl7::MakeAckForUnparseable;
using eds::ingest::hl7::ParseHl7Detailed;
using eds::ingest::hl7::Segment;

void Require(bool ok, const char* what, std::string_view detail) {
  if (ok) return;
  std::fprintf(stderr, "hl7 fuzz invariant broken: %s\n%.*s\n", what,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Reads every value and re-encodes every field, so the accessors run over whatever parsed.
size_t Walk(const Hl7Message& msg) {
  size_t total = 0;
  for (const Segment& seg : msg.segments()) {
    for (int f = 1; f <= seg.field_count(); ++f) {
      total += seg.EncodeField(f).size();
      for (int r = 1; r <= seg.RepetitionCount(f); ++r) {
        for (int c = 1; c <= seg.ComponentCount(f, r); ++c) {
          for (int s = 1; s <= seg.SubComponentCount(f, r, c); ++s) {
            total += seg.Value(f, r, c, s).size();
          }
        }
      }
    }
  }
  for (const char* path : {"PID-3", "PID-3(2).4.2", "OBX(3)-5", "MSH-9.2", "PID-5.1.1"}) {
    total += msg.Get(path).size();
  }
  return total;
}

void CheckAck(const Hl7Message& original, AckCode code, const std::optional<Hl7Error>& error) {
  const AckOptions options{"ACK1", "20250101000000"};
  const std::string ack = MakeAck(original, code, error, "fuzz | ^ ~ \\ & \r\n text", options);
  Hl7ParseResult back = ParseHl7Detailed(ack);
  Require(back.ok(), "ACK of a parsed message must parse", ack);
  const Hl7Message& parsed = *back.message;
  Require(parsed.Get("MSA-2") == original.control_id(), "MSA-2 echoes MSH-10", ack);
  Require(parsed.control_id() == "ACK1", "ACK control id", ack);
  const Segment* ack_msh = parsed.FindSegment("MSH");
  const Segment* orig_msh = original.FindSegment("MSH");
  Require(ack_msh != nullptr && orig_msh != nullptr, "MSH present", ack);
  Require(ack_msh->EncodeField(3) == orig_msh->EncodeField(5), "MSH-3 is the receiver", ack);
  Require(ack_msh->EncodeField(5) == orig_msh->EncodeField(3), "MSH-5 is the sender", ack);
  Require((parsed.FindSegment("ERR") != nullptr) == (error.has_value() && code != AckCode::kAccept),
          "ERR only for AE/AR with an error", ack);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  Hl7ParseResult result = ParseHl7Detailed(raw);
  if (result.ok()) {
    const Hl7Message& msg = *result.message;
    Require(!msg.segments().empty() && msg.segments()[0].name() == "MSH", "MSH first", raw);
    if (Walk(msg) == SIZE_MAX) std::abort();  // keeps the walk from being optimised away
    const Hl7Error error{"PID", 1, 3, 1, Hl7ErrorCode::kRequiredFieldMissing, "missing | ^"};
    CheckAck(msg, AckCode::kAccept, std::nullopt);
    CheckAck(msg, AckCode::kError, error);
    CheckAck(msg, AckCode::kReject, error);
    return 0;
  }
  Require(!result.error.message.empty(), "errors explain themselves", raw);
  const std::string ack = MakeAckForUnparseable(raw, result.error, "", {"ACK2", "2025"});
  Hl7ParseResult back = ParseHl7Detailed(ack);
  Require(back.ok() || back.error.code == Hl7ErrorCode::kUnsupportedVersionId,
          "AR for a refused message must parse", ack);
  if (back.ok()) {
    Require(back.message->Get("MSA-1") == "AR", "AR", ack);
    Require(back.message->Get("ERR-3") == std::to_string(static_cast<int>(result.error.code)),
            "ERR-3 carries the parse error", ack);
  }
  return 0;
}
