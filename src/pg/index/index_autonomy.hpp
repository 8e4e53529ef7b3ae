// Autonomous indexing (issue 4, "Autonomy"): the data_persistence agent's indexing skill builds advised
// indexes one at a time with CREATE INDEX CONCURRENTLY in a short-lived background worker ("rubberduck index
// builder"), verifies each over rubberduck.indexing_verify_window and drops (DROP INDEX CONCURRENTLY) what
// does not help. State lives in rubberduck.actions / rubberduck.index_advice (see
// extension/parts/32_index_autonomy.sql for the phases), so it survives restarts.
#pragma once

#include <cstdint>

#include "core/runtime/directive_parser.h"
#include "pg/skills/skill.hpp"

namespace rubberduck::pg {

struct IndexAutonomyDirectives {
    double regression_threshold = 0.30;    // rubberduck.indexing_regression_threshold
    double verify_min_improvement = 0.10;  // rubberduck.indexing_verify_min_improvement
    int verify_min_calls = 20;             // rubberduck.indexing_verify_min_calls
    int lock_timeout_ms = 5000;            // rubberduck.indexing_lock_timeout
    int statement_timeout_ms = 3600000;    // rubberduck.indexing_statement_timeout
    bool act_on_health = false;            // rubberduck.indexing_act_on_health
    int retry_after_s = 7 * 86400;         // rubberduck.indexing_retry_after (-1 = never)
};

extern IndexAutonomyDirectives index_autonomy_directives;

void define_index_autonomy_directives();

// Called from the indexing skill's run step (PG regime, SPI connected, inside the cycle's transaction). Runs
// in its own internal subtransaction: an error here is logged as a WARNING and never stops the advisor.
void run_index_autonomy(CycleContext &ctx, core::runtime::Mode mode, SkillOutcome &outcome);

// Starts a builder worker for an action ('build' | 'drop' | 'cleanup'); returns its pid or 0.
int launch_index_worker(int64_t action_id, const char *job);

}  // namespace rubberduck::pg
