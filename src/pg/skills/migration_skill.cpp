// migration_safety skill, analysis side: drains the migration guard's DDL ring into rubberduck.ddl_log every
// cycle (observation: runs in every mode, never on a hot standby).
#include "pg/migration/ddl_log.hpp"
#include "pg/skills/skill.hpp"

namespace rubberduck::pg {

void run_migration_safety(CycleContext &ctx, core::runtime::Mode, SkillOutcome &outcome) {
    if (ctx.read_only) {
        set_text(outcome.note, sizeof outcome.note, "hot standby: DDL log not drained");
        return;
    }
    uint64_t lost = 0;
    int n = migration::drain_ddl_log(&lost);
    if (lost > 0)
        ereport(WARNING, (errmsg("rubberduck: %llu guarded DDL records were overwritten before they were logged",
                                 static_cast<unsigned long long>(lost)),
                          errhint("The ring holds %d records; the migration agent drains it every cycle.",
                                  migration::kDdlRingSize)));
    if (n > 0) ereport(DEBUG1, (errmsg("rubberduck: %d guarded DDL statement(s) logged", n)));
    set_text(outcome.note, sizeof outcome.note,
             "analysis and guard built; drains guarded DDL into rubberduck.ddl_log (migrate() not built yet)");
}

}  // namespace rubberduck::pg
