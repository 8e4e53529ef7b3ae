// The indexing skill (see indexing.hpp). One cycle:
//  1. PG regime: read rubberduck.predicates, rubberduck.query_insights and rubberduck._exemplars() of this
//     database, pg_class/pg_stats/pg_stat_user_tables of the relations involved and their existing indexes
//     through SPI into palloc'd POD rows (no C++ object is alive across these calls, R9).
//  2. C++ regime (cpp_guard): build the core Workload, generate candidates, run the selector; each cost
//     request is answered by whatif_cost (which never raises: it plans in its own subtransaction), within a
//     time budget. The chosen set comes back as POD advice rows.
//  3. PG regime: upsert the advice by its canonical key (ids stay stable while an index stays advised),
//  replace
//     its per-query costs, mark advice no longer chosen 'stale'. Nothing is written on a hot standby or in
//     observe mode.
// The advisor only reruns when its inputs changed (or a minute passed), so a short naptime costs little.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/index/candidate_generator.h"
#include "core/index/index_model.h"
#include "core/index/index_selector.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/catalog/existing_indexes.hpp"
#include "pg/catalog/spi_values.hpp"
#include "pg/functions/srf.hpp"
#include "pg/guc/index_directives.hpp"
#include "pg/index/hypo_index.hpp"
#include "pg/index/index_autonomy.hpp"
#include "pg/index/whatif.hpp"
#include "pg/shmem/runtime_registry.hpp"
#include "pg/skills/indexing.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "access/stratnum.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/resowner.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace rubberduck::pg {
namespace {

namespace ci = core::index;
namespace rt = core::runtime;

constexpr int kMaxAdvice = 64;
constexpr int kMaxAdviceQueries = 32;
constexpr double kBudgetSeconds = 4.0;           // worker time for one advice computation
constexpr size_t kMaxCostRequests = 6000;        // what-if plans per computation
constexpr size_t kMaxCandidates = 100;           // each query keeps its first 3 (CandidateOptions)
constexpr double kMaintenanceMsPerWrite = 0.01;  // index maintenance per index-touching row write

struct PredRow {
    Oid relid;
    char *column;
    char *op;
    int64 queryid;
    int64 executions;
    double selectivity;  // -1 unknown
    bool used_index;
    char *clause;
    char *expression;
    bool has_limit;
};

struct QueryRow {
    int64 queryid;
    double calls;
    double total_ms;
};

struct ExemplarRow {
    int64 queryid;
    Oid userid;
    char *query;
    int nparams;
    Oid *types;
    const char **values;
};

struct RelRow {
    Oid relid;
    char *schema;
    char *name;
    double reltuples, relpages;
    double ins, upd, del, hot;
};

struct ColRow {
    Oid relid;
    char *name;
    int attnum;
    char *type_name;
    double avg_width, null_frac, n_distinct, correlation;
    bool has_stats;
    bool c_collation;
    int nmcv;
    char **mcv_literals;  // quote_literal of each most common value
    double *mcv_freqs;
    // Text columns: MCVs and histogram bounds as text with the share of rows each stands for (the trigram GIN
    // size model's sample, as whatif.cpp gives the what-if planner).
    int nsample;
    char **sample_text;
    double *sample_weight;
    bool *sample_common;
};

// `column = constant` found in an exemplar's WHERE clause (ANDed at the top level).
struct ConstRow {
    int64 queryid;
    Oid relid;
    char *column;
    char *literal;  // quote_literal form
};

// What an exemplar does with a column of one of its relations, from its parse tree: reads it (anywhere:
// target list, WHERE, JOIN ... ON, GROUP BY, ORDER BY, HAVING), or sorts / groups by it (`pos` = place in the
// clause).
enum UseKind : int {
    kUseRead = 0,
    kUseOrder = 1,
    kUseGroup = 2,
    kUseAllColumns = 3,  // a whole-row reference (SELECT t.*, row_to_json(t)...): every column is read
    kUseLimit = 4,       // the statement has a LIMIT (relid and column unused)
    kUseAnalyzed = 5,    // the exemplar was analysed: its order/group rows are the statement's whole truth
};
struct UseRow {
    int64 queryid;
    Oid relid;
    int kind;
    char *column;  // kUseRead / kUseOrder / kUseGroup
    int pos;
    bool descending;
};

using IdxRow = ExistingIndexRow;  // one column of one existing index (pg/catalog/existing_indexes.hpp)

struct Inputs {
    PredRow *preds = nullptr;
    int npreds = 0;
    QueryRow *queries = nullptr;
    int nqueries = 0;
    ExemplarRow *exemplars = nullptr;
    int nexemplars = 0;
    RelRow *rels = nullptr;
    int nrels = 0;
    ColRow *cols = nullptr;
    int ncols = 0;
    IdxRow *idx = nullptr;
    int nidx = 0;
    ConstRow *consts = nullptr;
    int nconsts = 0;
    UseRow *uses = nullptr;
    int nuses = 0;
    int uses_cap = 0;
    double window_s = 1;
    bool trigram = false;
};

struct AdviceQuery {
    int64 queryid;
    double cost_before, cost_after;
};

struct AdviceRow {
    char key[1024];
    char relation[2 * NAMEDATALEN + 8];
    Oid relid;
    char columns[1024];  // '\x1f'-separated
    char include[512];   // '\x1f'-separated
    char method[16];
    char predicate[512];
    char ddl[2048];
    char reason[256];
    int64 size_bytes;
    double improvement_pct;
    int nqueries;
    AdviceQuery queries[kMaxAdviceQueries];
};

struct Outcome {
    int nadvice = 0;
    bool declined = false;
    bool cancelled = false;
    bool truncated = false;
    bool interrupted = false;
    int candidates = 0;
    int costed_queries = 0;
    size_t cost_requests = 0;
    double improvement_pct = 0;
    double seconds = 0;
};

// ---- 1. inputs (PG regime) ------------------------------------------------------------------------------

char *val(HeapTuple t, TupleDesc d, int c) {
    char *v = SPI_getvalue(t, d, c);
    return v ? pstrdup(v) : nullptr;  // caller's context is the skill's (SPI_palloc not needed: see below)
}

int run_select(const char *sql) {
    int rc = SPI_execute(sql, true, 0);
    if (rc != SPI_OK_SELECT) elog(ERROR, "indexing skill: query failed (%d): %s", rc, sql);
    return static_cast<int>(SPI_processed);
}

// The skill runs with SPI connected by the agent; values are copied with pstrdup into the current memory
// context (the cycle's), which outlives this function's SPI results.
void gather(Inputs &in) {
    int n = run_select(
        "SELECT relation::oid, columns[1], operator, queryid, executions, avg_selectivity, used_index, "
        "clause, "
        "expression, has_limit FROM rubberduck.predicates ORDER BY queryid, relation, clause, columns[1]");
    in.preds = static_cast<PredRow *>(palloc0(sizeof(PredRow) * std::max(n, 1)));
    for (int i = 0; i < n; ++i) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        PredRow &p = in.preds[i];
        p.relid = spi_oid(t, d, 1);
        p.column = val(t, d, 2);
        p.op = val(t, d, 3);
        p.queryid = spi_int8(t, d, 4);
        p.executions = spi_int8(t, d, 5);
        p.selectivity = spi_float8(t, d, 6, -1);
        p.used_index = spi_bool(t, d, 7);
        p.clause = val(t, d, 8);
        p.expression = val(t, d, 9);
        p.has_limit = spi_bool(t, d, 10);
    }
    in.npreds = n;

    n = run_select(
        "SELECT queryid, sum(calls)::float8, sum(total_ms)::float8 FROM rubberduck.query_insights "
        "WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()) "
        "GROUP BY queryid");
    in.queries = static_cast<QueryRow *>(palloc0(sizeof(QueryRow) * std::max(n, 1)));
    for (int i = 0; i < n; ++i) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        in.queries[i] = {spi_int8(t, d, 1), spi_float8(t, d, 2), spi_float8(t, d, 3)};
    }
    in.nqueries = n;

    n = run_select(
        "SELECT queryid, userid, query, param_types::oid[], param_values FROM rubberduck._exemplars() "
        "WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
        "pg_catalog.current_database())");
    in.exemplars = static_cast<ExemplarRow *>(palloc0(sizeof(ExemplarRow) * std::max(n, 1)));
    for (int i = 0; i < n; ++i) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        ExemplarRow &e = in.exemplars[i];
        e.queryid = spi_int8(t, d, 1);
        e.userid = spi_oid(t, d, 2);
        e.query = val(t, d, 3);
        bool isnull;
        Datum types = SPI_getbinval(t, d, 4, &isnull);
        int ntypes = 0;
        if (!isnull) {
            Datum *elems;
            bool *nulls;
            deconstruct_array(DatumGetArrayTypeP(types), OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems,
                              &nulls, &ntypes);
            e.types = static_cast<Oid *>(palloc0(sizeof(Oid) * std::max(ntypes, 1)));
            for (int k = 0; k < ntypes; ++k) e.types[k] = nulls[k] ? TEXTOID : DatumGetObjectId(elems[k]);
        }
        Datum values = SPI_getbinval(t, d, 5, &isnull);
        int nvalues = 0;
        if (!isnull) {
            Datum *elems;
            bool *nulls;
            deconstruct_array(DatumGetArrayTypeP(values), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls,
                              &nvalues);
            e.values = static_cast<const char **>(palloc0(sizeof(char *) * std::max(nvalues, 1)));
            for (int k = 0; k < nvalues; ++k)
                e.values[k] = nulls[k] ? nullptr : TextDatumGetCString(elems[k]);
        }
        e.nparams = ntypes == nvalues ? ntypes : 0;
        if (ntypes != nvalues) e.query = nullptr;  // inconsistent exemplar: unusable
    }
    in.nexemplars = n;

    n = run_select(
        "SELECT extract(epoch FROM now() - coalesce((SELECT stats_reset FROM pg_catalog.pg_stat_database "
        "WHERE datname = pg_catalog.current_database()), pg_catalog.pg_postmaster_start_time()))::float8, "
        "EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_trgm')");
    in.window_s = std::max(1.0, spi_float8(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, 1));
    in.trigram = spi_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

    if (in.npreds == 0) return;
    // Relations named by predicates: sizes, write rates, column statistics, existing indexes.
    // User tables only: no system catalog, no table that belongs to an extension (ours included).
    const char *rels_cte =
        "WITH r AS (SELECT DISTINCT p.relation::oid AS oid FROM rubberduck.predicates p "
        "JOIN pg_catalog.pg_class c ON c.oid = p.relation JOIN pg_catalog.pg_namespace n ON n.oid = "
        "c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)' "
        "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = "
        "'pg_catalog.pg_class'::pg_catalog.regclass "
        "AND d.objid = c.oid AND d.deptype = 'e')) ";
    n = run_select(
        psprintf("%s SELECT c.oid, n.nspname::text, c.relname::text, greatest(c.reltuples, 0)::float8, "
                 "c.relpages::float8, "
                 "coalesce(s.n_tup_ins, 0)::float8, coalesce(s.n_tup_upd, 0)::float8, coalesce(s.n_tup_del, "
                 "0)::float8, "
                 "coalesce(s.n_tup_hot_upd, 0)::float8 FROM r JOIN pg_catalog.pg_class c ON c.oid = r.oid "
                 "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                 "LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid = c.oid WHERE c.relkind IN ('r', 'm') "
                 "ORDER BY 1",
                 rels_cte));
    in.rels = static_cast<RelRow *>(palloc0(sizeof(RelRow) * std::max(n, 1)));
    for (int i = 0; i < n; ++i) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        in.rels[i] = {spi_oid(t, d, 1),    val(t, d, 2),        val(t, d, 3),
                      spi_float8(t, d, 4), spi_float8(t, d, 5), spi_float8(t, d, 6),
                      spi_float8(t, d, 7), spi_float8(t, d, 8), spi_float8(t, d, 9)};
    }
    in.nrels = n;

    n = run_select(psprintf(
        "%s SELECT a.attrelid, a.attname::text, a.attnum::int4, pg_catalog.format_type(a.atttypid, "
        "a.atttypmod), "
        "coalesce(st.avg_width, 0)::float8, coalesce(st.null_frac, 0)::float8, coalesce(st.n_distinct, "
        "0)::float8, "
        "coalesce(st.correlation, 0)::float8, st.attname IS NOT NULL, "
        "coalesce(co.collname IN ('C', 'POSIX'), false), st.most_common_vals::text::text[], "
        "st.most_common_freqs::float8[], "
        "CASE WHEN a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype) "
        "THEN st.histogram_bounds::text::text[] END, "
        "a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype) "
        "FROM r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = "
        "c.relnamespace "
        "LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
        "LEFT JOIN pg_catalog.pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname "
        "AND st.attname = a.attname AND NOT st.inherited ORDER BY 1, 3",
        rels_cte));
    in.cols = static_cast<ColRow *>(palloc0(sizeof(ColRow) * std::max(n, 1)));
    for (int i = 0; i < n; ++i) {
        HeapTuple t = SPI_tuptable->vals[i];
        TupleDesc d = SPI_tuptable->tupdesc;
        in.cols[i] = {spi_oid(t, d, 1),
                      val(t, d, 2),
                      spi_int4(t, d, 3),
                      val(t, d, 4),
                      spi_float8(t, d, 5),
                      spi_float8(t, d, 6),
                      spi_float8(t, d, 7),
                      spi_float8(t, d, 8),
                      spi_bool(t, d, 9),
                      spi_bool(t, d, 10),
                      0,
                      nullptr,
                      nullptr,
                      0,
                      nullptr,
                      nullptr,
                      nullptr};
        bool vnull, fnull;
        Datum vals = SPI_getbinval(t, d, 11, &vnull);
        Datum freqs = SPI_getbinval(t, d, 12, &fnull);
        if (!vnull && !fnull) {
            Datum *ve, *fe;
            bool *vn, *fn;
            int nv, nf;
            deconstruct_array(DatumGetArrayTypeP(vals), TEXTOID, -1, false, TYPALIGN_INT, &ve, &vn, &nv);
            deconstruct_array(DatumGetArrayTypeP(freqs), FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &fe,
                              &fn, &nf);
            int m = std::min(nv, nf);
            in.cols[i].mcv_literals = static_cast<char **>(palloc0(sizeof(char *) * std::max(m, 1)));
            in.cols[i].mcv_freqs = static_cast<double *>(palloc0(sizeof(double) * std::max(m, 1)));
            for (int k = 0; k < m; ++k) {
                if (vn[k] || fn[k]) continue;
                in.cols[i].mcv_literals[in.cols[i].nmcv] = quote_literal_cstr(TextDatumGetCString(ve[k]));
                in.cols[i].mcv_freqs[in.cols[i].nmcv++] = DatumGetFloat8(fe[k]);
            }
        }
        // Text columns: the trigram GIN size model's sample (MCVs, then histogram bounds for the other rows).
        ColRow &col = in.cols[i];
        if (spi_bool(t, d, 14)) {
            bool hnull;
            Datum bounds = SPI_getbinval(t, d, 13, &hnull);
            Datum *ve = nullptr, *fe = nullptr, *be = nullptr;
            bool *vn = nullptr, *fn = nullptr, *bn = nullptr;
            int nv = 0, nf = 0, nb = 0;
            if (!vnull && !fnull) {
                deconstruct_array(DatumGetArrayTypeP(vals), TEXTOID, -1, false, TYPALIGN_INT, &ve, &vn, &nv);
                deconstruct_array(DatumGetArrayTypeP(freqs), FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
                                  &fe, &fn, &nf);
            }
            if (!hnull)
                deconstruct_array(DatumGetArrayTypeP(bounds), TEXTOID, -1, false, TYPALIGN_INT, &be, &bn,
                                  &nb);
            const int nm = std::min(nv, nf);
            if (nm + nb > 0) {
                col.sample_text = static_cast<char **>(palloc(sizeof(char *) * (nm + nb)));
                col.sample_weight = static_cast<double *>(palloc(sizeof(double) * (nm + nb)));
                col.sample_common = static_cast<bool *>(palloc(sizeof(bool) * (nm + nb)));
                double mcv_total = 0;
                for (int k = 0; k < nm; ++k) {
                    if (vn[k] || fn[k]) continue;
                    col.sample_text[col.nsample] = TextDatumGetCString(ve[k]);
                    col.sample_weight[col.nsample] = DatumGetFloat8(fe[k]);
                    col.sample_common[col.nsample++] = true;
                    mcv_total += DatumGetFloat8(fe[k]);
                }
                const double rest = std::max(0.0, 1.0 - col.null_frac - mcv_total);
                for (int k = 0; k < nb; ++k) {
                    if (bn[k]) continue;
                    col.sample_text[col.nsample] = TextDatumGetCString(be[k]);
                    col.sample_weight[col.nsample] = rest / nb;
                    col.sample_common[col.nsample++] = false;
                }
            }
        }
    }
    in.ncols = n;

    // Existing indexes of those relations: the one catalog reader shared with index_health.
    Oid *relids = static_cast<Oid *>(palloc(sizeof(Oid) * std::max(in.nrels, 1)));
    for (int i = 0; i < in.nrels; ++i) relids[i] = in.rels[i].relid;
    ExistingIndexRows existing = read_existing_indexes(relids, in.nrels, CurrentMemoryContext);
    in.idx = existing.rows;
    n = existing.count;
    in.nidx = n;
}

// Equality constants of one exemplar: parse and analyse it (never plan or run it) as the user who ran it,
// and collect `column = constant` conjuncts of its top-level WHERE. A failure (the table is gone, ...) just
// yields nothing: it runs in a subtransaction.
struct ConstWalk {
    Query *query;
    const ExemplarRow *ex;
    ConstRow *out;
    int *n;
    int cap;
};

void note_equality(ConstWalk &w, Node *node) {
    if (node == nullptr) return;
    if (IsA(node, BoolExpr) && reinterpret_cast<BoolExpr *>(node)->boolop == AND_EXPR) {
        ListCell *lc;
        foreach (lc, reinterpret_cast<BoolExpr *>(node)->args)
            note_equality(w, static_cast<Node *>(lfirst(lc)));
        return;
    }
    if (IsA(node, List)) {
        ListCell *lc;
        foreach (lc, reinterpret_cast<List *>(node)) note_equality(w, static_cast<Node *>(lfirst(lc)));
        return;
    }
    if (!IsA(node, OpExpr) || list_length(reinterpret_cast<OpExpr *>(node)->args) != 2) return;
    auto *op = reinterpret_cast<OpExpr *>(node);
    char *opname = get_opname(op->opno);
    if (opname == nullptr || strcmp(opname, "=") != 0) return;
    Node *l = static_cast<Node *>(linitial(op->args));
    Node *r = static_cast<Node *>(lsecond(op->args));
    while (l && IsA(l, RelabelType)) l = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(l)->arg);
    while (r && IsA(r, RelabelType)) r = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(r)->arg);
    if (r && IsA(r, Var)) std::swap(l, r);
    if (!l || !IsA(l, Var) || !r) return;
    auto *var = reinterpret_cast<Var *>(l);
    if (var->varlevelsup != 0 || var->varattno <= 0) return;
    RangeTblEntry *rte = rt_fetch(var->varno, w.query->rtable);
    if (rte->rtekind != RTE_RELATION) return;
    char *text = nullptr;
    if (IsA(r, Const)) {
        auto *c = reinterpret_cast<Const *>(r);
        if (c->constisnull) return;
        Oid out;
        bool varlena;
        getTypeOutputInfo(c->consttype, &out, &varlena);
        text = OidOutputFunctionCall(out, c->constvalue);
    } else if (IsA(r, Param) && reinterpret_cast<Param *>(r)->paramkind == PARAM_EXTERN) {
        int k = reinterpret_cast<Param *>(r)->paramid - 1;
        if (k < 0 || k >= w.ex->nparams || w.ex->values[k] == nullptr) return;
        text = pstrdup(w.ex->values[k]);
    } else {
        return;
    }
    if (*w.n >= w.cap) return;
    ConstRow &row = w.out[(*w.n)++];
    row.queryid = w.ex->queryid;
    row.relid = rte->relid;
    row.column = get_attname(rte->relid, var->varattno, false);
    row.literal = quote_literal_cstr(text);
}

// Columns an exemplar reads, sorts and groups by, per base relation (see UseRow). Rows are palloc'd in `cxt`
// (the skill's context), so they outlive the subtransaction the exemplar is analysed in.
struct UseWalk {
    Inputs *in;
    MemoryContext cxt;
    Query *query;
    int64 queryid;
};

void add_use(UseWalk &w, Oid relid, int kind, AttrNumber attno, int pos, bool descending) {
    Inputs &in = *w.in;
    if (in.nuses >= in.uses_cap) {
        MemoryContext old = MemoryContextSwitchTo(w.cxt);
        int cap = std::max(64, in.uses_cap * 2);
        in.uses = in.uses ? static_cast<UseRow *>(repalloc(in.uses, sizeof(UseRow) * cap))
                          : static_cast<UseRow *>(palloc0(sizeof(UseRow) * cap));
        in.uses_cap = cap;
        MemoryContextSwitchTo(old);
    }
    UseRow &u = in.uses[in.nuses++];
    u.queryid = w.queryid;
    u.relid = relid;
    u.kind = kind;
    u.column = nullptr;
    if (attno > 0) {
        MemoryContext old = MemoryContextSwitchTo(w.cxt);
        u.column = get_attname(relid, attno, true);
        MemoryContextSwitchTo(old);
        if (u.column == nullptr) {
            --in.nuses;  // dropped column
            return;
        }
    }
    u.pos = pos;
    u.descending = descending;
}

Node *strip_relabel(Node *n) {
    while (n && IsA(n, RelabelType)) n = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(n)->arg);
    return n;
}

// The base relation column a (flattened) expression is, or false.
bool base_column(Query *q, Node *n, Oid *relid, AttrNumber *attno) {
    n = strip_relabel(n);
    if (!n || !IsA(n, Var)) return false;
    auto *v = reinterpret_cast<Var *>(n);
    if (v->varlevelsup != 0 || v->varattno <= 0 || v->varno < 1 ||
        v->varno > static_cast<int>(list_length(q->rtable)))
        return false;
    RangeTblEntry *rte = rt_fetch(v->varno, q->rtable);
    if (rte->rtekind != RTE_RELATION) return false;
    *relid = rte->relid;
    *attno = v->varattno;
    return true;
}

bool read_walker(Node *node, void *arg) {
    if (node == nullptr) return false;
    auto &w = *static_cast<UseWalk *>(arg);
    if (IsA(node, Var)) {
        auto *v = reinterpret_cast<Var *>(node);
        if (v->varlevelsup != 0 || v->varno < 1 || v->varno > static_cast<int>(list_length(w.query->rtable)))
            return false;
        RangeTblEntry *rte = rt_fetch(v->varno, w.query->rtable);
        if (rte->rtekind != RTE_RELATION) return false;
        if (v->varattno == 0)
            add_use(w, rte->relid, kUseAllColumns, 0, 0, false);
        else if (v->varattno > 0)
            add_use(w, rte->relid, kUseRead, v->varattno, 0, false);
        return false;
    }
    if (IsA(node, Query)) return false;  // a sublink's subquery reads its own relations
    return expression_tree_walker(
        node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(read_walker)), arg);
}

void note_reads(UseWalk &w, Node *node) {
    if (node == nullptr) return;
    read_walker(flatten_join_alias_vars(w.query, node), &w);
}

void note_uses(UseWalk &w, Query *q, bool top) {
    if (q == nullptr || q->commandType != CMD_SELECT) return;
    Query *saved = w.query;
    w.query = q;
    note_reads(w, reinterpret_cast<Node *>(q->targetList));
    note_reads(w, reinterpret_cast<Node *>(q->jointree));
    note_reads(w, q->havingQual);
    if (top) {
        add_use(w, InvalidOid, kUseAnalyzed, 0, 0, false);
        if (q->limitCount) add_use(w, InvalidOid, kUseLimit, 0, 0, false);
        // ORDER BY: recorded only when every key is a plain column of one and the same relation.
        Oid order_rel = InvalidOid;
        bool single = q->sortClause != NIL;
        ListCell *lc;
        foreach (lc, q->sortClause) {
            auto *sgc = static_cast<SortGroupClause *>(lfirst(lc));
            TargetEntry *tle = get_sortgroupclause_tle(sgc, q->targetList);
            Oid relid;
            AttrNumber attno;
            if (!base_column(q, flatten_join_alias_vars(q, reinterpret_cast<Node *>(tle->expr)), &relid,
                             &attno) ||
                (OidIsValid(order_rel) && relid != order_rel)) {
                single = false;
                break;
            }
            order_rel = relid;
        }
        if (single) {
            int pos = 0;
            foreach (lc, q->sortClause) {
                auto *sgc = static_cast<SortGroupClause *>(lfirst(lc));
                TargetEntry *tle = get_sortgroupclause_tle(sgc, q->targetList);
                Oid relid;
                AttrNumber attno;
                base_column(q, flatten_join_alias_vars(q, reinterpret_cast<Node *>(tle->expr)), &relid,
                            &attno);
                Oid opfamily, opcintype;
                int16 strategy = 0;
                bool desc = get_ordering_op_properties(sgc->sortop, &opfamily, &opcintype, &strategy) &&
                            strategy == BTGreaterStrategyNumber;
                add_use(w, relid, kUseOrder, attno, pos++, desc);
            }
        }
        // GROUP BY: the plain-column keys, per relation, in statement order.
        int pos = 0;
        foreach (lc, q->groupClause) {
            auto *sgc = static_cast<SortGroupClause *>(lfirst(lc));
            TargetEntry *tle = get_sortgroupclause_tle(sgc, q->targetList);
            Oid relid;
            AttrNumber attno;
            if (base_column(q, flatten_join_alias_vars(q, reinterpret_cast<Node *>(tle->expr)), &relid,
                            &attno))
                add_use(w, relid, kUseGroup, attno, pos++, false);
        }
    }
    // Subqueries in FROM read columns of their own relations (their ORDER BY/LIMIT are not the statement's).
    ListCell *lc;
    foreach (lc, q->rtable) {
        auto *rte = static_cast<RangeTblEntry *>(lfirst(lc));
        if (rte->rtekind == RTE_SUBQUERY) note_uses(w, rte->subquery, false);
    }
    w.query = saved;
}

void gather_constants(Inputs &in) {
    const int cap = 16 * std::max(in.nexemplars, 1);
    in.consts = static_cast<ConstRow *>(palloc0(sizeof(ConstRow) * cap));
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    for (int i = 0; i < in.nexemplars; ++i) {
        const ExemplarRow *ex = &in.exemplars[i];
        if (ex->query == nullptr) continue;
        Oid save_user;
        int save_sec;
        GetUserIdAndSecContext(&save_user, &save_sec);
        const int nuses_before = in.nuses;
        const int nconsts_before = in.nconsts;
        BeginInternalSubTransaction(nullptr);
        MemoryContextSwitchTo(cxt);
        PG_TRY();
        {
            if (OidIsValid(ex->userid) && ex->userid != save_user)
                SetUserIdAndSecContext(ex->userid, save_sec | SECURITY_LOCAL_USERID_CHANGE);
            List *queries =
                analyze_single_dml(ex->query, ex->nparams > 0 ? ex->types : nullptr, ex->nparams, false);
            if (list_length(queries) == 1) {
                Query *q = linitial_node(Query, queries);
                ConstWalk w{q, ex, in.consts, &in.nconsts, cap};
                if (q->jointree) note_equality(w, q->jointree->quals);
                UseWalk uw{&in, cxt, q, ex->queryid};
                note_uses(uw, q, true);
            }
            SetUserIdAndSecContext(save_user, save_sec);
            // Rolled back, not committed: the relation locks parse analysis took are released now instead of
            // at the end of the cycle (the collected rows live in `cxt`, outside the subtransaction).
            RollbackAndReleaseCurrentSubTransaction();
        }
        PG_CATCH();
        {
            MemoryContextSwitchTo(cxt);
            ErrorData *edata = CopyErrorData();
            FlushErrorState();
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
            // A cancel or shutdown is not this exemplar's fault: let it through.
            if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
                ReThrowError(edata);
            FreeErrorData(edata);
            // Half-collected rows of a failed exemplar would describe a statement that was not analysed.
            in.nuses = nuses_before;
            in.nconsts = nconsts_before;
        }
        PG_END_TRY();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
    }
}

// ---- 2. advice (C++ regime) -----------------------------------------------------------------------------

std::string s(const char *p) {
    return p ? std::string(p) : std::string();
}

void add_op(std::vector<ci::PredicateOp> &ops, const std::string &op) {
    if (op == "=")
        ops.push_back(ci::PredicateOp::kEq);
    else if (op == "<")
        ops.push_back(ci::PredicateOp::kLt);
    else if (op == ">")
        ops.push_back(ci::PredicateOp::kGt);
    else if (op == "<=")
        ops.push_back(ci::PredicateOp::kLe);
    else if (op == ">=")
        ops.push_back(ci::PredicateOp::kGe);
    else if (op == "= ANY")
        ops.push_back(ci::PredicateOp::kIn);
    else if (op == "IS NULL")
        ops.push_back(ci::PredicateOp::kIsNull);
    else if (op == "ILIKE" || op == "~~*")
        ops.push_back(ci::PredicateOp::kLikeInfix);
    else if (op == "LIKE" || op == "~~") {
        // The pattern is not recorded: offer both a prefix (btree) and an infix (trigram) reading and let the
        // what-if planner tell which one the query can use.
        ops.push_back(ci::PredicateOp::kLikePrefix);
        ops.push_back(ci::PredicateOp::kLikeInfix);
    }
}

// What the exemplars' parse trees say about each profiled query (gather_constants): the columns it reads from
// each relation (covering INCLUDE candidates), and its ORDER BY / GROUP BY in statement order with directions
// (the hook records sort columns one by one, without order or direction). An analysed exemplar is the
// statement's truth: its ORDER BY replaces the hook's; relations it reads without a predicate get a use too.
void apply_exemplar_uses(const Inputs &in, const std::map<Oid, size_t> &rel_index, const ci::Workload &w,
                         std::map<int64_t, ci::QueryProfile> &profiles) {
    struct RelUse {
        std::vector<std::string> reads;
        bool all_columns = false;
        std::vector<std::pair<int, ci::OrderKey>> order;
        std::vector<std::pair<int, std::string>> group;
    };
    struct QueryUse {
        bool analyzed = false;
        bool limit = false;
        std::map<Oid, RelUse> rels;
    };
    std::map<int64_t, QueryUse> uses;
    for (int i = 0; i < in.nuses; ++i) {
        const UseRow &u = in.uses[i];
        if (!profiles.count(u.queryid)) continue;
        QueryUse &qu = uses[u.queryid];
        if (u.kind == kUseAnalyzed) {
            qu.analyzed = true;
            continue;
        }
        if (u.kind == kUseLimit) {
            qu.limit = true;
            continue;
        }
        if (!rel_index.count(u.relid)) continue;
        RelUse &ru = qu.rels[u.relid];
        std::string column = s(u.column);
        switch (u.kind) {
            case kUseRead:
                if (std::find(ru.reads.begin(), ru.reads.end(), column) == ru.reads.end())
                    ru.reads.push_back(column);
                break;
            case kUseAllColumns:
                ru.all_columns = true;
                break;
            case kUseOrder:
                ru.order.push_back({u.pos, {column, u.descending}});
                break;
            case kUseGroup:
                ru.group.push_back({u.pos, column});
                break;
            default:
                break;
        }
    }
    for (auto &[qid, qu] : uses) {
        if (!qu.analyzed) continue;
        ci::QueryProfile &qp = profiles[qid];
        for (auto &[relid, ru] : qu.rels) {
            ci::QueryRelationUse *use = nullptr;
            for (auto &existing : qp.relations)
                if (existing.relation_oid == relid) use = &existing;
            if (!use) {
                qp.relations.push_back({});
                use = &qp.relations.back();
                use->relation_oid = relid;
            }
            use->selected_columns.clear();
            if (ru.all_columns) {
                const ci::RelationStats &rel = w.relations[rel_index.at(relid)];
                for (const auto &c : rel.columns) use->selected_columns.push_back(c.name);
            } else {
                use->selected_columns = ru.reads;
            }
            std::sort(ru.order.begin(), ru.order.end(),
                      [](const auto &a, const auto &b) { return a.first < b.first; });
            use->order_by.clear();
            for (const auto &o : ru.order) use->order_by.push_back(o.second);
            if (!ru.group.empty()) {
                std::sort(ru.group.begin(), ru.group.end());
                use->group_by.clear();
                for (const auto &g : ru.group)
                    if (std::find(use->group_by.begin(), use->group_by.end(), g.second) ==
                        use->group_by.end())
                        use->group_by.push_back(g.second);
            }
            use->has_limit = use->has_limit || qu.limit;
        }
        // The exemplar's ORDER BY does not come from one relation: the hook's per-relation sort columns
        // (if any) would describe an order the statement does not ask for.
        for (auto &use : qp.relations)
            if (!qu.rels.count(use.relation_oid)) use.order_by.clear();
    }
}

ci::Workload build_workload(const Inputs &in, const std::set<int64_t> &with_exemplar) {
    ci::Workload w;
    std::map<Oid, size_t> rel_index;
    for (int i = 0; i < in.nrels; ++i) {
        const RelRow &r = in.rels[i];
        ci::RelationStats rel;
        rel.oid = r.relid;
        rel.schema = s(r.schema);
        rel.name = s(r.name);
        rel.reltuples = r.reltuples;
        rel.relpages = r.relpages;
        rel.stats_window_seconds = in.window_s;
        rel.inserts_per_sec = r.ins / in.window_s;
        rel.updates_per_sec = r.upd / in.window_s;
        rel.deletes_per_sec = r.del / in.window_s;
        rel.hot_update_fraction = r.upd > 0 ? r.hot / r.upd : 0;
        rel_index[r.relid] = w.relations.size();
        w.relations.push_back(rel);
    }
    for (int i = 0; i < in.ncols; ++i) {
        const ColRow &c = in.cols[i];
        auto it = rel_index.find(c.relid);
        if (it == rel_index.end()) continue;
        ci::ColumnStats cs;
        cs.name = s(c.name);
        cs.attnum = c.attnum;
        cs.type_name = s(c.type_name);
        cs.avg_width = c.has_stats ? c.avg_width : 8;
        cs.null_frac = c.null_frac;
        cs.n_distinct = c.n_distinct;
        cs.correlation = c.correlation;
        cs.c_collation = c.c_collation;
        for (int k = 0; k < c.nmcv; ++k)
            cs.most_common_vals.push_back({s(c.mcv_literals[k]), c.mcv_freqs[k]});

        w.relations[it->second].columns.push_back(cs);
    }
    for (int i = 0; i < in.nidx; ++i) {
        auto it = rel_index.find(in.idx[i].relid);
        if (it != rel_index.end()) add_existing_index(w.relations[it->second], in.idx[i]);
    }

    // (queryid, relation, column) → the constant compared to, when the exemplar had exactly one.
    std::map<std::tuple<int64_t, Oid, std::string>, std::set<std::string>> constants;
    for (int i = 0; i < in.nconsts; ++i) {
        const ConstRow &c = in.consts[i];
        constants[{c.queryid, c.relid, s(c.column)}].insert(s(c.literal));
    }
    std::map<int64_t, const QueryRow *> qrows;
    for (int i = 0; i < in.nqueries; ++i) qrows[in.queries[i].queryid] = &in.queries[i];
    std::map<int64_t, ci::QueryProfile> profiles;
    for (int i = 0; i < in.npreds; ++i) {
        const PredRow &p = in.preds[i];
        if (!rel_index.count(p.relid) || !with_exemplar.count(p.queryid) || p.column == nullptr) continue;
        auto qr = qrows.find(p.queryid);
        if (qr == qrows.end() || qr->second->total_ms <= 0) continue;
        ci::QueryProfile &qp = profiles[p.queryid];
        qp.queryid = p.queryid;
        qp.weight = qr->second->total_ms;
        qp.calls = qr->second->calls;
        ci::QueryRelationUse *use = nullptr;
        for (auto &u : qp.relations)
            if (u.relation_oid == p.relid) use = &u;
        if (!use) {
            qp.relations.push_back({});
            use = &qp.relations.back();
            use->relation_oid = p.relid;
        }
        use->has_limit = use->has_limit || p.has_limit;
        std::string clause = s(p.clause);
        std::string column = s(p.column);
        if (clause == "join") {
            if (std::find(use->join_columns.begin(), use->join_columns.end(), column) ==
                use->join_columns.end())
                use->join_columns.push_back(column);
            continue;
        }
        if (clause == "order_by") {
            use->order_by.push_back({column, false});
            continue;
        }
        if (clause == "group_by") {
            use->group_by.push_back(column);
            continue;
        }
        std::vector<ci::PredicateOp> ops;
        add_op(ops, s(p.op));
        for (ci::PredicateOp op : ops) {
            ci::PredicateObservation o;
            o.relation_oid = p.relid;
            o.columns = {column};
            o.op = op;
            o.expression = s(p.expression);
            o.queryid = p.queryid;
            o.executions = p.executions;
            o.avg_selectivity = p.selectivity >= 0 && p.selectivity <= 1 ? p.selectivity : -1;
            o.used_index = p.used_index;
            if (op == ci::PredicateOp::kEq && o.expression.empty()) {
                auto k = constants.find({p.queryid, p.relid, column});
                if (k != constants.end() && k->second.size() == 1) o.constant_literal = *k->second.begin();
            }
            w.predicates.push_back(o);
        }
    }
    apply_exemplar_uses(in, rel_index, w, profiles);
    for (auto &[qid, qp] : profiles) w.queries.push_back(qp);
    return w;
}

void join_into(char *dst, size_t cap, const std::vector<std::string> &items) {
    std::string all;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) all += '\x1f';
        all += items[i];
    }
    copy_message(dst, cap, all.c_str());
}

void compute(const Inputs &in, AdviceRow *out, Outcome &res) {
    auto started = std::chrono::steady_clock::now();
    std::map<int64_t, const ExemplarRow *> exemplars;
    for (int i = 0; i < in.nexemplars; ++i)
        if (in.exemplars[i].query) exemplars[in.exemplars[i].queryid] = &in.exemplars[i];
    std::set<int64_t> with_exemplar;
    for (const auto &[qid, e] : exemplars) with_exemplar.insert(qid);

    ci::Workload w = build_workload(in, with_exemplar);
    ci::CandidateOptions copt;
    copt.trigram_available = in.trigram;
    // Text columns' samples: the trigram GIN size model (candidate sizes, storage budget, est_size_bytes).
    for (int i = 0; i < in.ncols; ++i) {
        const ColRow &c = in.cols[i];
        if (c.nsample == 0) continue;
        ci::SizeEstimatorOptions::ColumnSample sample;
        sample.column = s(c.name);
        sample.relation_oid = c.relid;
        for (int k = 0; k < c.nsample; ++k)
            sample.values.push_back({s(c.sample_text[k]), c.sample_weight[k], c.sample_common[k]});
        copt.size_options.column_samples.push_back(std::move(sample));
    }
    copt.max_candidates = kMaxCandidates;
    std::vector<ci::Candidate> candidates = ci::generate_candidates(w, copt);
    res.candidates = static_cast<int>(candidates.size());
    if (candidates.empty()) {
        res.declined = true;
        return;
    }
    ci::SelectorInput sin = ci::make_selector_input(w, candidates, kMaintenanceMsPerWrite, in.window_s);
    ci::SelectorOptions sopt;
    sopt.max_indexes = static_cast<size_t>(std::max(0, index_directives.max_indexes));
    if (index_directives.storage_budget_mb >= 0)
        sopt.storage_budget_bytes = static_cast<int64_t>(index_directives.storage_budget_mb) * 1024 * 1024;
    sopt.min_improvement = index_directives.min_improvement;
    sopt.max_cost_requests = kMaxCostRequests;
    bool interrupted = false;
    auto cancel = [&] {
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        return interrupted || InterruptPending || elapsed > kBudgetSeconds;
    };
    ci::IndexSelector selector(sin.queries, sin.candidates, sopt, cancel);
    while (!selector.done() && !interrupted) {
        std::vector<ci::CostRequest> requests = selector.next_requests();
        if (requests.empty()) break;
        for (const ci::CostRequest &r : requests) {
            auto ex = exemplars.find(r.queryid);
            if (ex == exemplars.end() || interrupted) {
                selector.provide_uncostable(r);
                continue;
            }
            std::vector<ci::IndexDef> config;
            for (int id : r.configuration) config.push_back(candidates.at(static_cast<size_t>(id)).def);
            WhatifQuery q;
            q.text = ex->second->query;
            q.nparams = ex->second->nparams;
            q.param_types = ex->second->nparams > 0 ? ex->second->types : nullptr;
            q.param_values = ex->second->nparams > 0 ? ex->second->values : nullptr;
            q.userid = ex->second->userid;
            WhatifResult wr = whatif_cost(q, config);
            if (wr.interrupted) interrupted = true;
            if (wr.ok && std::isfinite(wr.total_cost) && wr.total_cost >= 0)
                selector.provide_cost(r, wr.total_cost);
            else
                selector.provide_uncostable(r);
        }
    }
    res.interrupted = interrupted;
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!selector.done()) {
        res.cancelled = true;
        return;
    }
    const ci::SelectionResult &sel = selector.result();
    res.declined = sel.declined;
    res.cancelled = sel.cancelled;
    res.truncated = sel.truncated;
    res.cost_requests = sel.cost_requests;
    res.improvement_pct = sel.improvement_pct;
    res.costed_queries = static_cast<int>(sel.queries.size());
    if (sel.declined || sel.cancelled) return;
    std::map<int64_t, const ci::QueryCost *> final_costs;
    for (const auto &qc : sel.queries) final_costs[qc.queryid] = &qc;
    for (const ci::ChosenIndex &chosen : sel.chosen) {
        if (res.nadvice >= kMaxAdvice) break;
        const ci::Candidate &c = candidates.at(static_cast<size_t>(chosen.candidate_id));
        AdviceRow &a = out[res.nadvice++];
        const ci::RelationStats *rel = w.find_relation(c.def.relation_oid);
        copy_message(a.key, sizeof a.key, ci::canonical_key(c.def).c_str());
        copy_message(a.relation, sizeof a.relation,
                     rel ? rel->qualified_name().c_str() : c.def.table.c_str());
        a.relid = c.def.relation_oid;
        std::vector<std::string> cols;
        for (const auto &k : c.def.keys) cols.push_back(k.is_expression() ? k.expression : k.column);
        join_into(a.columns, sizeof a.columns, cols);
        join_into(a.include, sizeof a.include, c.def.include);
        copy_message(a.method, sizeof a.method, ci::to_string(c.def.method));
        copy_message(a.predicate, sizeof a.predicate, c.def.predicate.c_str());
        copy_message(a.ddl, sizeof a.ddl, ci::create_index_ddl(c.def).c_str());
        copy_message(a.reason, sizeof a.reason, c.reason.c_str());
        a.size_bytes = chosen.size_bytes;
        a.improvement_pct = chosen.improvement_pct;
        a.nqueries = 0;
        for (const auto &qc : chosen.queries) {
            if (a.nqueries >= kMaxAdviceQueries) break;
            auto f = final_costs.find(qc.queryid);
            a.queries[a.nqueries++] = {qc.queryid, qc.cost_before,
                                       f != final_costs.end() ? f->second->cost_after : qc.cost_after};
        }
    }
}

// ---- 3. store (PG regime) -------------------------------------------------------------------------------

Datum split_array(const char *joined) {
    char *copy = pstrdup(joined);
    int n = 0;
    const char *items[64];
    if (*copy) {
        char *p = copy;
        while (n < 64) {
            items[n++] = p;
            char *sep = strchr(p, '\x1f');
            if (!sep) break;
            *sep = '\0';
            p = sep + 1;
        }
    }
    return text_array_datum(items, n);
}

void store(const AdviceRow *rows, int n) {
    Datum keys[kMaxAdvice];
    for (int i = 0; i < n; ++i) {
        const AdviceRow &a = rows[i];
        Oid types[12] = {TEXTOID, TEXTOID, OIDOID,  TEXTARRAYOID, TEXTARRAYOID, TEXTOID,
                         TEXTOID, TEXTOID, INT8OID, FLOAT8OID,    INT4OID,      TEXTOID};
        Datum v[12];
        char nulls[13] = "            ";
        v[0] = CStringGetTextDatum(a.key);
        v[1] = CStringGetTextDatum(a.relation);
        v[2] = ObjectIdGetDatum(a.relid);
        v[3] = split_array(a.columns);
        v[4] = split_array(a.include);
        v[5] = CStringGetTextDatum(a.method);
        v[6] = CStringGetTextDatum(a.predicate);
        if (a.predicate[0] == '\0') nulls[6] = 'n';
        v[7] = CStringGetTextDatum(a.ddl);
        v[8] = Int64GetDatum(a.size_bytes);
        v[9] = Float8GetDatum(a.improvement_pct);
        v[10] = Int32GetDatum(a.nqueries);
        v[11] = CStringGetTextDatum(a.reason);
        // Update in place first (no sequence value is burnt for advice that persists), insert when new.
        int rc = SPI_execute_with_args(
            "UPDATE rubberduck.index_advice AS ia SET relation = $2, relation_oid = $3, columns = $4, "
            "include = $5, "
            "method = $6, predicate = $7, ddl = $8, est_size_bytes = $9, est_improvement_pct = $10, "
            "queries_improved = $11, reason = $12, "
            "status = CASE WHEN ia.status = 'stale' THEN 'advised' ELSE ia.status END, updated_at = now() "
            "WHERE advice_key = $1 RETURNING id",
            12, types, v, nulls, false, 1);
        if (rc == SPI_OK_UPDATE_RETURNING && SPI_processed == 0) {
            rc = SPI_execute_with_args(
                "INSERT INTO rubberduck.index_advice (advice_key, relation, relation_oid, columns, include, "
                "method, "
                "predicate, ddl, est_size_bytes, est_improvement_pct, queries_improved, reason) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
                12, types, v, nulls, false, 1);
        }
        if ((rc != SPI_OK_UPDATE_RETURNING && rc != SPI_OK_INSERT_RETURNING) || SPI_processed != 1)
            elog(ERROR, "indexing skill: advice upsert failed");
        bool isnull;
        int64 id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        Oid dtypes[1] = {INT8OID};
        Datum dv[1] = {Int64GetDatum(id)};
        SPI_execute_with_args("DELETE FROM rubberduck.index_advice_queries WHERE advice_id = $1", 1, dtypes,
                              dv, nullptr, false, 0);
        for (int k = 0; k < a.nqueries; ++k) {
            Oid qtypes[4] = {INT8OID, INT8OID, FLOAT8OID, FLOAT8OID};
            Datum qv[4] = {Int64GetDatum(id), Int64GetDatum(a.queries[k].queryid),
                           Float8GetDatum(a.queries[k].cost_before), Float8GetDatum(a.queries[k].cost_after)};
            SPI_execute_with_args(
                "INSERT INTO rubberduck.index_advice_queries (advice_id, queryid, cost_before, cost_after) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (advice_id, queryid) DO UPDATE SET "
                "cost_before = EXCLUDED.cost_before, cost_after = EXCLUDED.cost_after",
                4, qtypes, qv, nullptr, false, 0);
        }
        keys[i] = CStringGetTextDatum(a.key);
    }
    ArrayType *arr = construct_array(keys, n, TEXTOID, -1, false, TYPALIGN_INT);
    Oid stypes[1] = {TEXTARRAYOID};
    Datum sv[1] = {PointerGetDatum(arr)};
    SPI_execute_with_args(
        "UPDATE rubberduck.index_advice SET status = 'stale', updated_at = now() "
        "WHERE status = 'advised' AND NOT (advice_key = ANY ($1))",
        1, stypes, sv, nullptr, false, 0);
}

// Inputs fingerprint: rerun only when the observed workload moved (or after a minute).
uint64_t fingerprint(const Inputs &in) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](uint64_t v) {
        h ^= v;
        h *= 1099511628211ull;
    };
    for (int i = 0; i < in.npreds; ++i) {
        mix(static_cast<uint64_t>(in.preds[i].queryid));
        mix(static_cast<uint64_t>(in.preds[i].executions));
    }
    for (int i = 0; i < in.nexemplars; ++i) mix(static_cast<uint64_t>(in.exemplars[i].queryid));
    // Statement statistics are recorded after a statement's predicates: a cycle in between sees the
    // predicates of a statement whose calls and time are not counted yet, so they are an input too.
    for (int i = 0; i < in.nqueries; ++i) {
        mix(static_cast<uint64_t>(in.queries[i].queryid));
        mix(static_cast<uint64_t>(in.queries[i].calls));
    }
    for (int i = 0; i < in.nidx; ++i) mix(static_cast<uint64_t>(in.idx[i].scans) + static_cast<uint64_t>(i));
    mix(static_cast<uint64_t>(index_directives.max_indexes));
    mix(static_cast<uint64_t>(index_directives.storage_budget_mb));
    mix(static_cast<uint64_t>(index_directives.min_improvement * 1e6));
    return h;
}

uint64_t last_fingerprint = 0;
TimestampTz last_run = 0;
char last_note[kNoteLen] = {0};  // the summary of the last computation, kept while the workload is unchanged

void advise(CycleContext &ctx, SkillOutcome &outcome) {
    Inputs in;
    gather(in);
    uint64_t fp = fingerprint(in);
    bool unchanged = fp == last_fingerprint && last_run != 0;
    TimestampTz now = GetCurrentTimestamp();
    if (unchanged && !TimestampDifferenceExceeds(last_run, now, 60 * 1000)) {
        char note[kNoteLen];
        snprintf(note, sizeof note, "workload unchanged since the last advice: %s", last_note);
        set_text(outcome.note, sizeof outcome.note, note);
        return;
    }
    gather_constants(in);
    auto *rows = static_cast<AdviceRow *>(palloc0(sizeof(AdviceRow) * kMaxAdvice));
    Outcome res;
    // R42: what-if planning takes seconds; it must not hold one snapshot (and the xmin horizon) meanwhile.
    // The skill's snapshot is released and every whatif_cost call plans under its own short snapshot; the
    // skill gets a fresh one back for store(). Nothing is written before this point in the cycle (an
    // assigned xid holds the horizon back just the same): run_index_autonomy() runs after advise().
    pgstat_report_activity(STATE_RUNNING, "rubberduck indexing: what-if planning");
    bool released = whatif_release_snapshot();
    PG_TRY();
    {
        cpp_guard([&] { compute(in, rows, res); });
    }
    PG_CATCH();
    {
        // The skill's subtransaction is aborted next, which needs no snapshot of ours at its level.
        pgstat_report_activity(STATE_RUNNING, "rubberduck agent cycle");
        PG_RE_THROW();
    }
    PG_END_TRY();
    whatif_restore_snapshot(released);
    pgstat_report_activity(STATE_RUNNING, "rubberduck agent cycle");
    if (res.interrupted) CHECK_FOR_INTERRUPTS();
    last_fingerprint = fp;
    last_run = now;
    char note[kNoteLen];
    if (res.cancelled) {
        snprintf(note, sizeof note, "advice not refreshed: the %.0f s budget ran out after %zu what-if plans",
                 kBudgetSeconds, res.cost_requests);
        last_fingerprint = 0;  // try again next cycle
    } else {
        snprintf(
            note, sizeof note,
            "%d predicates, %d exemplars, %d candidates, %zu what-if plans in %.2f s: %d indexes advised "
            "(%.1f%% of the workload's cost)%s%s",
            in.npreds, in.nexemplars, res.candidates, res.cost_requests, res.seconds, res.nadvice,
            res.improvement_pct, res.declined ? ", below rubberduck.indexing_min_improvement" : "",
            ctx.read_only ? " (read-only: not stored)" : "");
        if (!ctx.read_only) store(rows, res.declined ? 0 : res.nadvice);
    }
    set_text(outcome.note, sizeof outcome.note, note);
    strlcpy(last_note, note, sizeof last_note);
}

void run_indexing(CycleContext &ctx, rt::Mode mode, SkillOutcome &outcome) {
    if (mode == rt::Mode::Observe) {
        set_text(outcome.note, sizeof outcome.note, "observe mode: no advice computed");
        return;
    }
    advise(ctx, outcome);
    // After the what-if planning: autonomy may write (and so hold a transaction id), which must not hold the
    // xmin horizon back while the advisor plans (R42). It builds, verifies and reverts from the fresh advice.
    run_index_autonomy(ctx, mode, outcome);  // pg/index/index_autonomy.cpp
}

}  // namespace

SkillRun indexing_runner() {
    return run_indexing;
}

}  // namespace rubberduck::pg
