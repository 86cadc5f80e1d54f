// Hl7Sink: where the MLLP listener hands each framed HL7 v2 message. The sink parses, stores and
// answers: `reply` is called exactly once with the ACK message (unframed), only after the write
// is durable (or at once with an AE/AR ACK for a bad message). It may be called on another
// thread, after HandleMessage returns. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace eds::ingest {

struct PeerInfo {
  std::string address;  // remote IP address as text
  uint16_t port = 0;
  bool tls = false;
};

class Hl7Sink {
 public:
  virtual ~Hl7Sink() = default;
  virtual void HandleMessage(std::string message, const PeerInfo& peer,
                             std::function<void(std::string ack)> reply) = 0;
};

}  // namespace eds::ingest
