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
    char note[kNoteLen];
    snprintf(note, sizeof note, "ddl_log: %d new guarded DDL statement(s) recorded", n);
    set_text(outcome.note, sizeof outcome.note, note);
}

}  // namespace rubberduck::pg
