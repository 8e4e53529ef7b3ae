// Directives of guarded migration execution (rubberduck.migration_lock_timeout is the analysis/guard area's
// directive, shared) (rubberduck.migrate, the migration agent's watch). Defined from
// register_migration_exec() (preloaded only); without preloading migrate() falls back to the same defaults.
#include "pg/migration/executor.hpp"

namespace rubberduck::pg::migration {

MigrationExecDirectives migration_exec_directives;

void define_migration_exec_directives() {
    DefineCustomIntVariable("rubberduck.migration_lock_retries",
                            "How many times a migration is retried after its lock_timeout expired.", nullptr,
                            &migration_exec_directives.lock_retries, 5, 0, 100, PGC_SUSET, 0, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable(
        "rubberduck.migration_watch_window",
        "How long the migration agent watches query latency on migrated tables (0 = never).", nullptr,
        &migration_exec_directives.watch_window_ms, 5 * 60 * 1000, 0, 7 * 24 * 3600 * 1000, PGC_SUSET,
        GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomRealVariable(
        "rubberduck.migration_max_regression",
        "Latency ratio (after/before) on migrated tables above which the migration agent "
        "runs down_sql automatically.",
        nullptr, &migration_exec_directives.max_regression, 1.5, 1.01, 1000.0, PGC_SUSET, 0, nullptr, nullptr,
        nullptr);
    DefineCustomIntVariable("rubberduck.migration_watch_min_calls",
                            "Calls of queries on the migrated tables needed before the watch may judge a "
                            "regression.",
                            nullptr, &migration_exec_directives.watch_min_calls, 20, 1, 1000000000,
                            PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable(
        "rubberduck.migration_watch_min_delta",
        "Minimum growth of the mean latency per call (ms) before the watch calls it a regression.",
        "Sub-millisecond queries swing by several times under unrelated load; a ratio alone "
        "would roll back harmless migrations.",
        &migration_exec_directives.watch_min_delta_ms, 0.5, 0.0, 1e6, PGC_SIGHUP, 0, nullptr, nullptr,
        nullptr);
}

}  // namespace rubberduck::pg::migration
