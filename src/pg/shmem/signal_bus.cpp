#include "pg/shmem/signal_bus.hpp"

#include "core/common/json_writer.h"
#include "core/runtime/agent_catalog.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/persist/state_file.hpp"
#include "pg/shmem/shmem_registry.hpp"

extern "C" {
#include "access/xlog.h"
#include "commands/async.h"
}

namespace rubberduck::pg {
namespace {

constexpr const char *kTranche = "rubberduck_signals";

struct SignalBus {
    LWLock *lock;
    uint64_t next_seq;
    uint64_t cursor[core::runtime::kAgentCount];
    SignalEntry ring[kSignalRingSize];
};

SignalBus *bus = nullptr;

void request() {
    RequestAddinShmemSpace(MAXALIGN(sizeof(SignalBus)));
    RequestNamedLWLockTranche(kTranche, 1);
}

void startup() {
    bool found = false;
    bus = static_cast<SignalBus *>(ShmemInitStruct("rubberduck signal bus", sizeof(SignalBus), &found));
    if (found) return;
    std::memset(bus, 0, sizeof(SignalBus));
    bus->lock = &(GetNamedLWLockTranche(kTranche))->lock;
    bus->next_seq = 1;
}

// Lasting part: the ring and the cursors, so recent signals and what each agent has seen survive a restart.
constexpr uint32_t kSectionVersion = 1;

void save(core::ByteWriter &out) {
    auto *copy = static_cast<SignalBus *>(palloc(sizeof(SignalBus)));
    if (IsUnderPostmaster) LWLockAcquire(bus->lock, LW_SHARED);
    std::memcpy(copy, bus, sizeof(SignalBus));
    if (IsUnderPostmaster) LWLockRelease(bus->lock);
    out.put<uint32_t>(kSignalRingSize);
    out.put<uint32_t>(sizeof(SignalEntry));
    out.put(copy->next_seq);
    for (auto c : copy->cursor) out.put(c);
    out.put_bytes(copy->ring, sizeof copy->ring);
    pfree(copy);
}

void load(uint32_t version, core::ByteReader &in) {
    if (version != kSectionVersion) throw std::invalid_argument("unsupported signal section version");
    if (in.get<uint32_t>() != kSignalRingSize || in.get<uint32_t>() != sizeof(SignalEntry))
        throw std::invalid_argument("signal ring layout changed");
    uint64_t next = in.get<uint64_t>();
    uint64_t cursors[core::runtime::kAgentCount];
    for (auto &c : cursors) c = in.get<uint64_t>();
    in.get_bytes(bus->ring, sizeof bus->ring);
    bus->next_seq = next;
    std::memcpy(bus->cursor, cursors, sizeof cursors);
    for (auto &e : bus->ring) {  // never trust text from disk to be terminated
        e.kind[kSignalKindLen - 1] = '\0';
        e.payload[kSignalPayloadLen - 1] = '\0';
    }
}

const char *agent_label(int agent) {
    if (agent == kSignalFromUser) return "user";
    if (agent < 0 || agent >= core::runtime::kAgentCount) return nullptr;
    return core::runtime::kAgents[agent].name.data();
}

void mirror_to_notify(const SignalEntry &e) {
    if (!IsTransactionState() || RecoveryInProgress()) return;
    std::string json;
    GuardFailure failure;
    run_catching(
        [&] {
            core::JsonObject o;
            o.add("seq", static_cast<int64_t>(e.seq))
                .add("kind", e.kind)
                .add("from", agent_label(e.from_agent));
            if (e.to_agent >= 0)
                o.add("to", agent_label(e.to_agent));
            else
                o.add_raw("to", "null");
            o.add_raw("payload", e.payload);
            json = o.str();
        },
        failure);
    if (!failure.failed) Async_Notify("rubberduck", json.c_str());
}

}  // namespace

void register_signal_bus() {
    register_shmem_client({"signal_bus", request, startup});
    register_shmem_state_section({"signals", kSectionVersion, save, load});
}

uint64_t publish_signal(int from_agent, int to_agent, const char *kind, const char *payload_json) {
    if (!bus) return 0;
    SignalEntry entry;
    std::memset(&entry, 0, sizeof entry);
    entry.at = GetCurrentTimestamp();
    entry.from_agent = from_agent;
    entry.to_agent = to_agent;
    strlcpy(entry.kind, kind, sizeof entry.kind);
    if (!payload_json || !*payload_json) payload_json = "{}";
    if (std::strlen(payload_json) >= sizeof entry.payload)
        snprintf(entry.payload, sizeof entry.payload, "{\"truncated\":true,\"bytes\":%zu}",
                 std::strlen(payload_json));
    else
        strlcpy(entry.payload, payload_json, sizeof entry.payload);

    LWLockAcquire(bus->lock, LW_EXCLUSIVE);
    entry.seq = bus->next_seq++;
    bus->ring[entry.seq % kSignalRingSize] = entry;
    LWLockRelease(bus->lock);
    mirror_to_notify(entry);
    return entry.seq;
}

std::vector<SignalEntry> consume_signals(int agent) {
    std::vector<SignalEntry> out;
    if (!bus || agent < 0 || agent >= core::runtime::kAgentCount) return out;
    auto *copy = static_cast<SignalEntry *>(palloc(sizeof(SignalEntry) * kSignalRingSize));
    int n = 0;
    LWLockAcquire(bus->lock, LW_EXCLUSIVE);
    uint64_t from = bus->cursor[agent];
    uint64_t oldest = bus->next_seq > kSignalRingSize ? bus->next_seq - kSignalRingSize : 1;
    for (uint64_t seq = std::max(from + 1, oldest); seq < bus->next_seq; ++seq) {
        const SignalEntry &e = bus->ring[seq % kSignalRingSize];
        if (e.seq != seq || e.from_agent == agent) continue;
        if (e.to_agent == kSignalBroadcast || e.to_agent == agent) copy[n++] = e;
    }
    bus->cursor[agent] = bus->next_seq - 1;
    LWLockRelease(bus->lock);
    out.assign(copy, copy + n);
    pfree(copy);
    return out;
}

std::vector<SignalEntry> list_signals() {
    std::vector<SignalEntry> out;
    if (!bus) return out;
    auto *copy = static_cast<SignalEntry *>(palloc(sizeof(SignalEntry) * kSignalRingSize));
    int n = 0;
    LWLockAcquire(bus->lock, LW_SHARED);
    uint64_t oldest = bus->next_seq > kSignalRingSize ? bus->next_seq - kSignalRingSize : 1;
    for (uint64_t seq = oldest; seq < bus->next_seq; ++seq) {
        const SignalEntry &e = bus->ring[seq % kSignalRingSize];
        if (e.seq == seq) copy[n++] = e;
    }
    LWLockRelease(bus->lock);
    out.assign(copy, copy + n);
    pfree(copy);
    return out;
}

uint64_t signal_cursor(int agent) {
    if (!bus || agent < 0 || agent >= core::runtime::kAgentCount) return 0;
    LWLockAcquire(bus->lock, LW_SHARED);
    uint64_t c = bus->cursor[agent];
    LWLockRelease(bus->lock);
    return c;
}

void reset_signals() {
    if (!bus) return;
    LWLockAcquire(bus->lock, LW_EXCLUSIVE);
    std::memset(bus->ring, 0, sizeof bus->ring);
    for (auto &c : bus->cursor) c = bus->next_seq - 1;
    LWLockRelease(bus->lock);
}

}  // namespace rubberduck::pg
