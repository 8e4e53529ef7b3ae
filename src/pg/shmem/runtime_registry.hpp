// Shared-memory registry of the runtime: the launcher, each agent's slot and each skill's counters.
//
// Locking protocol: one LWLock (tranche "rubberduck_runtime") protects everything here. Shared to read
// (views), exclusive to write; writers are the launcher and agents, once per cycle or state change, so
// contention is nil. Copy out under the lock, format after releasing it. No C++ allocation and no ereport
// while it is held.
#pragma once

#include <cstdint>

#include "core/runtime/agent_catalog.h"
#include "pg/postgres.hpp"

namespace rubberduck::pg {

enum class AgentState : int32_t { NotRunning = 0, Starting, Running, Idle, Disabled, Restarting };
const char *agent_state_name(AgentState state);

constexpr int kErrorTextLen = 512;
constexpr int kNoteLen = 256;

struct AgentSlot {
    int32_t pid;
    int32_t procno;  // for SetLatch; -1 when not running
    AgentState state;
    int64_t cycles;
    TimestampTz last_cycle_at;
    double last_cycle_ms;
    char last_error[kErrorTextLen];
    TimestampTz last_error_at;
    int64_t errors;
    int32_t restarts;
    int32_t consecutive_failures;
    TimestampTz started_at;
    char note[kNoteLen];   // why it is idle/disabled/not running, or "hot standby: observing only"
    char fault_fired[64];  // debug_inject_fault value that already fired (fires once per value)
};

struct SkillSlot {
    int64_t runs;
    int64_t errors;
    TimestampTz last_run_at;
    double last_run_ms;
    bool enabled;      // as seen by its agent at its last cycle
    bool implemented;  // false while the skill's real work has not been built
    char note[kNoteLen];
    char last_error[kErrorTextLen];
};

struct RuntimeShared {
    LWLock *lock;
    int32_t launcher_pid;
    int32_t launcher_procno;
    TimestampTz launcher_started_at;
    bool crash_guard_tripped;
    char crash_guard_reason[kErrorTextLen];
    char launcher_note[kNoteLen];
    AgentSlot agents[core::runtime::kAgentCount];
    SkillSlot skills[core::runtime::kSkillCount];
};

void register_runtime_registry();  // _PG_init
RuntimeShared *runtime_shared();   // nullptr when not preloaded

// Convenience writers (take the lock themselves).
void set_agent_state(core::runtime::AgentId agent, AgentState state, const char *note);
void set_text(char *dst, size_t cap, const char *src);  // bounded copy, always terminated

// Wakes an agent (or the launcher with agent = -1) through its latch.
bool wake_process(int32_t pid, int32_t procno);

}  // namespace rubberduck::pg
