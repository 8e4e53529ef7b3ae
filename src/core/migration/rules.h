// Internals shared by the analyzer and its rule families: the migration's evolving view of the schema, the
// per-statement rule context, and SQL rendering helpers. Not used by the PostgreSQL adapter.
#pragma once
#include "core/common/no_postgres.h"

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/migration/migration_analyzer.h"

namespace rubberduck::core::migration::detail {

// A relation as the migration has left it so far: loaded from the catalog on first use, then changed by each
// statement (columns added, constraints validated, renamed, dropped...).
struct TrackedRelation {
    RelationName name;
    std::optional<RelationName> origin;  // the catalog name it was loaded under (it may be renamed since)
    bool created_in_migration = false;
    bool dropped = false;
    bool is_view = false;
    double rows = 0;
    double bytes = 0;
    bool columns_known = false;  // false when the catalog gave no columns: column checks are skipped
    std::vector<ColumnFacts> columns;
    std::vector<std::string> added_columns;  // added by this migration (dropping/renaming them is harmless)
    std::vector<IndexFacts> indexes;
    std::vector<ConstraintFacts> constraints;
    std::vector<std::string> dependent_views;
    bool primary_key_dropped = false;  // by an earlier statement of this migration
    std::optional<LockMode> held;      // strongest lock held in the current explicit transaction

    std::string display() const { return name.display(); }
    bool existing() const { return !created_in_migration; }  // other sessions can see and use it
    ColumnFacts *column(const std::string &n);
    ConstraintFacts *constraint(const std::string &n);
    const ConstraintFacts *primary_key() const;
    bool column_added_here(const std::string &n) const;
    // A single-column key usable for batching (the primary key), else "ctid".
    std::string batch_key() const;
};

struct SessionState {
    bool in_tx = false;
    int tx_begin_no = 0;
    double tx_ms = 0;
    std::optional<double> lock_timeout_ms;        // session value; 0 = disabled
    std::optional<double> lock_timeout_local_ms;  // SET LOCAL, until the transaction ends
    std::optional<double> statement_timeout_ms;
    std::optional<double> statement_timeout_local_ms;
    int tx_ddl_stmt = 0;  // first statement in the transaction that blocked writes on an existing table
    std::string tx_ddl_relation;
    int tx_backfill_stmt = 0;  // first large UPDATE/DELETE in the transaction
    double tx_backfill_ms = 0;
    bool tx_backfill_reported = false;

    double lock_timeout() const;       // effective, 0 = none
    double statement_timeout() const;  // effective, 0 = none
    void end_transaction();
};

class MigrationState {
  public:
    explicit MigrationState(const CatalogFacts &facts) : facts_(facts) {}
    // The live relation called `name` (loaded from the catalog on first use), or nullptr if unknown or
    // dropped.
    TrackedRelation *lookup(const RelationName &name);
    // A relation created by the migration (empty).
    TrackedRelation &create(const RelationName &name);
    // The table owning index `index_name`, or nullptr.
    TrackedRelation *index_owner(const RelationName &index_name);
    std::deque<TrackedRelation> &relations() { return relations_; }
    SessionState session;

  private:
    TrackedRelation *find_tracked(const RelationName &name);
    const CatalogFacts &facts_;
    std::deque<TrackedRelation> relations_;  // deque: pointers stay valid as relations are added
};

// What a statement does to one relation.
struct RelationEffect {
    TrackedRelation *rel = nullptr;  // nullptr for unknown relations
    std::string display;
    std::optional<LockMode> lock;  // requested by this statement
    bool rewrites = false;
    bool scans = false;
    double ms = 0;
    std::vector<std::string> notes;  // explanations for the `ok` row
};

struct PendingFinding {
    std::string relation;
    std::string rule;
    Severity severity;
    std::string message;
    std::string alternative;
};

class RuleContext {
  public:
    RuleContext(const StatementDescription &s, int n, MigrationState &st, const CatalogFacts &f,
                const AnalyzerOptions &o)
        : stmt(s), no(n), state(st), facts(f), opt(o) {}

    const StatementDescription &stmt;
    int no;
    MigrationState &state;
    const CatalogFacts &facts;
    const AnalyzerOptions &opt;
    std::vector<RelationEffect> effects;
    std::vector<PendingFinding> findings;
    std::vector<std::string> statement_notes;  // for the `ok` row of statements without a relation
    double dml_rows = -1;                      // rows an UPDATE/DELETE is estimated to touch

    RelationEffect &effect(TrackedRelation *rel, const std::string &display);
    RelationEffect &effect(TrackedRelation &rel) { return effect(&rel, rel.display()); }
    void lock(TrackedRelation *rel, const std::string &display, LockMode mode);
    void note(TrackedRelation &rel, const std::string &text) { effect(rel).notes.push_back(text); }
    void add(const std::string &relation, const std::string &rule, Severity sev, const std::string &message,
             const std::string &alternative = "");
    bool has_finding(const std::string &rule) const;

    // The strongest lock held on `rel` while this statement runs (earlier statements of the transaction +
    // this).
    std::optional<LockMode> effective_lock(const TrackedRelation &rel);
    // Severity of holding `lock` for `ms`: info when it blocks neither reads nor writes.
    Severity scaled(double ms, std::optional<LockMode> lock) const;
    Severity scaled(TrackedRelation &rel, double ms) { return scaled(ms, effective_lock(rel)); }

    // Work estimates on `rel` as the migration left it.
    double rows(const TrackedRelation &rel) const;
    double rewrite_ms(const TrackedRelation &rel) const;  // heap copy + rebuild of every index
    double scan_ms(const TrackedRelation &rel) const;
    double index_build_ms(const TrackedRelation &rel) const;
    double fk_validate_ms(const TrackedRelation &rel) const;
    double dml_ms(double rows) const;
    double metadata_ms() const { return facts.throughput.metadata_ms; }
    // Existing (not created by this migration) and holding rows: where locks and rewrites hurt.
    bool populated(const TrackedRelation &rel) const { return rel.existing() && rows(rel) > 0; }
};

// ---- rule families ----------------------------------------------------------------------------------------
void analyze_index_statement(RuleContext &ctx);  // rules_index.cpp: CREATE/DROP INDEX, REINDEX
void analyze_alter_table(RuleContext &ctx);      // rules_columns.cpp: dispatches every subcommand
void analyze_constraint_cmd(RuleContext &ctx, TrackedRelation &rel,
                            const AlterTableCmd &cmd);  // rules_constraints
void analyze_table_statement(
    RuleContext &ctx);  // rules_destructive.cpp: CREATE/DROP/RENAME/TRUNCATE/VACUUM...
void analyze_session_statement(RuleContext &ctx);  // rules_session.cpp: transactions, SET, enums, DML, SELECT
void analyze_cross_cutting(RuleContext &ctx);  // rules_session.cpp: lock_timeout, statement_timeout, backfill
// rules_types.cpp: prefer_bigint, prefer_text, prefer_timestamptz, char_n for a column being defined.
void check_column_type(RuleContext &ctx, const std::string &relation, const std::string &column,
                       const TypeName &type, bool is_primary_key);

// ---- pure helpers (unit-tested)
// -----------------------------------------------------------------------------
enum class TypeChange { NoOp, BinaryCoercible, Rewrite };
// Whether ALTER COLUMN TYPE from -> to rewrites the table (tablecmds.c ATColumnChangeRequiresRewrite, PG15).
TypeChange classify_type_change(const TypeName &from, const TypeName &to, bool has_using);
// "c IS NOT NULL", "(c IS NOT NULL)", "((\"c\" IS NOT NULL))" for column c.
bool check_proves_not_null(const std::string &expression, const std::string &column);
// A SET value for a time GUC in ms ("'2s'", "500", "1min"); nullopt for DEFAULT or unparseable text.
std::optional<double> parse_duration_ms(const std::string &value);
std::string format_ms(double ms);      // "0.3 ms", "12 s", "3.5 min"
std::string format_rows(double rows);  // "250", "10M"

// ---- SQL rendering
// -----------------------------------------------------------------------------------------
std::string quote_ident(const std::string &ident);
std::string quote_rel(const RelationName &name);
std::string ident_list(const std::vector<std::string> &elements);  // "a, b, (lower(c))"
std::string render_constraint(const ConstraintDef &c);             // "FOREIGN KEY (a) REFERENCES p (id)"
std::string batched_update(const TrackedRelation &rel, const std::string &set_clause,
                           const std::string &pending);

}  // namespace rubberduck::core::migration::detail
