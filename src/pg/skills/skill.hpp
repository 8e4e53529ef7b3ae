// A skill: a unit of capability owned by an agent (DESIGN.md §2). Its run step is called once per agent
// cycle, inside the cycle's transaction (SPI connected, READ COMMITTED) and inside its own subtransaction
// with a fresh snapshot pushed at that subtransaction's level, so one failing skill never stops the others.
// Skills never handle signals, latches or transactions themselves. A skill that works for long (the index
// advisor's what-if planning) must not hold that snapshot meanwhile: see whatif_release_snapshot() (R42).
#pragma once

#include <vector>

#include "core/runtime/agent_catalog.h"
#include "core/runtime/directive_parser.h"
#include "pg/shmem/runtime_registry.hpp"
#include "pg/shmem/signal_bus.hpp"

namespace rubberduck::pg {

struct CycleContext {
    core::runtime::AgentId agent;
    bool read_only;  // hot standby: observe and advise, never write
    TimestampTz started_at;
    uint64_t cycle_number;
    const std::vector<SignalEntry> *signals;  // consumed by the agent this cycle
};

struct SkillOutcome {
    bool implemented = true;    // false: the skill has no real work yet and did nothing
    char note[kNoteLen] = {0};  // one line for rubberduck.skills.note
};

// PG regime: may ereport(ERROR) (the subtransaction is rolled back and the error counted); C++ work inside
// goes through cpp_guard.
using SkillRun = void (*)(CycleContext &ctx, core::runtime::Mode mode, SkillOutcome &outcome);

SkillRun skill_runner(int skill_index);

}  // namespace rubberduck::pg
