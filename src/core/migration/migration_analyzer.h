// Migration-safety analysis: statement descriptions + catalog facts in, one or more findings per statement
// out. This is the core of rubberduck.analyze_migration(sql) (DESIGN.md §3, "Migrations").
#pragma once
#include "core/common/no_postgres.h"

#include <optional>
#include <string>
#include <vector>

#include "core/migration/lock_modes.h"
#include "core/migration/statement_model.h"

namespace rubberduck::core::migration {

enum class Severity : int { Info = 0, Warning = 1, Danger = 2, Error = 3 };
const char *severity_name(Severity s);  // "info" | "warning" | "danger" | "error"

struct MigrationFinding {
    int statement_no = 0;   // 1-based position in the migration
    std::string statement;  // the statement text
    std::string relation;   // display name ("public.orders"), empty when none
    std::string rule;       // stable snake_case id; "ok" when nothing is wrong
    Severity severity = Severity::Info;
    std::optional<LockMode> lock_mode;  // strongest lock the session holds on `relation` while it runs
    bool rewrites_table = false;
    bool scans_table = false;
    double est_duration_ms = 0;  // estimated time the statement holds its lock (its own work)
    std::string message;
    std::string safer_alternative;  // SQL; empty when none exists

    std::string lock_mode_name() const;  // "" when no lock
};

// Severity thresholds on the estimated time a lock that blocks writes (or reads) is held:
// below warning_lock_ms -> info, below danger_lock_ms -> warning, above -> danger. Locks that block neither
// reads nor writes (SHARE UPDATE EXCLUSIVE and weaker) are info whatever their duration.
struct AnalyzerOptions {
    double warning_lock_ms = 1000;   // 1 s of blocked writes is noticeable by an OLTP application
    double danger_lock_ms = 10000;   // 10 s starts to exhaust connection pools and time out requests
    double large_table_rows = 1e6;   // SHARE+ on such a table also needs a lock_timeout
    double large_dml_rows = 100000;  // UPDATE/DELETE touching more rows should be batched
    // Fraction of rows an UPDATE/DELETE with a WHERE clause is assumed to touch when no estimate is given
    // (PostgreSQL's default selectivity for an inequality, DEFAULT_INEQ_SEL).
    double default_where_selectivity = 1.0 / 3.0;
};

// Analyses a whole migration in order. Throws std::invalid_argument when `statements` is empty.
std::vector<MigrationFinding> analyze(const std::vector<StatementDescription> &statements,
                                      const CatalogFacts &facts, const AnalyzerOptions &options = {});

}  // namespace rubberduck::core::migration
