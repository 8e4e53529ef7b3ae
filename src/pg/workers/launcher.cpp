// The launcher: a static background worker (registered in _PG_init) that starts one dynamic worker per agent,
// restarts agents that stop (with back-off), honours rubberduck.enabled, keeps the crash-loop guard, degrades
// clearly when background-worker slots run out, and saves shared memory's learned state periodically.
#include <string>

#include "core/runtime/cycle_policy.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/guc/directives.hpp"
#include "pg/persist/state_file.hpp"
#include "pg/shmem/runtime_registry.hpp"
#include "pg/workers/crash_journal.hpp"
#include "pg/workers/launcher.hpp"

extern "C" {
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
}

namespace rubberduck::pg {
namespace {

namespace rt = core::runtime;

struct AgentHandle {
    BackgroundWorkerHandle *handle;
    TimestampTz started_at;
    TimestampTz next_start_at;
    int quick_exits;   // consecutive exits soon after start: drives the restart back-off
    bool slot_warned;  // one WARNING per shortage, not one per second
};

AgentHandle agents[rt::kAgentCount];

void set_launcher_note(const char *note) {
    auto *rs = runtime_shared();
    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    set_text(rs->launcher_note, sizeof rs->launcher_note, note);
    LWLockRelease(rs->lock);
}

bool start_agent(int i) {
    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_ConsistentState;
    worker.bgw_restart_time = BGW_NEVER_RESTART;  // the launcher restarts agents itself, with back-off
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "rubberduck_agents");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "rubberduck_agent_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "rubberduck %s", rt::kAgents[i].name.data());
    snprintf(worker.bgw_type, BGW_MAXLEN, "rubberduck %s", rt::kAgents[i].name.data());
    worker.bgw_main_arg = Int32GetDatum(i);
    worker.bgw_notify_pid = MyProcPid;

    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    bool ok = RegisterDynamicBackgroundWorker(&worker, &agents[i].handle);
    MemoryContextSwitchTo(old);
    auto id = static_cast<rt::AgentId>(i);
    if (!ok) {
        agents[i].handle = nullptr;
        char note[kNoteLen];
        snprintf(
            note, sizeof note,
            "no free background worker slot: raise max_worker_processes (now %d; rubberduck needs 5: the "
            "launcher and 4 agents, plus what parallel query uses) and restart",
            max_worker_processes);
        set_agent_state(id, AgentState::NotRunning, note);
        if (!agents[i].slot_warned)
            ereport(WARNING,
                    (errmsg("rubberduck_agents: could not start agent %s", rt::kAgents[i].name.data()),
                     errdetail("%s", note)));
        agents[i].slot_warned = true;
        // Retry later, not every second.
        agents[i].next_start_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 10 * 1000);
        return false;
    }
    agents[i].slot_warned = false;
    agents[i].started_at = GetCurrentTimestamp();
    set_agent_state(id, AgentState::Starting, "");
    return true;
}

void stop_agent(int i) {
    if (agents[i].handle) {
        TerminateBackgroundWorker(agents[i].handle);
        pfree(agents[i].handle);
        agents[i].handle = nullptr;
    }
}

// Agents left by a previous launcher (it exited, agents lived on) have no handle here: stop them (R45).
void stop_orphans() {
    auto *rs = runtime_shared();
    for (int i = 0; i < rt::kAgentCount; ++i) {
        LWLockAcquire(rs->lock, LW_SHARED);
        int32_t pid = rs->agents[i].pid;
        LWLockRelease(rs->lock);
        if (pid > 0 && kill(pid, 0) == 0) {
            ereport(LOG, (errmsg("rubberduck_agents: stopping orphaned agent %s (pid %d)",
                                 rt::kAgents[i].name.data(), pid)));
            kill(pid, SIGTERM);
        }
    }
}

void supervise() {
    auto *rs = runtime_shared();
    TimestampTz now = GetCurrentTimestamp();
    if (!directives.enabled) {
        for (int i = 0; i < rt::kAgentCount; ++i) {
            stop_agent(i);
            set_agent_state(static_cast<rt::AgentId>(i), AgentState::Disabled, "rubberduck.enabled = off");
        }
        return;
    }
    LWLockAcquire(rs->lock, LW_SHARED);
    bool tripped = rs->crash_guard_tripped;
    LWLockRelease(rs->lock);
    if (tripped) return;

    for (int i = 0; i < rt::kAgentCount; ++i) {
        AgentHandle &a = agents[i];
        if (a.handle) {
            pid_t pid;
            if (GetBackgroundWorkerPid(a.handle, &pid) != BGWH_STOPPED) continue;
            // It stopped: count a restart and back off if it keeps exiting soon after starting.
            pfree(a.handle);
            a.handle = nullptr;
            bool quick = !TimestampDifferenceExceeds(a.started_at, now, 60 * 1000);
            a.quick_exits = quick ? a.quick_exits + 1 : 0;
            a.next_start_at = TimestampTzPlusMilliseconds(now, rt::next_wait_ms(1000, a.quick_exits - 1));
            LWLockAcquire(rs->lock, LW_EXCLUSIVE);
            rs->agents[i].restarts++;
            rs->agents[i].state = AgentState::Restarting;
            if (a.quick_exits >= 3)
                set_text(rs->agents[i].note, sizeof rs->agents[i].note,
                         "agent keeps exiting right after start; see the server log (does "
                         "rubberduck.database exist?)");
            LWLockRelease(rs->lock);
        }
        if (now < a.next_start_at) continue;
        char reason[kErrorTextLen] = {0};
        if (crash_guard_tripped(reason, sizeof reason, false)) {
            LWLockAcquire(rs->lock, LW_EXCLUSIVE);
            rs->crash_guard_tripped = true;
            set_text(rs->crash_guard_reason, sizeof rs->crash_guard_reason, reason);
            for (auto &slot : rs->agents) {
                slot.state = AgentState::NotRunning;
                set_text(slot.note, sizeof slot.note, reason);
            }
            LWLockRelease(rs->lock);
            ereport(WARNING, (errmsg("rubberduck_agents: agents kept off: %s", reason)));
            return;
        }
        start_agent(i);
    }
}

}  // namespace
}  // namespace rubberduck::pg

using namespace rubberduck::pg;

RD_EXPORT void rubberduck_launcher_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    // Connected to no database (shared catalogs only), like the logical replication launcher: this makes it
    // visible in pg_stat_activity.
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
    pgstat_report_appname("rubberduck launcher");

    auto *rs = runtime_shared();
    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    rs->launcher_pid = MyProcPid;
    rs->launcher_procno = MyProc->pgprocno;
    rs->launcher_started_at = GetCurrentTimestamp();
    LWLockRelease(rs->lock);

    stop_orphans();
    char reason[kErrorTextLen] = {0};
    if (directives.enabled && crash_guard_tripped(reason, sizeof reason, true)) {
        LWLockAcquire(rs->lock, LW_EXCLUSIVE);
        rs->crash_guard_tripped = true;
        set_text(rs->crash_guard_reason, sizeof rs->crash_guard_reason, reason);
        LWLockRelease(rs->lock);
        ereport(WARNING, (errmsg("rubberduck_agents: agents kept off: %s", reason)));
    }
    set_launcher_note("");
    TimestampTz last_save = GetCurrentTimestamp();

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        supervise();
        if (TimestampDifferenceExceeds(last_save, GetCurrentTimestamp(),
                                       directives.state_save_interval_s * 1000)) {
            save_shmem_state();
            last_save = GetCurrentTimestamp();
        }
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000L, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}

namespace rubberduck::pg {

void register_launcher() {
    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    // Consistent state, not recovery finished: on a hot standby the agents observe and advise (R39).
    worker.bgw_start_time = BgWorkerStart_ConsistentState;
    worker.bgw_restart_time = 5;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "rubberduck_agents");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "rubberduck_launcher_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "rubberduck launcher");
    snprintf(worker.bgw_type, BGW_MAXLEN, "rubberduck launcher");
    RegisterBackgroundWorker(&worker);
}

}  // namespace rubberduck::pg
