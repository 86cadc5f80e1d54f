// Shared helpers for the MLLP listener tests: options for a loopback listener on an ephemeral
// port with short, bounded timeouts, and a runner for client threads that collects failures.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ingest/mllp/listener.h"
#include "tests/ingest/mllp/mllp_test_client.h"

namespace eds::ingest::testing {

MllpListenerOptions LoopbackOptions();

// How long a test waits for the listener to close a connection it should close.
inline constexpr std::chrono::milliseconds kCloseWait{3000};

// Connects to the listener; fails the current test (and returns nullptr) when it cannot.
std::unique_ptr<MllpTestClient> ConnectOrNull(uint16_t port, const MllpClientOptions& options = {});

// Starts a listener; fails the current test (and returns nullptr) when it cannot.
std::unique_ptr<MllpListener> StartListener(const MllpListenerOptions& options, Hl7Sink& sink);

// Runs body(i) on `n` threads and waits for them; returns every failure message they reported.
// A body reports failures by returning a non-empty string.
std::vector<std::string> RunClients(int n, const std::function<std::string(int)>& body);

// Polls `condition` until it holds or `within` passes; returns its last value. For counters that
// the listener updates just after the client could already observe the effect.
bool WaitFor(const std::function<bool()>& condition,
             std::chrono::milliseconds within = std::chrono::milliseconds(3000));

// Sends `count` messages with control ids "<prefix>-<k>" one after the other, each waiting for
// its ACK, and checks every ACK; returns "" or what went wrong first.
std::string ExchangeMany(MllpTestClient& client, const std::string& prefix, int count,
                         size_t message_size = 300);

}  // namespace eds::ingest::testing
