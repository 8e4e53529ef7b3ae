// migration_safety skill, analysis side: drains the migration guard's DDL ring into rubberduck.ddl_log every
// cycle (observation: runs in every mode, never on a hot standby).
#include "pg/migration/ddl_log.hpp"
#include "pg/skills/skill.hpp"

namespace rubberduck::pg {

// Execution side (src/pg/skills/migration_safety.cpp): queued migrations, crashed executors, post-migration
// watch.
void run_migration_execution(CycleContext &ctx, core::runtime::Mode mode, SkillOutcome &outcome);

void run_migration_safety(CycleContext &ctx, core::runtime::Mode mode, SkillOutcome &outcome) {
    if (ctx.read_only) {
        set_text(outcome.note, sizeof outcome.note, "hot standby: DDL log not drained");
        return;
    }
    uint64_t lost = 0;
    int n = migration::drain_ddl_log(&lost);
    if (lost > 0)
        ereport(WARNING,
                (errmsg("rubberduck: %llu guarded DDL records were overwritten before they were logged",
                        static_cast<unsigned long long>(lost)),
                 errhint("The ring holds %d records; the migration agent drains it every cycle.",
                         migration::kDdlRingSize)));
    if (n > 0) ereport(DEBUG1, (errmsg("rubberduck: %d guarded DDL statement(s) logged", n)));
    // Execution side: queued migrations, crashed executors, post-migration watch.
    SkillOutcome exec_outcome;
    run_migration_execution(ctx, mode, exec_outcome);
    set_text(outcome.note, sizeof outcome.note, exec_outcome.note);
}

}  // namespace rubberduck::pg
