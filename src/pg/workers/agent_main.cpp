// One agent = one dynamic background worker (R40). It waits on its latch for its interval, reloads directives
// on SIGHUP, and runs a cycle: one short transaction in which each enabled skill runs in its own
// subtransaction with its own snapshot (the cycle holds none between skills, R42). A PostgreSQL ERROR
// anywhere in the cycle is caught (R43): logged, counted, the transaction aborted, and the agent backs off
// and goes on. It never crashes: C++ exceptions are turned into ERRORs at every crossing (R6).
#include <string>
#include <vector>

#include "core/runtime/cycle_policy.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/guc/directives.hpp"
#include "pg/persist/state_file.hpp"
#include "pg/skills/skill.hpp"
#include "pg/workers/agent_process.hpp"
#include "pg/workers/crash_journal.hpp"

extern "C" {
#include "access/xlog.h"
#include "commands/extension.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/resowner.h"
}

namespace rubberduck::pg {

bool in_agent_process = false;

namespace {

namespace rt = core::runtime;

rt::AgentId my_agent;
MemoryContext agent_context = nullptr;  // lives as long as the agent
MemoryContext cycle_context = nullptr;  // reset after every cycle
TimestampTz last_local_save = 0;

AgentSlot &my_slot() {
    return runtime_shared()->agents[static_cast<int>(my_agent)];
}

void agent_exit_callback(int, Datum) {
    save_agent_state(my_agent);
    journal_agent_exit();
    if (auto *rs = runtime_shared()) {
        LWLockAcquire(rs->lock, LW_EXCLUSIVE);
        auto &slot = my_slot();
        if (slot.pid == MyProcPid) {
            slot.pid = 0;
            slot.procno = -1;
            slot.state = AgentState::NotRunning;
        }
        LWLockRelease(rs->lock);
    }
}

void record_cycle_error(const char *message) {
    auto *rs = runtime_shared();
    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    auto &slot = my_slot();
    set_text(slot.last_error, sizeof slot.last_error, message);
    slot.last_error_at = GetCurrentTimestamp();
    slot.errors++;
    slot.consecutive_failures++;
    slot.state = AgentState::Idle;
    LWLockRelease(rs->lock);
}

// debug_inject_fault: fires once per distinct value, so an injected exit does not repeat after the restart.
void maybe_inject_fault() {
    const char *value = directives.debug_inject_fault ? directives.debug_inject_fault : "";
    std::optional<rt::FaultInjection> fault;
    cpp_guard([&] { fault = rt::parse_fault(value); });
    auto *rs = runtime_shared();
    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    bool fire = fault && fault->agent == my_agent && strcmp(my_slot().fault_fired, value) != 0;
    if (fire || !fault) set_text(my_slot().fault_fired, sizeof my_slot().fault_fired, value);
    LWLockRelease(rs->lock);
    if (!fire) return;
    switch (fault->kind) {
        case rt::FaultKind::Error:
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                            errmsg("rubberduck_agents: injected error (debug_inject_fault)")));
            break;
        case rt::FaultKind::Exception:
            cpp_guard([] {
                throw std::runtime_error("rubberduck_agents: injected C++ exception (debug_inject_fault)");
            });
            break;
        case rt::FaultKind::Exit:
            ereport(LOG, (errmsg("rubberduck_agents: %s exiting on purpose (debug_inject_fault)",
                                 rt::agent_name(my_agent).data())));
            proc_exit(1);
    }
}

void run_skill(CycleContext &ctx, const rt::SkillInfo &skill) {
    auto *rs = runtime_shared();
    SkillSlot &slot = rs->skills[skill.index];
    if (!skill_enabled(skill.index)) {
        LWLockAcquire(rs->lock, LW_EXCLUSIVE);
        slot.enabled = false;
        set_text(slot.note, sizeof slot.note, "disabled by rubberduck.skills");
        LWLockRelease(rs->lock);
        return;
    }
    SkillOutcome outcome;
    char error[kErrorTextLen] = {0};
    TimestampTz start = GetCurrentTimestamp();
    MemoryContext oldcontext = CurrentMemoryContext;
    ResourceOwner oldowner = CurrentResourceOwner;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(oldcontext);
    PG_TRY();
    {
        // Each skill gets a fresh snapshot at its own subtransaction level (READ COMMITTED), so the cycle
        // holds no snapshot between skills; on an ERROR the subtransaction abort pops it (R42).
        PushActiveSnapshot(GetTransactionSnapshot());
        skill_runner(skill.index)(ctx, skill_mode(skill.index), outcome);
        // (A skill that released its snapshot gives one back; never pop an empty stack.)
        if (ActiveSnapshotSet()) PopActiveSnapshot();
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcontext);
        CurrentResourceOwner = oldowner;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(oldcontext);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcontext);
        CurrentResourceOwner = oldowner;
        strlcpy(error, edata->message ? edata->message : "unknown error", sizeof error);
        ereport(LOG, (errmsg("rubberduck_agents: skill %s failed: %s", skill.name.data(), error)));
        FreeErrorData(edata);
    }
    PG_END_TRY();
    long secs;
    int usecs;
    TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);

    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    slot.enabled = true;
    slot.implemented = outcome.implemented;
    slot.last_run_at = start;
    slot.last_run_ms = secs * 1000.0 + usecs / 1000.0;
    if (error[0]) {
        slot.errors++;
        set_text(slot.last_error, sizeof slot.last_error, error);
    } else {
        slot.runs++;
        set_text(slot.note, sizeof slot.note, outcome.note);
    }
    LWLockRelease(rs->lock);
}

void run_cycle() {
    auto *rs = runtime_shared();
    TimestampTz start = GetCurrentTimestamp();
    bool read_only = RecoveryInProgress();
    char note[kNoteLen] = {0};

    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    SPI_connect();
    pgstat_report_activity(STATE_RUNNING, "rubberduck agent cycle");

    maybe_inject_fault();

    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    uint64_t cycle_number = static_cast<uint64_t>(my_slot().cycles) + 1;
    my_slot().state = AgentState::Running;
    LWLockRelease(rs->lock);

    if (!OidIsValid(get_extension_oid("rubberduck_agents", true))) {
        snprintf(note, sizeof note,
                 "extension not created in database \"%s\": run CREATE EXTENSION rubberduck_agents",
                 directives.database);
    } else {
        std::vector<SignalEntry> signals =
            cpp_guard([] { return consume_signals(static_cast<int>(my_agent)); });
        CycleContext ctx{my_agent, read_only, start, cycle_number, &signals};
        for (const auto &skill : rt::kSkills)
            if (skill.agent == my_agent) run_skill(ctx, skill);
        if (read_only) strlcpy(note, "hot standby: observing and advising only, never writing", sizeof note);
    }

    SPI_finish();
    CommitTransactionCommand();
    pgstat_report_activity(STATE_IDLE, nullptr);

    long secs;
    int usecs;
    TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    auto &slot = my_slot();
    slot.cycles = static_cast<int64_t>(cycle_number);
    slot.last_cycle_at = start;
    slot.last_cycle_ms = secs * 1000.0 + usecs / 1000.0;
    slot.consecutive_failures = 0;
    slot.state = AgentState::Idle;
    set_text(slot.note, sizeof slot.note, note);
    LWLockRelease(rs->lock);
}

void run_cycle_guarded() {
    MemoryContext old = MemoryContextSwitchTo(cycle_context);
    PG_TRY();
    { run_cycle(); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(agent_context);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        AbortCurrentTransaction();
        pgstat_report_activity(STATE_IDLE, nullptr);
        ereport(LOG, (errmsg("rubberduck_agents: %s cycle failed: %s", rt::agent_name(my_agent).data(),
                             edata->message ? edata->message : "unknown error")));
        record_cycle_error(edata->message ? edata->message : "unknown error");
        FreeErrorData(edata);
    }
    PG_END_TRY();
    MemoryContextSwitchTo(old);
    MemoryContextReset(cycle_context);
}

void wait_for(int64_t ms) {
    int rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, static_cast<long>(ms),
                       PG_WAIT_EXTENSION);
    (void)rc;
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending) {
        ConfigReloadPending = false;
        ProcessConfigFile(PGC_SIGHUP);
    }
}

}  // namespace
}  // namespace rubberduck::pg

using namespace rubberduck::pg;

RD_EXPORT void rubberduck_agent_main(Datum main_arg) {
    int index = DatumGetInt32(main_arg);
    if (index < 0 || index >= rubberduck::core::runtime::kAgentCount) proc_exit(0);
    my_agent = static_cast<rubberduck::core::runtime::AgentId>(index);
    const char *name = rubberduck::core::runtime::agent_name(my_agent).data();

    journal_agent_start(name);  // first: an abnormal death from here on counts towards the crash-loop guard
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    install_quit_handler();
    BackgroundWorkerUnblockSignals();
    before_shmem_exit(agent_exit_callback, 0);
    in_agent_process = true;

    BackgroundWorkerInitializeConnection(directives.database, nullptr, 0);
    std::string appname = std::string("rubberduck ") + name;
    pgstat_report_appname(appname.c_str());
    // Agents' own planning never needs parallel workers, and must not take slots from the workload (R46).
    SetConfigOption("max_parallel_workers_per_gather", "0", PGC_SUSET, PGC_S_OVERRIDE);
    // Cycles rely on READ COMMITTED: every GetTransactionSnapshot() is fresh, so long skills can take short
    // snapshots instead of holding one transaction snapshot (and the xmin horizon) for the whole cycle (R42).
    SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);

    agent_context = AllocSetContextCreate(TopMemoryContext, "rubberduck agent", ALLOCSET_DEFAULT_SIZES);
    cycle_context = AllocSetContextCreate(agent_context, "rubberduck cycle", ALLOCSET_DEFAULT_SIZES);

    auto *rs = runtime_shared();
    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    auto &slot = my_slot();
    slot.pid = MyProcPid;
    slot.procno = MyProc->pgprocno;
    slot.started_at = GetCurrentTimestamp();
    slot.state = AgentState::Idle;
    slot.consecutive_failures = 0;
    LWLockRelease(rs->lock);

    load_agent_state(my_agent);
    last_local_save = GetCurrentTimestamp();

    for (;;) {
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        if (!directives.enabled) {
            set_agent_state(my_agent, AgentState::Disabled, "rubberduck.enabled = off");
            wait_for(directives.naptime_ms);
            continue;
        }
        run_cycle_guarded();
        if (TimestampDifferenceExceeds(last_local_save, GetCurrentTimestamp(),
                                       directives.state_save_interval_s * 1000)) {
            save_agent_state(my_agent);
            last_local_save = GetCurrentTimestamp();
        }
        LWLockAcquire(rs->lock, LW_SHARED);
        int failures = my_slot().consecutive_failures;
        LWLockRelease(rs->lock);
        wait_for(rubberduck::core::runtime::next_wait_ms(agent_interval_ms(my_agent), failures));
    }
}
