// The indexing skill of the data_persistence agent (advice part): observed predicates + exemplars + relation
// statistics → core candidate generator → greedy selector whose cost requests are answered by the what-if
// planner (whatif_cost, planning each exemplar as the user who ran it) → rubberduck.index_advice and
// rubberduck.index_advice_queries (stable ids per index definition). Autonomous builds:
// pg/index/index_autonomy.hpp.
#pragma once

#include "pg/skills/skill.hpp"

namespace rubberduck::pg {

SkillRun indexing_runner();

}  // namespace rubberduck::pg
