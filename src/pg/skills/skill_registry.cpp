// Which run step each skill of the catalog (core/runtime/agent_catalog.h) has.
#include "pg/skills/skill.hpp"
#include "pg/skills/indexing.hpp"
#include "pg/skills/query_optimization.hpp"

namespace rubberduck::pg {
namespace {

// A skill whose real work is not built yet does nothing and says so in rubberduck.skills: it never pretends.
void run_not_built(CycleContext &, core::runtime::Mode, SkillOutcome &outcome) {
    outcome.implemented = false;
    set_text(outcome.note, sizeof outcome.note, "not built yet: this skill does nothing in this version");
}

}  // namespace

void run_migration_safety(CycleContext &ctx, core::runtime::Mode mode, SkillOutcome &outcome);

SkillRun skill_runner(int skill_index) {
    switch (skill_index) {
        case 0:
            return query_optimization_runner();
        case 5:  // migration_safety
            return run_migration_safety;
        case 1:
            return indexing_runner();
        default:
            return run_not_built;
    }
}

}  // namespace rubberduck::pg
