// rubberduck.migrate() and rubberduck.rollback_migration(): guarded execution of a schema migration in the
// caller's transaction (DESIGN.md §3 "Migrations", issue #5).
//
// Flow of migrate(version, up_sql, down_sql, options):
//   1. one advisory transaction lock per version (two sessions migrating the same version serialise);
//   2. ledger check: applied with the same checksum -> NOTICE, no-op; different checksum -> ERROR 42710;
//   3. options validated (rubberduck._migration_options), analysis (rubberduck.analyze_migration): danger and
//      error findings refused (ERROR 55000) unless options.allow names their rule;
//   4. statements refusing a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...) or options.async: the
//      migration is queued (status pending) for the migration agent's executor worker and migrate() returns;
//   5. otherwise the statements run in a subtransaction under lock_timeout, the analysis' locks taken first;
//      a lock not granted (55P03) or a deadlock rolls the subtransaction back and retries after a backoff;
//      integrity checks run before the subtransaction is released; success writes the ledger row 'applied'
//      in the caller's transaction (atomic with the schema change); failure rolls everything back, has the
//      executor worker record a 'failed' row in its own transaction, and raises the error.
//
// Everything here is PG regime: plain palloc'd data; core decisions go through cpp_guard (R6, R9, R11).
#include <string>
#include <vector>

#include "core/migration/execution.h"
#include "core/migration/sha256.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/functions/srf.hpp"
#include "pg/migration/executor.hpp"
#include "pg/module.hpp"
#include "pg/shmem/signal_bus.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "storage/latch.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace rubberduck::pg::migration {

namespace cm = core::migration;

namespace {

const char *const kLockNames[] = {
    "",      "ACCESS SHARE",        "ROW SHARE", "ROW EXCLUSIVE",   "SHARE UPDATE EXCLUSIVE",
    "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"};

// Runs a core computation returning std::string and hands back a palloc'd copy (no C++ object stays alive in
// this frame across a PostgreSQL call).
template <typename Fn>
char *core_string(Fn &&fn) {
    std::string *s = nullptr;
    cpp_guard([&] { s = new std::string(fn()); });
    char *out = pstrdup(s->c_str());
    delete s;
    return out;
}

void spi_exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, bool read_only) {
    // read_only is ignored: a read-only SPI query reuses the outer snapshot and would miss what the
    // migration just changed (new constraints, indexes, rows); every query gets a fresh snapshot.
    (void)read_only;
    int rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
    if (rc < 0)
        elog(ERROR, "rubberduck_agents: SPI_execute failed (%s) for: %s", SPI_result_code_string(rc), sql);
}

char *spi_value(int row, int col) {
    return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

bool spi_isnull(int row, int col) {
    bool isnull;
    SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
    return isnull;
}

// text[] -> array of C strings in `cxt`.
char **text_array_strings(Datum arr, int *n, MemoryContext cxt) {
    Datum *elems;
    bool *nulls;
    int count;
    deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
    char **out = static_cast<char **>(MemoryContextAllocZero(cxt, sizeof(char *) * (count + 1)));
    int k = 0;
    for (int i = 0; i < count; ++i)
        if (!nulls[i]) out[k++] = MemoryContextStrdup(cxt, TextDatumGetCString(elems[i]));
    *n = k;
    return out;
}

bool in_list(char **list, int n, const char *s) {
    for (int i = 0; i < n; ++i)
        if (strcmp(list[i], s) == 0) return true;
    return false;
}

// Error context: which statement of which migration failed.
struct StatementErrorContext {
    const MigStatement *stmt;
};
void statement_error_callback(void *arg) {
    auto *ctx = static_cast<StatementErrorContext *>(arg);
    if (ctx->stmt) errcontext("migration statement %d: %s", ctx->stmt->no, ctx->stmt->sql);
}

bool is_top_level_only(Node *stmt) {
    switch (nodeTag(stmt)) {
        case T_IndexStmt:
            return reinterpret_cast<IndexStmt *>(stmt)->concurrent;
        case T_DropStmt:
            return reinterpret_cast<DropStmt *>(stmt)->concurrent;
        case T_ReindexStmt: {
            ListCell *lc;
            foreach (lc, reinterpret_cast<ReindexStmt *>(stmt)->params) {
                DefElem *opt = static_cast<DefElem *>(lfirst(lc));
                if (strcmp(opt->defname, "concurrently") == 0 && defGetBoolean(opt)) return true;
            }
            return false;
        }
        case T_VacuumStmt:
            return reinterpret_cast<VacuumStmt *>(stmt)->is_vacuumcmd;
        case T_ClusterStmt:
            return reinterpret_cast<ClusterStmt *>(stmt)->relation == nullptr;
        case T_AlterTableStmt: {
            ListCell *lc;
            foreach (lc, reinterpret_cast<AlterTableStmt *>(stmt)->cmds) {
                AlterTableCmd *cmd = static_cast<AlterTableCmd *>(lfirst(lc));
                if (cmd->subtype == AT_DetachPartition && cmd->def &&
                    reinterpret_cast<PartitionCmd *>(cmd->def)->concurrent)
                    return true;
            }
            return false;
        }
        case T_AlterSystemStmt:
        case T_CreatedbStmt:
        case T_DropdbStmt:
        case T_CreateTableSpaceStmt:
        case T_DropTableSpaceStmt:
        case T_CreateSubscriptionStmt:
        case T_DropSubscriptionStmt:
            return true;
        default:
            return false;
    }
}

void note_not_valid(Node *stmt, MigPlan *plan, List **names) {
    if (!IsA(stmt, AlterTableStmt)) return;
    ListCell *lc;
    foreach (lc, reinterpret_cast<AlterTableStmt *>(stmt)->cmds) {
        AlterTableCmd *cmd = static_cast<AlterTableCmd *>(lfirst(lc));
        if (cmd->subtype != AT_AddConstraint || !cmd->def || !IsA(cmd->def, Constraint)) continue;
        Constraint *con = reinterpret_cast<Constraint *>(cmd->def);
        if (!con->skip_validation) continue;
        if (con->conname)
            *names = lappend(*names, pstrdup(con->conname));
        else
            plan->not_valid_unnamed = true;
    }
}

// Lock wait between retries: on the latch, so cancel and terminate still work.
void backoff_wait(int ms) {
    if (ms <= 0) return;
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
}

int draw_backoff(int retry) {
    cm::RetryPolicy policy;
    double unit = static_cast<double>(random() % 1000) / 999.0;
    int ms = 0;
    cpp_guard([&] { ms = cm::backoff_delay_ms(policy, retry, unit); });
    return ms;
}

}  // namespace

double ms_since(TimestampTz start) {
    return static_cast<double>(GetCurrentTimestamp() - start) / 1000.0;
}

// ---- plan
// ----------------------------------------------------------------------------------------------------

void plan_migration(const char *sql, MigPlan *plan) {
    List *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
    plan->n = 0;
    plan->stmts = static_cast<MigStatement *>(palloc0(sizeof(MigStatement) * (list_length(raw) + 1)));
    List *names = NIL;
    size_t total = strlen(sql);
    ListCell *lc;
    foreach (lc, raw) {
        RawStmt *rs = lfirst_node(RawStmt, lc);
        size_t loc = rs->stmt_location > 0 ? static_cast<size_t>(rs->stmt_location) : 0;
        size_t len = rs->stmt_len > 0 ? static_cast<size_t>(rs->stmt_len) : total - loc;
        while (len > 0 && isspace(static_cast<unsigned char>(sql[loc]))) {
            loc++;
            len--;
        }
        MigStatement &st = plan->stmts[plan->n];
        st.no = plan->n + 1;
        st.sql = pnstrdup(sql + loc, len);
        if (IsA(rs->stmt, TransactionStmt)) {
            TransactionStmt *ts = reinterpret_cast<TransactionStmt *>(rs->stmt);
            if (ts->kind != TRANS_STMT_BEGIN && ts->kind != TRANS_STMT_START && ts->kind != TRANS_STMT_COMMIT)
                ereport(
                    ERROR,
                    (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                     errmsg("migration statement %d: \"%s\" is not allowed in a migration", st.no, st.sql),
                     errhint("rubberduck.migrate() runs the migration in one transaction itself; BEGIN and "
                             "COMMIT are ignored, savepoints and ROLLBACK are refused.")));
            st.txn_control = true;
        } else {
            st.top_level = is_top_level_only(rs->stmt);
            note_not_valid(rs->stmt, plan, &names);
        }
        plan->n++;
    }
    plan->n_not_valid = list_length(names);
    plan->not_valid_names = static_cast<char **>(palloc0(sizeof(char *) * (plan->n_not_valid + 1)));
    int i = 0;
    foreach (lc, names) plan->not_valid_names[i++] = static_cast<char *>(lfirst(lc));
}

bool plan_needs_top_level(const MigPlan *plan) {
    for (int i = 0; i < plan->n; ++i)
        if (plan->stmts[i].top_level) return true;
    return false;
}

// ---- options and analysis
// ------------------------------------------------------------------------------------

void read_options(const char *options_json, MigOptions *opts) {
    Oid types[1] = {JSONBOID};
    Datum values[1] = {DirectFunctionCall1(jsonb_in, CStringGetDatum(options_json))};
    spi_exec(
        "SELECT async, lock_timeout_ms, lock_retries, watch_ms, max_regression, allow, expect_row_changes, "
        "expect_any_row_changes, allow_not_valid FROM rubberduck._migration_options($1)",
        1, types, values, nullptr, true);
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    bool isnull;
    opts->async = DatumGetBool(SPI_getbinval(t, d, 1, &isnull));
    opts->lock_timeout_ms = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
    opts->lock_retries = DatumGetInt32(SPI_getbinval(t, d, 3, &isnull));
    opts->watch_ms = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
    opts->max_regression = DatumGetFloat8(SPI_getbinval(t, d, 5, &isnull));
    opts->allow = text_array_strings(SPI_getbinval(t, d, 6, &isnull), &opts->n_allow, CurrentMemoryContext);
    opts->expect_row_changes =
        text_array_strings(SPI_getbinval(t, d, 7, &isnull), &opts->n_expect, CurrentMemoryContext);
    opts->expect_any = DatumGetBool(SPI_getbinval(t, d, 8, &isnull));
    opts->allow_not_valid = DatumGetBool(SPI_getbinval(t, d, 9, &isnull));
}

int with_search_path(const char *search_path) {
    int nest = NewGUCNestLevel();
    (void)set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
    return nest;
}

void normalize_expected_tables(MigOptions *opts, const char *search_path) {
    if (opts->n_expect == 0) return;
    int nest = with_search_path(search_path);
    for (int i = 0; i < opts->n_expect; ++i) {
        Oid types[1] = {TEXTOID};
        Datum values[1] = {CStringGetTextDatum(opts->expect_row_changes[i])};
        spi_exec(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = pg_catalog.to_regclass($1)",
            1, types, values, nullptr, true);
        if (SPI_processed == 1) opts->expect_row_changes[i] = spi_value(0, 1);
    }
    AtEOXact_GUC(true, nest);
}

void analyze_for_execution(const char *up_sql, const MigOptions *opts, const char *search_path,
                           MigAnalysis *out) {
    // Names in the migration resolve with the caller's search_path, as they will when it runs.
    int nest = with_search_path(search_path);
    // The allowed rules as a text[] parameter.
    Datum *elems = static_cast<Datum *>(palloc0(sizeof(Datum) * (opts->n_allow + 1)));
    for (int i = 0; i < opts->n_allow; ++i) elems[i] = CStringGetTextDatum(opts->allow[i]);
    ArrayType *allow = construct_array(elems, opts->n_allow, TEXTOID, -1, false, TYPALIGN_INT);
    Oid types[2] = {TEXTOID, TEXTARRAYOID};
    Datum values[2] = {CStringGetTextDatum(up_sql), PointerGetDatum(allow)};
    spi_exec(
        "WITH a AS MATERIALIZED (SELECT * FROM rubberduck.analyze_migration($1)), "
        "t AS (SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name, c.reltuples::float8 AS "
        "reltuples, "
        "             max(coalesce(array_position(ARRAY['ACCESS SHARE','ROW SHARE','ROW EXCLUSIVE',"
        "                 'SHARE UPDATE EXCLUSIVE','SHARE','SHARE ROW EXCLUSIVE','EXCLUSIVE','ACCESS "
        "EXCLUSIVE'],"
        "                 upper(a.lock_mode)), 0)) AS lockmode, min(a.statement_no) AS first_no "
        "        FROM a JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(a.relation) "
        "        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "       WHERE coalesce(a.relation, '') <> '' AND c.relkind IN ('r', 'p') "
        "       GROUP BY c.oid, c.reltuples, n.nspname, c.relname) "
        "SELECT (SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.statement_no), '[]')::text FROM a), "
        "       (SELECT coalesce(sum(m), 0)::float8 FROM (SELECT max(coalesce(a.est_duration_ms, 0)) AS m "
        "          FROM a GROUP BY a.statement_no) s), "
        "       (SELECT string_agg(format('statement %s: %s [%s] %s', a.statement_no, a.rule, a.severity, "
        "                                 a.message), E'\\n' ORDER BY a.statement_no) "
        "          FROM a WHERE a.severity IN ('danger', 'error') AND NOT (a.rule = ANY ($2))), "
        "       (SELECT count(*)::int FROM t), "
        "       (SELECT string_agg(t.oid::text || ' ' || t.lockmode || ' ' || t.reltuples || ' ' || t.name, "
        "                          E'\\n' ORDER BY t.first_no) FROM t)",
        2, types, values, nullptr, false);
    out->analysis_json = spi_value(0, 1);
    out->predicted_ms = strtod(spi_value(0, 2), nullptr);
    out->refusals = spi_isnull(0, 3) ? nullptr : spi_value(0, 3);
    int n = atoi(spi_value(0, 4));
    char *lines = spi_isnull(0, 5) ? nullptr : spi_value(0, 5);
    out->n_tables = 0;
    out->tables = static_cast<TouchedTable *>(palloc0(sizeof(TouchedTable) * (n + 1)));
    char *save = nullptr;
    for (char *line = lines ? strtok_r(lines, "\n", &save) : nullptr; line && out->n_tables < n;
         line = strtok_r(nullptr, "\n", &save)) {
        TouchedTable &tt = out->tables[out->n_tables];
        char *p = line;
        tt.oid = static_cast<Oid>(strtoul(p, &p, 10));
        tt.lockmode = static_cast<int>(strtol(p, &p, 10));
        tt.reltuples = strtod(p, &p);
        while (*p == ' ') p++;
        tt.name = pstrdup(p);
        out->n_tables++;
    }
    AtEOXact_GUC(true, nest);
}

// ---- the transactional part
// --------------------------------------------------------------------------------------

namespace {

struct RowCount {
    Oid oid;
    const char *name;
    bool exact;
    int64 before;
};

int64 count_rows(Oid oid, bool exact) {
    Oid types[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(oid)};
    if (exact) {
        spi_exec("SELECT format('SELECT count(*) FROM %s', $1::regclass)", 1, types, values, nullptr, true);
        char *q = spi_value(0, 1);
        spi_exec(q, 0, nullptr, nullptr, nullptr, false);
    } else {
        spi_exec(
            "SELECT pg_catalog.pg_stat_get_xact_tuples_inserted($1) - "
            "pg_catalog.pg_stat_get_xact_tuples_deleted($1)",
            1, types, values, nullptr, true);
    }
    return strtoll(spi_value(0, 1), nullptr, 10);
}

bool relation_exists(Oid oid) {
    Oid types[1] = {OIDOID};
    Datum values[1] = {ObjectIdGetDatum(oid)};
    spi_exec("SELECT 1 FROM pg_catalog.pg_class WHERE oid = $1", 1, types, values, nullptr, true);
    return SPI_processed > 0;
}

}  // namespace

void run_transactional_statements(const MigPlan *plan, int first, int last, const MigAnalysis *analysis,
                                  const MigOptions *opts, const char *search_path, SegmentReport *report) {
    TimestampTz start = GetCurrentTimestamp();
    int nest = NewGUCNestLevel();
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%dms", opts->lock_timeout_ms);
    (void)set_config_option("lock_timeout", timeout, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);

    // 1. The analysis' locks, strongest per table, in the order the migration first touches the tables: all
    //    waiting happens here, under lock_timeout, before anything has changed.
    for (int i = 0; i < analysis->n_tables; ++i) {
        const TouchedTable &t = analysis->tables[i];
        if (t.lockmode < 2 || t.lockmode > 8) continue;
        char *q = psprintf("LOCK TABLE %s IN %s MODE", t.name, kLockNames[t.lockmode]);
        spi_exec(q, 0, nullptr, nullptr, nullptr, false);
    }

    // 2. Integrity "before": unvalidated constraints and invalid indexes that already exist, row counts.
    spi_exec(
        "SELECT coalesce(array_agg(oid), '{}')::text FROM pg_catalog.pg_constraint WHERE NOT convalidated", 0,
        nullptr, nullptr, nullptr, true);
    char *unvalidated_before = spi_value(0, 1);
    spi_exec(
        "SELECT coalesce(array_agg(indexrelid), '{}')::text FROM pg_catalog.pg_index WHERE NOT indisvalid", 0,
        nullptr, nullptr, nullptr, true);
    char *invalid_before = spi_value(0, 1);
    RowCount *counts = static_cast<RowCount *>(palloc0(sizeof(RowCount) * (analysis->n_tables + 1)));
    for (int i = 0; i < analysis->n_tables; ++i) {
        const TouchedTable &t = analysis->tables[i];
        bool exact = false;
        cpp_guard([&] {
            std::optional<cm::LockMode> held;
            if (t.lockmode >= 1 && t.lockmode <= 8) held = static_cast<cm::LockMode>(t.lockmode);
            exact = cm::choose_row_count_method(t.reltuples, held) == cm::RowCountMethod::Exact;
        });
        counts[i] = RowCount{t.oid, t.name, exact, count_rows(t.oid, exact)};
    }

    // 3. The statements, with the caller's search_path.
    (void)set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                            false);
    StatementErrorContext sctx{nullptr};
    ErrorContextCallback cb;
    cb.callback = statement_error_callback;
    cb.arg = &sctx;
    cb.previous = error_context_stack;
    error_context_stack = &cb;
    for (int i = first; i < last; ++i) {
        const MigStatement &st = plan->stmts[i];
        if (st.txn_control) continue;
        sctx.stmt = &st;
        int rc = SPI_execute(st.sql, false, 0);
        if (rc < 0)
            ereport(ERROR,
                    (errcode(ERRCODE_INTERNAL_ERROR),
                     errmsg("migration statement %d could not run: %s", st.no, SPI_result_code_string(rc))));
        report->statements++;
    }
    error_context_stack = cb.previous;
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);

    // 4. Integrity "after".
    StringInfoData problems;
    initStringInfo(&problems);
    {
        Oid types[1] = {TEXTOID};
        Datum values[1] = {CStringGetTextDatum(unvalidated_before)};
        spi_exec(
            "SELECT c.conname, c.conrelid::regclass::text, c.contype FROM pg_catalog.pg_constraint c "
            "WHERE NOT c.convalidated AND NOT (c.oid = ANY ($1::oid[])) ORDER BY 2, 1",
            1, types, values, nullptr, true);
        uint64 n = SPI_processed;
        SPITupleTable *tt = SPI_tuptable;
        for (uint64 r = 0; r < n; ++r) {
            char *conname = SPI_getvalue(tt->vals[r], tt->tupdesc, 1);
            char *rel = SPI_getvalue(tt->vals[r], tt->tupdesc, 2);
            bool intended = opts->allow_not_valid || plan->not_valid_unnamed ||
                            in_list(plan->not_valid_names, plan->n_not_valid, conname);
            if (!intended)
                appendStringInfo(&problems, "constraint %s on %s was left NOT VALID\n", conname, rel);
        }
        // Foreign keys added NOT VALID: their existing rows were not checked; orphans are reported.
        spi_exec(
            "SELECT c.conname, cn.nspname, cr.relname, pn.nspname, pr.relname, "
            "  (SELECT string_agg(a.attname, chr(31) ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY "
            "     k(n, i) JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n), "
            "  (SELECT string_agg(a.attname, chr(31) ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY "
            "     k(n, i) JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) "
            "FROM pg_catalog.pg_constraint c "
            "JOIN pg_catalog.pg_class cr ON cr.oid = c.conrelid "
            "JOIN pg_catalog.pg_namespace cn ON cn.oid = cr.relnamespace "
            "JOIN pg_catalog.pg_class pr ON pr.oid = c.confrelid "
            "JOIN pg_catalog.pg_namespace pn ON pn.oid = pr.relnamespace "
            "WHERE c.contype = 'f' AND NOT c.convalidated AND NOT (c.oid = ANY ($1::oid[])) ORDER BY 1",
            1, types, values, nullptr, true);
        n = SPI_processed;
        tt = SPI_tuptable;
        char **fk_sql = static_cast<char **>(palloc0(sizeof(char *) * (n + 1)));
        char **fk_name = static_cast<char **>(palloc0(sizeof(char *) * (n + 1)));
        for (uint64 r = 0; r < n; ++r) {
            char *v[7];
            for (int c = 0; c < 7; ++c) v[c] = SPI_getvalue(tt->vals[r], tt->tupdesc, c + 1);
            fk_name[r] = v[0];
            fk_sql[r] = core_string([&] {
                cm::ForeignKeyInfo fk;
                fk.name = v[0];
                fk.child_schema = v[1];
                fk.child_table = v[2];
                fk.parent_schema = v[3];
                fk.parent_table = v[4];
                auto split = [](const char *s, std::vector<std::string> &out) {
                    std::string cur;
                    for (const char *p = s ? s : ""; *p; ++p) {
                        if (*p == '\x1f') {
                            out.push_back(cur);
                            cur.clear();
                        } else {
                            cur += *p;
                        }
                    }
                    if (s && *s) out.push_back(cur);
                };
                split(v[5], fk.child_columns);
                split(v[6], fk.parent_columns);
                return cm::orphan_count_sql(fk);
            });
        }
        for (uint64 r = 0; r < n; ++r) {
            spi_exec(fk_sql[r], 0, nullptr, nullptr, nullptr, true);
            long orphans = strtol(spi_value(0, 1), nullptr, 10);
            if (orphans > 0)
                appendStringInfo(&problems, "foreign key %s has %ld orphaned row%s\n", fk_name[r], orphans,
                                 orphans == 1 ? "" : "s");
        }
    }
    {
        Oid types[1] = {TEXTOID};
        Datum values[1] = {CStringGetTextDatum(invalid_before)};
        spi_exec(
            "SELECT indexrelid::regclass::text FROM pg_catalog.pg_index "
            "WHERE NOT indisvalid AND NOT (indexrelid = ANY ($1::oid[])) ORDER BY 1",
            1, types, values, nullptr, true);
        for (uint64 r = 0; r < SPI_processed; ++r)
            appendStringInfo(&problems, "index %s is INVALID\n", spi_value(static_cast<int>(r), 1));
    }
    {
        // Row counts of the touched tables that still exist.
        int n = 0;
        char **names = static_cast<char **>(palloc0(sizeof(char *) * (analysis->n_tables + 1)));
        bool *exact = static_cast<bool *>(palloc0(sizeof(bool) * (analysis->n_tables + 1)));
        int64 *before = static_cast<int64 *>(palloc0(sizeof(int64) * (analysis->n_tables + 1)));
        int64 *after = static_cast<int64 *>(palloc0(sizeof(int64) * (analysis->n_tables + 1)));
        for (int i = 0; i < analysis->n_tables; ++i) {
            if (!relation_exists(counts[i].oid)) continue;
            names[n] = pstrdup(counts[i].name);
            exact[n] = counts[i].exact;
            before[n] = counts[i].before;
            after[n] = count_rows(counts[i].oid, counts[i].exact);
            n++;
        }
        char *violations = core_string([&] {
            std::vector<cm::RowCountObservation> rows;
            for (int i = 0; i < n; ++i)
                rows.push_back({names[i],
                                exact[i] ? cm::RowCountMethod::Exact : cm::RowCountMethod::TransactionDelta,
                                before[i], after[i]});
            std::vector<std::string> expect;
            for (int i = 0; i < opts->n_expect; ++i) expect.emplace_back(opts->expect_row_changes[i]);
            std::string joined;
            for (const auto &v : cm::row_count_violations(rows, expect, opts->expect_any)) joined += v + "\n";
            return joined;
        });
        appendStringInfoString(&problems, violations);
    }
    if (problems.len > 0) {
        while (problems.len > 0 && problems.data[problems.len - 1] == '\n')
            problems.data[--problems.len] = '\0';
        char *first_line = pstrdup(problems.data);
        if (char *nl = strchr(first_line, '\n')) *nl = '\0';
        ereport(ERROR,
                (errcode(ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION),
                 errmsg("migration failed its integrity checks: %s", first_line),
                 strchr(problems.data, '\n') ? errdetail("%s", problems.data) : 0,
                 errhint("Nothing was changed. If the row counts are meant to change, say so with options "
                         "{\"expect_row_changes\": [\"table\"]}; NOT VALID constraints can be allowed with "
                         "{\"allow_not_valid\": true}.")));
    }
    AtEOXact_GUC(true, nest);
    report->elapsed_ms = ms_since(start);
}

// ---- watch baseline
// ---------------------------------------------------------------------------------------------

char *watch_baseline_json(const MigAnalysis *analysis, const MigOptions *opts) {
    if (opts->watch_ms <= 0) return pstrdup("{\"state\": \"off\"}");
    spi_exec(
        "SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
        "ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements' AND "
        "pg_catalog.current_setting('shared_preload_libraries') ~ "
        "'(^|[\\s,\"])pg_stat_statements($|[\\s,\"])'",
        0, nullptr, nullptr, nullptr, true);
    if (SPI_processed == 0)
        return pstrdup(
            "{\"state\": \"skipped\", \"reason\": \"pg_stat_statements is not installed in this "
            "database or not preloaded: no latency to compare\"}");
    char *nsp = spi_value(0, 1);
    if (analysis->n_tables == 0)
        return pstrdup("{\"state\": \"skipped\", \"reason\": \"the migration touches no existing table\"}");
    StringInfoData oids;
    initStringInfo(&oids);
    appendStringInfoChar(&oids, '{');
    for (int i = 0; i < analysis->n_tables; ++i)
        appendStringInfo(&oids, "%s%u", i ? "," : "", analysis->tables[i].oid);
    appendStringInfoChar(&oids, '}');
    char *q = psprintf(
        "WITH t AS (SELECT c.oid::regclass::text AS name, c.relname FROM pg_catalog.pg_class c "
        "           WHERE c.oid = ANY ($1::oid[])), "
        "p AS (SELECT '\\m(' || string_agg(regexp_replace(relname, '([^a-zA-Z0-9_])', '\\\\\\1', 'g'), '|') "
        "             || ')\\M' AS pattern FROM t), "
        "b AS (SELECT s.queryid, sum(s.calls)::float8 AS calls, sum(s.total_exec_time)::float8 AS total "
        "        FROM %s.pg_stat_statements s, p WHERE s.dbid = %u AND s.query ~* p.pattern "
        "         AND s.query !~* 'rubberduck\\.' GROUP BY s.queryid) "
        "SELECT jsonb_build_object('state', 'watching', 'window_ms', $2, "
        "       'until', now() + $2 * interval '1 millisecond', 'max_regression', $3::float8, "
        "       'tables', (SELECT jsonb_agg(name) FROM t), 'pattern', (SELECT pattern FROM p), "
        "       'pgss_schema', %s, "
        "       'baseline', (SELECT coalesce(jsonb_object_agg(queryid::text, jsonb_build_array(calls, "
        "total)), "
        "'{}') FROM b))::text",
        quote_identifier(nsp), MyDatabaseId, quote_literal_cstr(nsp));
    Oid types[3] = {TEXTOID, INT4OID, FLOAT8OID};
    Datum values[3] = {CStringGetTextDatum(oids.data), Int32GetDatum(opts->watch_ms),
                       Float8GetDatum(opts->max_regression)};
    spi_exec(q, 3, types, values, nullptr, true);
    return spi_value(0, 1);
}

// ---- migrate()
// ------------------------------------------------------------------------------------------------

namespace {

struct AttemptResult {
    bool ok;
    int attempts;
    SegmentReport report;
    ErrorData *error;  // when !ok (in the function's memory context)
};

// One attempt in a subtransaction: true on success, else *edata holds the error (everything rolled back).
bool try_once(const MigPlan *plan, const MigAnalysis *analysis, const MigOptions *opts,
              const char *search_path, SegmentReport *report, ErrorData **edata) {
    MemoryContext oldcontext = CurrentMemoryContext;
    ResourceOwner oldowner = CurrentResourceOwner;
    volatile bool ok = false;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(oldcontext);
    PG_TRY();
    {
        run_transactional_statements(plan, 0, plan->n, analysis, opts, search_path, report);
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcontext);
        CurrentResourceOwner = oldowner;
        ok = true;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(oldcontext);
        *edata = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcontext);
        CurrentResourceOwner = oldowner;
    }
    PG_END_TRY();
    return ok;
}

// Runs the transactional statements in a subtransaction, retrying lock timeouts and deadlocks with backoff.
AttemptResult run_with_retries(const MigPlan *plan, const MigAnalysis *analysis, const MigOptions *opts,
                               const char *search_path) {
    AttemptResult res{false, 0, {}, nullptr};
    cm::RetryPolicy policy;
    policy.retries = opts->lock_retries;
    for (int attempt = 1;; ++attempt) {
        res.attempts = attempt;
        SegmentReport report;
        ErrorData *edata = nullptr;
        if (try_once(plan, analysis, opts, search_path, &report, &edata)) {
            res.ok = true;
            res.report = report;
            return res;
        }
        const char *state = unpack_sql_state(edata->sqlerrcode);
        bool retry = false;
        cpp_guard([&] { retry = cm::should_retry(policy, attempt, state); });
        if (!retry) {
            res.error = edata;
            return res;
        }
        int wait = draw_backoff(attempt);
        ereport(NOTICE, (errmsg("migration attempt %d failed: %s; retrying in %d ms (%d of %d retries)",
                                attempt, edata->message, wait, attempt, opts->lock_retries)));
        FreeErrorData(edata);
        backoff_wait(wait);
    }
}

char *caller_search_path() {
    const char *sp = GetConfigOption("search_path", false, false);
    return pstrdup(sp ? sp : "\"$user\", public");
}

text *arg_text(FunctionCallInfo fcinfo, int i) {
    return PG_ARGISNULL(i) ? nullptr : PG_GETARG_TEXT_PP(i);
}

void ledger_row_result_prepare(const char *version) {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(version)};
    spi_exec("SELECT * FROM rubberduck.migrations WHERE version = $1", 1, types, values, nullptr, false);
    if (SPI_processed != 1)
        ereport(ERROR,
                (errcode(ERRCODE_INTERNAL_ERROR), errmsg("migration \"%s\" has no ledger row", version)));
}

// Builds the ledger row as jsonb text from the run's facts.
char *ledger_json(const char *version, const char *checksum, const char *up_sql, const char *down_sql,
                  const MigAnalysis *analysis, double actual_ms, const char *status, const char *requested,
                  TimestampTz started, bool finished, const char *error, const char *options_json,
                  const char *progress_json, const char *watch_json) {
    Oid types[14] = {TEXTOID, TEXTOID, TEXTOID,        TEXTOID, TEXTOID, FLOAT8OID, FLOAT8OID,
                     TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID,   TEXTOID};
    Datum values[14];
    char nulls[14];
    memset(nulls, ' ', sizeof nulls);
    values[0] = CStringGetTextDatum(version);
    values[1] = CStringGetTextDatum(checksum);
    values[2] = CStringGetTextDatum(up_sql);
    if (down_sql)
        values[3] = CStringGetTextDatum(down_sql);
    else
        nulls[3] = 'n';
    values[4] = CStringGetTextDatum(analysis && analysis->analysis_json ? analysis->analysis_json : "[]");
    if (analysis)
        values[5] = Float8GetDatum(analysis->predicted_ms);
    else
        nulls[5] = 'n';
    if (actual_ms >= 0)
        values[6] = Float8GetDatum(actual_ms);
    else
        nulls[6] = 'n';
    values[7] = CStringGetTextDatum(status);
    values[8] = CStringGetTextDatum(requested);
    if (started)
        values[9] = TimestampTzGetDatum(started);
    else
        nulls[9] = 'n';
    if (error)
        values[10] = CStringGetTextDatum(error);
    else
        nulls[10] = 'n';
    values[11] = CStringGetTextDatum(options_json);
    values[12] = CStringGetTextDatum(progress_json ? progress_json : "{}");
    values[13] = CStringGetTextDatum(watch_json ? watch_json : "{}");
    char *q = psprintf(
        "SELECT jsonb_strip_nulls(jsonb_build_object('version', $1, 'checksum', $2, 'up_sql', $3, "
        "'down_sql', $4, "
        "'analysis', $5::jsonb, 'predicted_ms', $6, 'actual_ms', $7, 'status', $8, 'requested', $9, "
        "'started_at', $10, 'finished_at', %s, 'error', $11, 'options', $12::jsonb, 'progress', $13::jsonb, "
        "'watch', $14::jsonb, 'applied_by', current_user))::text",
        finished ? "clock_timestamp()" : "NULL::timestamptz");
    spi_exec(q, 14, types, values, nulls, true);
    return spi_value(0, 1);
}

void record_ledger(const char *row_json) {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(row_json)};
    spi_exec("SELECT rubberduck._migration_record($1::jsonb)", 1, types, values, nullptr, false);
}

void lock_version(const char *version) {
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(version)};
    spi_exec(
        "SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('rubberduck.migrate'), "
        "pg_catalog.hashtext($1))",
        1, types, values, nullptr, false);
}

char *progress_json(int attempts, int statements, int total, const char *search_path) {
    Oid types[4] = {INT4OID, INT4OID, INT4OID, TEXTOID};
    Datum values[4] = {Int32GetDatum(attempts), Int32GetDatum(statements), Int32GetDatum(total),
                       CStringGetTextDatum(search_path)};
    spi_exec(
        "SELECT jsonb_build_object('attempts', $1, 'statements_done', $2, 'statements', $3, "
        "'search_path', $4)::text",
        4, types, values, nullptr, true);
    return spi_value(0, 1);
}

Datum finish_with_row(FunctionCallInfo fcinfo, const char *version) {
    ledger_row_result_prepare(version);
    HeapTupleHeader h = SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
    SPI_finish();
    PG_RETURN_HEAPTUPLEHEADER(h);
}

int pin_search_path() {
    int nest = NewGUCNestLevel();
    (void)set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);
    return nest;
}

}  // namespace

// Used by rollback_migration() and the migration agent: runs down_sql of an applied migration in a
// subtransaction with retries. Returns NULL on success, the error message otherwise (ledger untouched).
char *run_down_sql(const char *down_sql, const char *options_json, const char *search_path, int *attempts) {
    MigPlan plan;
    plan_migration(down_sql, &plan);
    MigOptions opts;
    read_options(options_json, &opts);
    opts.expect_any = true;  // a rollback may well delete rows the migration added
    opts.allow_not_valid = true;
    MigAnalysis analysis;
    analyze_for_execution(down_sql, &opts, search_path, &analysis);
    AttemptResult r = run_with_retries(&plan, &analysis, &opts, search_path);
    if (attempts) *attempts = r.attempts;
    return r.ok ? nullptr : pstrdup(r.error->message);
}

}  // namespace rubberduck::pg::migration

using namespace rubberduck::pg;
using namespace rubberduck::pg::migration;

extern "C" {
PG_FUNCTION_INFO_V1(rubberduck_migrate);
PG_FUNCTION_INFO_V1(rubberduck_rollback_migration);
}

RD_EXPORT Datum rubberduck_migrate(PG_FUNCTION_ARGS) {
    require_admin("run migrations");
    text *version_t = arg_text(fcinfo, 0);
    text *up_t = arg_text(fcinfo, 1);
    text *down_t = arg_text(fcinfo, 2);
    char *options_json =
        PG_ARGISNULL(3) ? pstrdup("{}") : DatumGetCString(DirectFunctionCall1(jsonb_out, PG_GETARG_DATUM(3)));
    if (!version_t || VARSIZE_ANY_EXHDR(version_t) == 0)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("migration version must not be empty")));
    char *version = text_to_cstring(version_t);
    if (strlen(version) > 63)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("migration version \"%.20s...\" is longer than 63 bytes", version)));
    char *up_sql = up_t ? text_to_cstring(up_t) : nullptr;
    bool blank = true;
    for (const char *p = up_sql; p && *p; ++p)
        if (!isspace(static_cast<unsigned char>(*p))) blank = false;
    if (blank)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("migration \"%s\" has no up_sql", version)));
    char *down_sql = down_t ? text_to_cstring(down_t) : nullptr;
    if (down_sql) {
        bool down_blank = true;
        for (const char *p = down_sql; *p; ++p)
            if (!isspace(static_cast<unsigned char>(*p))) down_blank = false;
        if (down_blank) down_sql = nullptr;
    }
    char *search_path = caller_search_path();
    char *checksum = core_string([&] { return rubberduck::core::migration::sha256_hex(up_sql); });

    SPI_connect();
    int nest = pin_search_path();
    lock_version(version);

    // Ledger: idempotency and checksum.
    {
        Oid types[1] = {TEXTOID};
        Datum values[1] = {CStringGetTextDatum(version)};
        spi_exec("SELECT status, checksum FROM rubberduck.migrations WHERE version = $1", 1, types, values,
                 nullptr, false);
        if (SPI_processed == 1) {
            char *status = spi_value(0, 1);
            char *old_checksum = spi_value(0, 2);
            bool same = strcmp(old_checksum, checksum) == 0;
            bool live = strcmp(status, "applied") == 0 || strcmp(status, "pending") == 0 ||
                        strcmp(status, "running") == 0;
            if (live && !same)
                ereport(ERROR,
                        (errcode(ERRCODE_DUPLICATE_OBJECT),
                         errmsg("migration \"%s\" is already %s with a different checksum", version, status),
                         errdetail("Recorded checksum %s, this up_sql has %s.", old_checksum, checksum),
                         errhint("A migration's SQL must not change once applied: give the new SQL a new "
                                 "version.")));
            if (live) {
                ereport(NOTICE, (errmsg("migration \"%s\" is already %s: nothing to do", version, status)));
                AtEOXact_GUC(true, nest);
                return finish_with_row(fcinfo, version);
            }
        }
    }

    MigOptions opts;
    read_options(options_json, &opts);
    normalize_expected_tables(&opts, search_path);
    MigPlan plan;
    plan_migration(up_sql, &plan);
    MigAnalysis analysis;
    analyze_for_execution(up_sql, &opts, search_path, &analysis);
    if (analysis.refusals)
        ereport(
            ERROR,
            (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
             errmsg("migration \"%s\" refused: the analysis found dangerous statements", version),
             errdetail("%s", analysis.refusals),
             errhint("Rewrite it as the analysis suggests (SELECT * FROM rubberduck.analyze_migration(...)), "
                     "or accept the risk by rule: options => '{\"allow\": [\"<rule>\"]}'.")));

    bool top_level = plan_needs_top_level(&plan);
    if (opts.async || top_level) {
        if (!preloaded)
            ereport(ERROR,
                    (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                     errmsg("migration \"%s\" needs the migration agent, which is not running", version),
                     errdetail(top_level ? "It has statements that cannot run inside a transaction block."
                                         : "options.async was requested."),
                     errhint("Add rubberduck_agents to shared_preload_libraries and restart the server.")));
        char *progress = progress_json(0, 0, plan.n, search_path);
        record_ledger(ledger_json(version, checksum, up_sql, down_sql, &analysis, -1, "pending", "up", 0,
                                  false, nullptr, options_json, progress, nullptr));
        if (top_level && !opts.async)
            ereport(
                NOTICE,
                (errmsg("migration \"%s\" queued for the migration agent: it has statements that cannot "
                        "run inside a transaction block",
                        version),
                 errhint("Follow it in rubberduck.migrations; it starts after this transaction commits.")));
        AtEOXact_GUC(true, nest);
        return finish_with_row(fcinfo, version);
    }

    TimestampTz started = GetCurrentTimestamp();
    AttemptResult r = run_with_retries(&plan, &analysis, &opts, search_path);
    if (r.ok) {
        char *watch = watch_baseline_json(&analysis, &opts);
        char *progress = progress_json(r.attempts, r.report.statements, plan.n, search_path);
        record_ledger(ledger_json(version, checksum, up_sql, down_sql, &analysis, r.report.elapsed_ms,
                                  "applied", "up", started, true, nullptr, options_json, progress, watch));
        AtEOXact_GUC(true, nest);
        return finish_with_row(fcinfo, version);
    }

    // Failure: nothing of the migration remains; the 'failed' row is written by a worker in its own
    // transaction (this one is about to abort), then the original error is raised.
    ErrorData *e = r.error;
    char *error_text = e->detail ? psprintf("%s: %s", e->message, e->detail) : pstrdup(e->message);
    if (e->context) error_text = psprintf("%s (%s)", error_text, e->context);
    char *progress = progress_json(r.attempts, 0, plan.n, search_path);
    char *row = ledger_json(version, checksum, up_sql, down_sql, &analysis, -1, "failed", "up", started, true,
                            error_text, options_json, progress, nullptr);
    if (!record_ledger_out_of_band(row))
        ereport(WARNING, (errmsg("the failed migration \"%s\" could not be recorded in rubberduck.migrations",
                                 version),
                          errhint("No background worker slot was free (max_worker_processes).")));
    AtEOXact_GUC(true, nest);
    SPI_finish();
    e->elevel = ERROR;
    ReThrowError(e);
}

RD_EXPORT Datum rubberduck_rollback_migration(PG_FUNCTION_ARGS) {
    require_admin("roll back migrations");
    text *version_t = arg_text(fcinfo, 0);
    if (!version_t || VARSIZE_ANY_EXHDR(version_t) == 0)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("migration version must not be empty")));
    char *version = text_to_cstring(version_t);
    SPI_connect();
    int nest = pin_search_path();
    lock_version(version);
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(version)};
    spi_exec(
        "SELECT status, down_sql, options::text, coalesce(progress->>'search_path', '\"$user\", public') "
        "FROM rubberduck.migrations WHERE version = $1 FOR UPDATE",
        1, types, values, nullptr, false);
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("migration \"%s\" does not exist", version),
                        errhint("See SELECT version, status FROM rubberduck.migrations.")));
    char *status = spi_value(0, 1);
    char *down_sql = spi_isnull(0, 2) ? nullptr : spi_value(0, 2);
    char *options_json = spi_value(0, 3);
    char *search_path = spi_value(0, 4);
    if (strcmp(status, "applied") != 0)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("migration \"%s\" is %s, not applied: nothing to roll back", version, status)));
    if (!down_sql)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("migration \"%s\" has no down_sql", version),
                        errhint("Write the reverse migration and apply it as a new version.")));
    MigPlan plan;
    plan_migration(down_sql, &plan);
    char *reason =
        psprintf("rolled back by hand by %s (rollback_migration)", GetUserNameFromId(GetUserId(), false));
    if (plan_needs_top_level(&plan)) {
        if (!preloaded)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("the down_sql of \"%s\" needs the migration agent, which is not running",
                                   version),
                            errdetail("It has statements that cannot run inside a transaction block.")));
        Oid t2[2] = {TEXTOID, TEXTOID};
        Datum v2[2] = {CStringGetTextDatum(version), CStringGetTextDatum(reason)};
        spi_exec(
            "UPDATE rubberduck.migrations SET status = 'pending', requested = 'down', rollback_reason = $2, "
            "queued_at = now(), watch = watch || '{\"state\": \"stopped\"}' WHERE version = $1",
            2, t2, v2, nullptr, false);
        ereport(NOTICE, (errmsg("rollback of \"%s\" queued for the migration agent", version)));
        AtEOXact_GUC(true, nest);
        return finish_with_row(fcinfo, version);
    }
    int attempts = 0;
    char *error = run_down_sql(down_sql, options_json, search_path, &attempts);
    if (error)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("rollback of migration \"%s\" failed: %s", version, error),
                        errdetail("The down_sql was rolled back; the migration stays applied.")));
    Oid t2[2] = {TEXTOID, TEXTOID};
    Datum v2[2] = {CStringGetTextDatum(version), CStringGetTextDatum(reason)};
    spi_exec(
        "UPDATE rubberduck.migrations SET status = 'rolled_back', rolled_back_at = clock_timestamp(), "
        "rollback_reason = $2, watch = watch || '{\"state\": \"stopped\"}' WHERE version = $1",
        2, t2, v2, nullptr, false);
    AtEOXact_GUC(true, nest);
    return finish_with_row(fcinfo, version);
}
