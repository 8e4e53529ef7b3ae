// The signal bus: typed messages between agents (DESIGN.md §2) in a bounded shared-memory ring that
// overwrites the oldest entry when full. Each agent has a cursor; consume() returns what is new for it
// (addressed to it or broadcast) and advances the cursor. Every published signal is also mirrored to NOTIFY
// rubberduck (JSON payload) when the publisher is inside a transaction on a primary.
//
// Locking protocol: one LWLock (tranche "rubberduck_signals"). Exclusive to publish or advance a cursor,
// shared to list. Entries are copied in/out under the lock; JSON formatting happens outside it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg/postgres.hpp"

namespace rubberduck::pg {

constexpr int kSignalRingSize = 256;
constexpr int kSignalKindLen = 48;
constexpr int kSignalPayloadLen = 1024;
constexpr int kSignalFromUser = -2;  // published from SQL by a user
constexpr int kSignalBroadcast = -1;

struct SignalEntry {
    uint64_t seq;  // 1-based, increasing; 0 = empty slot
    TimestampTz at;
    int32_t from_agent;  // agent index, or kSignalFromUser
    int32_t to_agent;    // agent index, or kSignalBroadcast
    char kind[kSignalKindLen];
    char payload[kSignalPayloadLen];  // JSON object text
};

void register_signal_bus();  // _PG_init

// payload_json must be a JSON object; one longer than the slot is replaced by {"truncated":true,...}.
uint64_t publish_signal(int from_agent, int to_agent, const char *kind, const char *payload_json);
std::vector<SignalEntry> consume_signals(int agent);  // advances the agent's cursor
std::vector<SignalEntry> list_signals();              // oldest first
uint64_t signal_cursor(int agent);                    // last seq the agent consumed
void reset_signals();

}  // namespace rubberduck::pg
