// SQL functions behind rubberduck.query_insights, rubberduck.predicates and rubberduck._exemplars().
// Data is copied out of shared memory under the locks (PG regime), C++ computes into palloc'd arrays through
// cpp_guard, and rows are built after (R9, R11).
#include <algorithm>
#include <cmath>

#include "core/stats/latency_histogram.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/functions/srf.hpp"
#include "pg/module.hpp"
#include "pg/shmem/query_stats_table.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
}

using namespace rubberduck::pg;

extern "C" {
PG_FUNCTION_INFO_V1(rubberduck_query_insights);
PG_FUNCTION_INFO_V1(rubberduck_predicates);
PG_FUNCTION_INFO_V1(rubberduck_exemplars);
}

namespace {

constexpr const char *kFlagNames[] = {"slow",          "seq_scan_heavy", "low_hit_ratio", "temp_spill",
                                      "high_variance", "n_plus_one",     "regressed"};
constexpr int kFlagCount = 7;

int cmp_insight(const void *a, const void *b) {
    uint64_t x = static_cast<const QueryInsight *>(a)->queryid,
             y = static_cast<const QueryInsight *>(b)->queryid;
    return x < y ? -1 : (x > y ? 1 : 0);
}

bool not_ready() {
    if (!preloaded || !query_stats_shared()) {
        warn_not_preloaded();
        return true;
    }
    return false;
}

struct Quantiles {
    double p50, p95, p99;
};

}  // namespace

// queryid, userid, dbid, query, calls, total_ms, mean_ms, stddev_ms, p50_ms, p95_ms, p99_ms, rows_per_call,
// shared_hit_ratio, plans, plan_changes, first_seen, last_seen, flags, suggestions, min_ms, max_ms, rows,
// shared_blks_hit, shared_blks_read, temp_blks_read, temp_blks_written, planning_calls, mean_plan_ms
extern "C" Datum rubberduck_query_insights(PG_FUNCTION_ARGS) {
    SrfRows srf = begin_srf(fcinfo);
    if (not_ready()) return (Datum)0;
    int n = 0, ni = 0;
    QueryEntry *entries = snapshot_queries(&n);
    QueryInsight *insights = snapshot_insights(&ni);
    if (ni > 1) qsort(insights, ni, sizeof(QueryInsight), cmp_insight);
    auto *q = static_cast<Quantiles *>(palloc(sizeof(Quantiles) * std::max(n, 1)));
    cpp_guard([&] {
        for (int i = 0; i < n; ++i) {
            const auto &h = entries[i].c.hist;
            bool empty = entries[i].c.calls == 0;
            q[i].p50 = empty ? NAN : h.quantile(0.50);
            q[i].p95 = empty ? NAN : h.quantile(0.95);
            q[i].p99 = empty ? NAN : h.quantile(0.99);
        }
    });
    Oid me = GetUserId();
    bool read_all = has_privs_of_role(me, ROLE_PG_READ_ALL_STATS);
    for (int i = 0; i < n; ++i) {
        const QueryEntry &e = entries[i];
        const QueryCounters &c = e.c;
        bool visible = read_all || e.key.userid == me;
        Datum values[28];
        bool nulls[28] = {false};
        values[0] = Int64GetDatum(static_cast<int64_t>(e.key.queryid));
        nulls[0] = !visible;
        values[1] = ObjectIdGetDatum(e.key.userid);
        values[2] = ObjectIdGetDatum(e.key.dbid);
        if (!visible)
            values[3] = text_datum("<insufficient privilege>");
        else if (e.text_pending)
            nulls[3] = true;
        else
            values[3] = text_datum(e.text);
        values[4] = Int64GetDatum(c.calls);
        values[5] = Float8GetDatum(c.total_ms);
        values[6] = Float8GetDatum(c.calls > 0 ? c.exec.mean : 0.0);
        values[7] = Float8GetDatum(std::sqrt(c.exec.population_variance()));
        values[8] = Float8GetDatum(q[i].p50);
        values[9] = Float8GetDatum(q[i].p95);
        values[10] = Float8GetDatum(q[i].p99);
        nulls[8] = nulls[9] = nulls[10] = c.calls == 0;
        values[11] = Float8GetDatum(c.calls > 0 ? static_cast<double>(c.rows) / c.calls : 0.0);
        int64_t blocks = c.shared_blks_hit + c.shared_blks_read;
        values[12] = Float8GetDatum(blocks > 0 ? static_cast<double>(c.shared_blks_hit) / blocks : 0.0);
        nulls[12] = blocks == 0;
        values[13] = Int64GetDatum(c.distinct_plans);
        values[14] = Int64GetDatum(c.plan_changes);
        timestamp_or_null(c.first_seen, values[15], nulls[15]);
        timestamp_or_null(c.last_seen, values[16], nulls[16]);
        const char *flags[kFlagCount];
        int nf = 0;
        const char *sugg[16];
        int ns = 0;
        QueryInsight probe;
        probe.queryid = e.key.queryid;
        auto *ins = ni > 0 ? static_cast<QueryInsight *>(
                                 bsearch(&probe, insights, ni, sizeof(QueryInsight), cmp_insight))
                           : nullptr;
        char *sbuf = nullptr;
        if (ins) {
            for (int f = 0; f < kFlagCount; ++f)
                if (ins->flags & (1u << f)) flags[nf++] = kFlagNames[f];
            sbuf = pstrdup(ins->suggestions);
            for (char *p = sbuf; *p && ns < 16;) {
                char *nl = strchr(p, '\n');
                if (nl) *nl = '\0';
                if (*p) sugg[ns++] = p;
                if (!nl) break;
                p = nl + 1;
            }
        }
        values[17] = text_array_datum(flags, nf);
        values[18] = text_array_datum(sugg, visible ? ns : 0);
        values[19] = Float8GetDatum(c.min_ms);
        values[20] = Float8GetDatum(c.max_ms);
        values[21] = Int64GetDatum(c.rows);
        values[22] = Int64GetDatum(c.shared_blks_hit);
        values[23] = Int64GetDatum(c.shared_blks_read);
        values[24] = Int64GetDatum(c.temp_blks_read);
        values[25] = Int64GetDatum(c.temp_blks_written);
        values[26] = Int64GetDatum(c.plans);
        values[27] = Float8GetDatum(c.plans > 0 ? c.total_plan_ms / c.plans : 0.0);
        nulls[27] = c.plans == 0;
        put_row(srf, values, nulls);
        if (sbuf) pfree(sbuf);
    }
    return (Datum)0;
}

namespace {

const char *operator_text(const PredEntry &p) {
    auto kind = static_cast<PredKind>(p.key.kind);
    switch (kind) {
        case PredKind::IsNull:
            return "IS NULL";
        case PredKind::IsNotNull:
            return "IS NOT NULL";
        case PredKind::OrderBy:
            return "ORDER BY";
        case PredKind::GroupBy:
            return "GROUP BY";
        default:
            break;
    }
    Oid opno = p.key.opno;
    if (p.key.commuted && kind != PredKind::ArrayOp) {
        Oid com = get_commutator(opno);
        if (OidIsValid(com)) opno = com;
    }
    char *name = get_opname(opno);
    if (!name) return "?";
    const char *shown = name;
    if (strcmp(name, "~~") == 0)
        shown = "LIKE";
    else if (strcmp(name, "~~*") == 0)
        shown = "ILIKE";
    else if (strcmp(name, "!~~") == 0)
        shown = "NOT LIKE";
    else if (strcmp(name, "!~~*") == 0)
        shown = "NOT ILIKE";
    if (kind == PredKind::ArrayOp) return psprintf("%s %s", shown, p.key.commuted ? "ALL" : "ANY");
    return shown;
}

const char *clause_text(PredKind kind) {
    switch (kind) {
        case PredKind::Join:
            return "join";
        case PredKind::OrderBy:
            return "order_by";
        case PredKind::GroupBy:
            return "group_by";
        default:
            return "where";
    }
}

}  // namespace

// relation, columns, operator, queryid, executions, avg_selectivity, used_index, clause, expression,
// rows_examined, rows_returned, index_executions, has_limit, last_seen
extern "C" Datum rubberduck_predicates(PG_FUNCTION_ARGS) {
    SrfRows srf = begin_srf(fcinfo);
    if (not_ready()) return (Datum)0;
    int n = 0;
    PredEntry *preds = snapshot_predicates(&n);
    for (int i = 0; i < n; ++i) {
        const PredEntry &p = preds[i];
        if (p.key.dbid != MyDatabaseId) continue;
        char *relname = get_rel_name(p.key.relid);
        if (!relname) continue;  // dropped since
        const char *cols[kPredColumns];
        int nc = 0;
        bool ok = true;
        for (int k = 0; k < p.key.ncols && k < kPredColumns; ++k) {
            char *att = get_attname(p.key.relid, p.key.attnums[k], true);
            if (!att) {
                ok = false;
                break;
            }
            cols[nc++] = att;
        }
        if (!ok) continue;  // column dropped since
        auto kind = static_cast<PredKind>(p.key.kind);
        Datum values[14];
        bool nulls[14] = {false};
        values[0] = ObjectIdGetDatum(p.key.relid);
        values[1] = text_array_datum(cols, nc);
        values[2] = text_datum(operator_text(p));
        values[3] = Int64GetDatum(static_cast<int64_t>(p.key.queryid));
        values[4] = Int64GetDatum(p.executions);
        values[5] = Float8GetDatum(p.selectivity_count > 0 ? p.sum_selectivity / p.selectivity_count : 0.0);
        nulls[5] = p.selectivity_count == 0;
        values[6] = BoolGetDatum(p.index_executions * 2 > p.executions);
        values[7] = text_datum(clause_text(kind));
        if (kind == PredKind::FuncOp) {
            const char *fname = OidIsValid(p.key.funcid) ? get_func_name(p.key.funcid) : nullptr;
            values[8] =
                text_datum(fname ? psprintf("%s(%s)", quote_identifier(fname), quote_identifier(cols[0]))
                                 : psprintf("(%s)::?", quote_identifier(cols[0])));
        } else {
            nulls[8] = true;
        }
        values[9] = Float8GetDatum(p.rows_examined);
        values[10] = Float8GetDatum(p.rows_returned);
        values[11] = Int64GetDatum(p.index_executions);
        values[12] = BoolGetDatum(p.limit_executions * 2 > p.executions);
        timestamp_or_null(p.last_seen, values[13], nulls[13]);
        put_row(srf, values, nulls);
    }
    return (Datum)0;
}

// queryid, dbid, userid, exec_ms, captured_at, query, param_types, param_values (superuser only)
extern "C" Datum rubberduck_exemplars(PG_FUNCTION_ARGS) {
    if (!superuser())
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to read statement exemplars"),
                        errdetail("Exemplars hold real constants and parameter values."),
                        errhint("Only superusers may call rubberduck._exemplars().")));
    SrfRows srf = begin_srf(fcinfo);
    if (not_ready()) return (Datum)0;
    int n = 0;
    Exemplar *ex = snapshot_exemplars(&n);
    for (int i = 0; i < n; ++i) {
        const Exemplar &e = ex[i];
        Datum values[8];
        bool nulls[8] = {false};
        values[0] = Int64GetDatum(static_cast<int64_t>(e.queryid));
        values[1] = ObjectIdGetDatum(e.dbid);
        values[2] = ObjectIdGetDatum(e.userid);
        values[3] = Float8GetDatum(e.exec_ms);
        timestamp_or_null(e.captured_at, values[4], nulls[4]);
        values[5] = text_datum(e.text);
        int np = std::max(0, std::min(e.nparams, kExemplarMaxParams));
        Datum *types = static_cast<Datum *>(palloc(sizeof(Datum) * std::max(np, 1)));
        Datum *vals = static_cast<Datum *>(palloc(sizeof(Datum) * std::max(np, 1)));
        bool *vnulls = static_cast<bool *>(palloc(sizeof(bool) * std::max(np, 1)));
        for (int k = 0; k < np; ++k) {
            types[k] = ObjectIdGetDatum(e.param_types[k]);
            vnulls[k] = e.param_offsets[k] < 0;
            vals[k] = vnulls[k] ? (Datum)0 : CStringGetTextDatum(e.params + e.param_offsets[k]);
        }
        values[6] = PointerGetDatum(construct_array(types, np, REGTYPEOID, sizeof(Oid), true, TYPALIGN_INT));
        int dims[1] = {np}, lbs[1] = {1};
        values[7] = PointerGetDatum(
            np > 0 ? construct_md_array(vals, vnulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT)
                   : construct_empty_array(TEXTOID));
        put_row(srf, values, nulls);
    }
    return (Datum)0;
}
