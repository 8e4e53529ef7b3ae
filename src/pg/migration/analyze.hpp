// The PostgreSQL side of rubberduck.analyze_migration(sql): raw parser -> StatementDescription, live catalog
// -> CatalogFacts, then the pure core rules (src/core/migration). Other adapter code (migrate(), the ledger,
// the ProcessUtility guard) calls analyze_migration_text() directly instead of going through SQL.
#pragma once

#include <string>
#include <vector>

#include "core/migration/migration_analyzer.h"
#include "core/migration/statement_model.h"

namespace rubberduck::pg::migration {

struct MigrationAnalysis {
    std::vector<core::migration::StatementDescription> statements;  // one per RawStmt, in order
    core::migration::CatalogFacts facts;                            // what was read from the catalog
    core::migration::AnalyzerOptions options;                       // thresholds used (from directives)
    std::vector<core::migration::MigrationFinding> findings;        // the result (>= 1 row per statement)

    bool has_severity(core::migration::Severity s) const {
        for (const auto &f : findings)
            if (f.severity == s) return true;
        return false;
    }
    // The analysis as a JSON array of findings (for the ledger's analysis column).
    std::string findings_json() const;
};

// PG regime (call it from PostgreSQL code, not from inside a cpp_guard lambda). Needs a transaction (it reads
// the catalog read-only; it never executes the input and never changes the catalog).
//   ERROR 22023  empty input (nothing but whitespace/comments)
//   ERROR 42601  syntax error (position = the error's cursor in `sql`; the statement is in the DETAIL)
//   ERROR 42601  a psql meta-command (a line starting with a backslash), with a HINT
// The returned object is owned by CurrentMemoryContext at the time of the call (a reset callback deletes it):
// never delete it, and do not use it after that context is reset. It is never null.
const MigrationAnalysis *analyze_migration_text(const char *sql);

}  // namespace rubberduck::pg::migration
