#include "pg/functions/reset_registry.hpp"

#include "pg/postgres.hpp"
#include "pg/shmem/runtime_registry.hpp"
#include "pg/shmem/signal_bus.hpp"
#include "pg/workers/crash_journal.hpp"

namespace rubberduck::pg {
namespace {

struct ResetTarget {
    const char *name;
    ResetFn fn;
};
constexpr int kMaxTargets = 24;
ResetTarget targets[kMaxTargets];
int target_count = 0;

void reset_errors() {
    RuntimeShared *rs = runtime_shared();
    if (!rs) return;
    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    for (auto &a : rs->agents) {
        a.last_error[0] = '\0';
        a.last_error_at = 0;
        a.errors = 0;
        a.restarts = 0;
    }
    for (auto &s : rs->skills) {
        s.last_error[0] = '\0';
        s.errors = 0;
    }
    LWLockRelease(rs->lock);
}

void reset_crash_guard() {
    reset_crash_journal();
    RuntimeShared *rs = runtime_shared();
    if (!rs) return;
    LWLockAcquire(rs->lock, LW_EXCLUSIVE);
    rs->crash_guard_tripped = false;
    rs->crash_guard_reason[0] = '\0';
    for (auto &a : rs->agents)
        if (a.pid == 0) a.note[0] = '\0';
    int32_t pid = rs->launcher_pid, procno = rs->launcher_procno;
    LWLockRelease(rs->lock);
    wake_process(pid, procno);  // the launcher starts the agents again at once
}

void reset_actions() {
    SPI_connect();
    SPI_execute("TRUNCATE rubberduck.actions", false, 0);
    SPI_finish();
}

}  // namespace

void register_reset_target(const char *name, ResetFn fn) {
    for (int i = 0; i < target_count; ++i)
        if (strcmp(targets[i].name, name) == 0) return;  // _PG_init may run again after a failed load
    if (target_count < kMaxTargets) targets[target_count++] = {name, fn};
}

void register_runtime_reset_targets() {
    register_reset_target("signals", reset_signals);
    register_reset_target("errors", reset_errors);
    register_reset_target("crash_guard", reset_crash_guard);
    register_reset_target("actions", reset_actions);
}

void run_reset(const char *what) {
    bool all = strcmp(what, "all") == 0;
    bool matched = false;
    for (int i = 0; i < target_count; ++i) {
        if (all || strcmp(targets[i].name, what) == 0) {
            targets[i].fn();
            matched = true;
        }
    }
    if (matched) return;
    StringInfoData names;
    initStringInfo(&names);
    appendStringInfoString(&names, "all");
    for (int i = 0; i < target_count; ++i) appendStringInfo(&names, ", %s", targets[i].name);
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown reset target \"%s\"", what),
                    errhint("Valid targets: %s.", names.data)));
}

}  // namespace rubberduck::pg
