// Guarded migration execution, PostgreSQL side (issue #5): rubberduck.migrate(), rollback_migration(), the
// executor worker that runs queued migrations and statements refusing a transaction block, and the pieces the
// migration agent's skill (src/pg/skills/migration_safety.cpp) shares with them. Everything here is PG regime
// (palloc'd plain data, may ereport); decisions are made by src/core/migration/execution.h through cpp_guard.
#pragma once

#include "pg/postgres.hpp"

namespace rubberduck::pg::migration {

struct MigrationExecDirectives {
    int lock_retries = 5;
    int watch_window_ms = 5 * 60 * 1000;
    double max_regression = 1.5;
    int watch_min_calls = 20;
    double watch_min_delta_ms = 0.5;
};
extern MigrationExecDirectives migration_exec_directives;
void define_migration_exec_directives();

constexpr int kMigrationAgentIndex = 2;  // core/runtime/agent_catalog.h AgentId::Migration
constexpr int kMigrationSkillIndex = 5;  // migration_safety

// One statement of a migration as the raw parser split it.
struct MigStatement {
    int no;          // 1-based
    char *sql;       // its text
    bool top_level;  // refuses a transaction block
    bool txn_control;
};
struct MigPlan {
    int n = 0;
    MigStatement *stmts = nullptr;
    int n_not_valid = 0;  // constraints the migration adds NOT VALID on purpose
    char **not_valid_names = nullptr;
    bool not_valid_unnamed = false;  // ... some of them without a name
};
// ERROR 0A000 for ROLLBACK/SAVEPOINT/PREPARE TRANSACTION inside a migration.
void plan_migration(const char *sql, MigPlan *plan);
bool plan_needs_top_level(const MigPlan *plan);

// migrate()'s options after validation (rubberduck._migration_options).
struct MigOptions {
    bool async = false;
    int lock_timeout_ms = 5000;
    int lock_retries = 5;
    int watch_ms = 0;
    double max_regression = 1.5;
    int n_allow = 0;
    char **allow = nullptr;
    int n_expect = 0;
    char **expect_row_changes = nullptr;
    bool expect_any = false;
    bool allow_not_valid = false;
};
void read_options(const char *options_json, MigOptions *opts);  // SPI connected

// A table the migration touches (from the analysis) that exists before it runs.
struct TouchedTable {
    Oid oid;
    char *name;    // regclass text
    int lockmode;  // 1..8 (lockdefs.h) or 0 when the analysis names no lock
    double reltuples;
};
struct MigAnalysis {
    char *analysis_json = nullptr;  // jsonb text of the analysis rows
    double predicted_ms = 0;
    char *refusals = nullptr;  // danger/error findings not allowed by options.allow; NULL when none
    int n_tables = 0;
    TouchedTable *tables = nullptr;
};
void analyze_for_execution(const char *up_sql, const MigOptions *opts, const char *search_path,
                           MigAnalysis *out);  // SPI connected
// options.expect_row_changes resolved to schema-qualified names with the migration's search_path.
void normalize_expected_tables(MigOptions *opts, const char *search_path);

// What one run of a transactional segment did.
struct SegmentReport {
    double elapsed_ms = 0;
    int statements = 0;
};

// Runs statements [first, last) of the plan (all transactional) in the current (sub)transaction: takes the
// analysis' locks up front under lock_timeout, counts rows, runs each statement with the caller's
// search_path, then checks integrity. Raises ERROR on any failure (the caller rolls the (sub)transaction
// back). SPI connected.
void run_transactional_statements(const MigPlan *plan, int first, int last, const MigAnalysis *analysis,
                                  const MigOptions *opts, const char *search_path, SegmentReport *report);

// Records the post-migration watch baseline for the touched tables: jsonb text for the ledger's watch column.
char *watch_baseline_json(const MigAnalysis *analysis, const MigOptions *opts);

// Runs down_sql in a subtransaction with retries (rollback_migration, the agent). NULL on success, else the
// error message (nothing of down_sql remains).
char *run_down_sql(const char *down_sql, const char *options_json, const char *search_path, int *attempts);

// Starts the executor worker for a queued version (the migration agent calls it). false if no slot.
bool launch_executor(const char *version, Oid dboid, const char *role, int *pid_out);

// Worker-side entry (executor_worker.cpp) for writing a ledger row in its own transaction and waiting for it.
bool record_ledger_out_of_band(const char *row_json);

// Milliseconds since start.
double ms_since(TimestampTz start);

void register_migration_exec();  // from register_extension_parts()

}  // namespace rubberduck::pg::migration
