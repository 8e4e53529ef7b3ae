// Directives of autonomous indexing (rubberduck.indexing_*), defined with the other indexing directives.
#include "pg/index/index_autonomy.hpp"
#include "pg/postgres.hpp"

namespace rubberduck::pg {

IndexAutonomyDirectives index_autonomy_directives;

void define_index_autonomy_directives() {
    DefineCustomRealVariable(
        "rubberduck.indexing_regression_threshold",
        "Slow-down of any statement on the table that makes the agent revert an index it built.",
        "0.30 = a statement 30% slower per call (and by more than 0.05 ms) over the verify window.",
        &index_autonomy_directives.regression_threshold, 0.30, 0.0, 100.0, PGC_SIGHUP, 0, nullptr, nullptr,
        nullptr);
    DefineCustomRealVariable(
        "rubberduck.indexing_verify_min_improvement",
        "Measured latency drop the affected statements need for an autonomously built index to be kept.",
        "0.10 = the call-weighted mean latency of the statements the advice predicted to improve must be 10% "
        "lower over the verify window than before the build.",
        &index_autonomy_directives.verify_min_improvement, 0.10, 0.0, 1.0, PGC_SIGHUP, 0, nullptr, nullptr,
        nullptr);
    DefineCustomIntVariable(
        "rubberduck.indexing_verify_min_calls",
        "Calls of the affected statements needed in a verify window to judge an index.",
        "With fewer, the window is extended (at most 3 times), then the index is reverted.",
        &index_autonomy_directives.verify_min_calls, 20, 1, INT_MAX, PGC_SIGHUP, 0, nullptr, nullptr,
        nullptr);
    DefineCustomIntVariable("rubberduck.indexing_lock_timeout",
                            "lock_timeout of the agent's CREATE/DROP INDEX statements (and revert_action).",
                            "0 waits forever.", &index_autonomy_directives.lock_timeout_ms, 5000, 0, INT_MAX,
                            PGC_SIGHUP, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("rubberduck.indexing_statement_timeout",
                            "statement_timeout of the agent's CREATE INDEX CONCURRENTLY builds.", "0 = none.",
                            &index_autonomy_directives.statement_timeout_ms, 3600000, 0, INT_MAX, PGC_SIGHUP,
                            GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "rubberduck.indexing_retry_after",
        "How long advice whose index was reverted or whose build failed is not built again.",
        "After it the advice turns stale and is advised again if the advisor still finds it worth it; -1 = "
        "never.",
        &index_autonomy_directives.retry_after_s, 7 * 86400, -1, INT_MAX, PGC_SIGHUP, GUC_UNIT_S, nullptr,
        nullptr, nullptr);
    DefineCustomBoolVariable(
        "rubberduck.indexing_act_on_health",
        "In autonomous mode, drop the invalid and duplicate indexes rubberduck.index_health reports.",
        "Off by default: the agent never drops an index it did not create. Never primary-key, unique or "
        "constraint indexes.",
        &index_autonomy_directives.act_on_health, false, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
}

}  // namespace rubberduck::pg
