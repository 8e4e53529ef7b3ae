// The query_optimization skill of the query_optimizer agent, and the registration of its whole area
// (shared memory, hooks, directives, reset target, lasting state).
#pragma once

#include "pg/skills/skill.hpp"

namespace rubberduck::pg {

void register_query_optimizer();  // from register_extension_parts (preloaded only)
SkillRun query_optimization_runner();

}  // namespace rubberduck::pg
