#include "pg/guc/index_directives.hpp"

#include "core/index/maintenance_window.h"
#include "pg/boundary/cpp_guard.hpp"

namespace rubberduck::pg {

IndexDirectives index_directives;

namespace {

// Check hook: never ereport (R36); the core parser runs under the guard.
bool check_maintenance_window(char **newval, void **, GucSource) {
    GuardFailure failure;
    run_catching([&] { core::index::parse_maintenance_window(*newval ? *newval : ""); }, failure);
    if (!failure.failed) return true;
    GUC_check_errmsg("%s", failure.message);
    GUC_check_errhint("Use '' (any time) or ranges like '01:00-05:00' or '22:00-04:00, 12:00-13:00'.");
    return false;
}

}  // namespace

void define_index_directives() {
    DefineCustomIntVariable("rubberduck.indexing_max_indexes",
                            "Maximum number of indexes the indexing skill recommends or builds.", nullptr,
                            &index_directives.max_indexes, 20, 0, 1000, PGC_SIGHUP, 0, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable("rubberduck.indexing_storage_budget",
                            "Total size the recommended/built indexes may take; -1 means no budget.", nullptr,
                            &index_directives.storage_budget_mb, -1, -1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MB,
                            nullptr, nullptr, nullptr);
    DefineCustomRealVariable("rubberduck.indexing_min_improvement",
                             "Fraction of the observed workload's cost an advised index set must save.",
                             "0.05 = 5%; below it nothing is recommended.", &index_directives.min_improvement,
                             0.05, 0.0, 1.0, PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("rubberduck.indexing_verify_window",
                            "How long an autonomously built index is measured before it is kept or reverted.",
                            nullptr, &index_directives.verify_window_s, 600, 1, 30 * 86400, PGC_SIGHUP,
                            GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "rubberduck.indexing_maintenance_window",
        "When autonomous index builds may start: '' (any time) or 'HH:MM-HH:MM[, ...]'.",
        "Server local time; a range may wrap midnight.", &index_directives.maintenance_window, "", PGC_SIGHUP,
        0, check_maintenance_window, nullptr, nullptr);
    DefineCustomIntVariable("rubberduck.indexing_unused_window",
                            "Minimum age of the scan counters before index_health calls an index unused.",
                            "The counters' age is now() - pg_stat_database.stats_reset (or the server start "
                            "when never reset).",
                            &index_directives.unused_window_s, 7 * 86400, 0, INT_MAX, PGC_SUSET, GUC_UNIT_S,
                            nullptr, nullptr, nullptr);
}

}  // namespace rubberduck::pg
