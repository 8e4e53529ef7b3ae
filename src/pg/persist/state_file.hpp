// Lasting state (DESIGN.md §5): versioned, checksummed files under pg_stat/ (core/state/state_codec). A
// missing file is a fresh start; a truncated, corrupt or wrong-version file is a WARNING and a fresh start,
// never a crash.
//
// Two owners write state files:
//  - shared memory's sections (query statistics, signal bus, runtime counters) go to
//  pg_stat/rubberduck_agents.state,
//    loaded by the postmaster when it creates shared memory and written at clean shutdown and periodically by
//    the launcher;
//  - an agent's process-local learning goes to pg_stat/rubberduck_agents.<agent>.state, written by that
//  agent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/bytes.h"
#include "core/runtime/agent_catalog.h"
#include "core/state/state_codec.h"
#include "pg/postgres.hpp"

namespace rubberduck::pg {

struct StateSectionProvider {
    const char *name;
    uint32_t version;
    // Copy the state out and encode it. Under the postmaster: take the client's LWLock, copy POD, release,
    // encode. In the postmaster itself (shutdown dump; it has no PGPROC and runs alone then): read without
    // the lock.
    void (*save)(core::ByteWriter &out);
    // Restore (in the postmaster, before any backend exists: no lock) from a payload of the given version;
    // throw std::invalid_argument if it cannot.
    void (*load)(uint32_t version, core::ByteReader &in);
};

void register_shmem_state_section(const StateSectionProvider &provider);  // from _PG_init only

void load_shmem_state();                         // postmaster, right after shared memory is created
void shmem_state_dump_at_exit(int code, Datum);  // on_shmem_exit in the postmaster
bool save_shmem_state();                         // any attached process (the launcher, periodically)

// Process-local learning of one agent (baselines, detectors' state): saved by that agent at exit and
// periodically, loaded when it starts. save/load run in the agent process, on its own memory (no lock
// needed).
void register_agent_state_section(core::runtime::AgentId agent,
                                  const StateSectionProvider &provider);  // _PG_init
void load_agent_state(core::runtime::AgentId agent);
bool save_agent_state(core::runtime::AgentId agent);

std::string shmem_state_path();
std::string agent_state_path(const char *agent_name);

// Encode and write atomically (temp file, fsync, rename). Returns false (and logs a WARNING) on I/O failure.
bool write_state_file(const std::string &path, const core::state::StateSections &sections);
// nullopt when the file is missing (quietly) or unreadable/corrupt (with a WARNING naming the problem).
std::optional<core::state::StateSections> read_state_file(const std::string &path);

}  // namespace rubberduck::pg
