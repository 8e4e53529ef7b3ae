// Directives of the migration-safety area (docs/directives.md, "Migrations"). Plain C variables with their
// defaults, so analyze_migration() works the same when the library is not preloaded (the GUCs are then not
// defined and the defaults apply).
#pragma once

namespace rubberduck::pg {

enum class MigrationGuardMode { Off = 0, Warn = 1, Enforce = 2 };

struct MigrationDirectives {
    int guard = static_cast<int>(MigrationGuardMode::Warn);  // rubberduck.migration_guard
    char *allow = nullptr;                                   // rubberduck.migration_allow (USERSET)
    int lock_timeout_ms = 5000;                              // rubberduck.migration_lock_timeout; 0 = never
    // Throughput overrides (rows or bytes per second); 0 = the calibrated figure if any, else the default.
    double rewrite_rows_per_sec = 0;
    double rewrite_bytes_per_sec = 0;
    double scan_rows_per_sec = 0;
    double scan_bytes_per_sec = 0;
    double index_build_rows_per_sec = 0;
    double fk_validate_rows_per_sec = 0;
    double dml_rows_per_sec = 0;
    // Severity thresholds (AnalyzerOptions).
    int warning_lock_ms = 1000;
    int danger_lock_ms = 10000;
    double large_table_rows = 1e6;
    double large_dml_rows = 100000;
};

extern MigrationDirectives migration_directives;

void define_migration_directives();  // from register_migration_analysis() (preloaded only)

// Is `rule` listed in rubberduck.migration_allow (comma-separated rule ids, or "all")?
bool migration_rule_allowed(const char *rule);

}  // namespace rubberduck::pg
