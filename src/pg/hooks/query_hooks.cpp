// Collection hooks of the query_optimizer agent (issue #3): post_parse_analyze, planner, ExecutorStart/Run/
// Finish/End and ProcessUtility, chained in front of whatever was installed before us (pg_stat_statements,
// auto_explain, pg_qualstats ... loaded before or after). Record, don't think (R27/R28): the common path is a
// shared-lock hash lookup and a spinlock-protected counter update; no C++ allocation, no catalog lookup.
//
// What is skipped: parallel workers (their leader counts the statement), queryId 0, our own agents
// (in_agent_process), utility statements, and nested statements unless rubberduck.track = all (none:
// nothing). Nesting depth is one counter raised around ExecutorRun/Finish, planning and utility statements
// and restored in PG_FINALLY (R26).
//
// Sampled executions (rubberduck.sample_rate) run with per-node row instrumentation; at ExecutorEnd their
// plan state tree is walked for predicates (scan quals, join clauses, ORDER BY/GROUP BY columns) and the most
// expensive ones may leave an exemplar (query_stats_table.hpp).
#include <algorithm>

#include "core/query/n_plus_one_detector.h"
#include "core/query/plan_fingerprint.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/guc/directives.hpp"
#include "pg/hooks/query_hooks.hpp"
#include "pg/shmem/query_stats_table.hpp"
#include "pg/shmem/shmem_registry.hpp"
#include "pg/workers/agent_process.hpp"

extern "C" {
#include "access/parallel.h"
#include "common/keywords.h"
#include "common/pg_prng.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "parser/scanner.h"
#include "storage/backendid.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/lsyscache.h"
#include "utils/queryjumble.h"
#include "utils/rel.h"
}

namespace rubberduck::pg {
namespace {

namespace cq = core::query;

post_parse_analyze_hook_type prev_post_parse_analyze = nullptr;
planner_hook_type prev_planner = nullptr;
ExecutorStart_hook_type prev_executor_start = nullptr;
ExecutorRun_hook_type prev_executor_run = nullptr;
ExecutorFinish_hook_type prev_executor_finish = nullptr;
ExecutorEnd_hook_type prev_executor_end = nullptr;
ProcessUtility_hook_type prev_process_utility = nullptr;

int nesting_level = 0;

bool tracking(int level) {
    if (IsParallelWorker() || in_agent_process || !shmem_ready() || !query_stats_shared()) return false;
    auto t = static_cast<TrackLevel>(directives.track);
    return t == TrackLevel::All || (t == TrackLevel::Top && level == 0);
}

QueryKey make_key(uint64 queryid) {
    QueryKey key;
    std::memset(&key, 0, sizeof key);  // HASH_BLOBS hashes padding (R31)
    key.userid = GetUserId();
    key.dbid = MyDatabaseId;
    key.queryid = queryid;
    return key;
}

// ---- normalised text ---------------------------------------------------------------------------------
// Constants are found by the clocations the query jumble recorded; their lengths by re-lexing the text with
// the core scanner (a constant is one token, or '-' followed by one). Written into a bounded buffer.

int compare_location(const void *a, const void *b) {
    int la = static_cast<const LocationLen *>(a)->location;
    int lb = static_cast<const LocationLen *>(b)->location;
    return la < lb ? -1 : (la > lb ? 1 : 0);
}

// Returns the normalised length written into out (at most cap - 1 bytes, NUL-terminated).
int normalize_query(const char *query, int query_loc, int query_len, const JumbleState *jstate, char *out,
                    int cap) {
    int n = jstate ? jstate->clocations_count : 0;
    auto *locs = static_cast<LocationLen *>(palloc(sizeof(LocationLen) * std::max(n, 1)));
    if (n > 0) std::memcpy(locs, jstate->clocations, sizeof(LocationLen) * n);
    if (n > 1) qsort(locs, n, sizeof(LocationLen), compare_location);
    for (int i = 0; i < n; ++i) locs[i].length = -1;
    if (n > 0) {
        core_yy_extra_type yyextra;
        core_yyscan_t scanner = scanner_init(query, &yyextra, &ScanKeywords, ScanKeywordTokens);
        yyextra.escape_string_warning = false;
        int last = -1;
        for (int i = 0; i < n; ++i) {
            int loc = locs[i].location;
            if (loc < 0 || loc <= last) continue;  // unknown or duplicate (e.g. a repeated expression)
            for (;;) {
                core_YYSTYPE yylval;
                YYLTYPE yylloc;
                int tok = core_yylex(&yylval, &yylloc, scanner);
                if (tok == 0) break;
                if (yylloc >= loc) {
                    if (query[loc] == '-') {  // a negative constant: '-' then the number
                        tok = core_yylex(&yylval, &yylloc, scanner);
                        if (tok == 0) break;
                    }
                    // The scanner NUL-terminates the current token in its buffer.
                    locs[i].length = static_cast<int>(strlen(yyextra.scanbuf + loc));
                    break;
                }
            }
            last = loc;
        }
        scanner_finish(scanner);
    }
    int w = 0, pos = query_loc, end = query_loc + query_len,
        param = jstate ? jstate->highest_extern_param_id : 0;
    auto put = [&](const char *s, int len) {
        len = std::min(len, cap - 1 - w);
        if (len > 0) {
            std::memcpy(out + w, s, len);
            w += len;
        }
    };
    for (int i = 0; i < n && w < cap - 1; ++i) {
        int loc = locs[i].location, len = locs[i].length;
        if (len < 0 || loc < pos || loc + len > end) continue;
        put(query + pos, loc - pos);
        char buf[16];
        int bl = snprintf(buf, sizeof buf, "$%d", ++param);
        put(buf, bl);
        pos = loc + len;
    }
    if (pos < end) put(query + pos, end - pos);
    out[w] = '\0';
    pfree(locs);
    return w;
}

// Texts of constant-free statements parsed but not executed yet (a few, backend-local): such a statement's
// entry is created at its first execution, not at parse time, so statements that are parsed but never run
// (a view's query inside CREATE VIEW, ...) leave no zero-call entries. Statements with constants get their
// entry at parse time, where the jumble's constant locations are known (as pg_stat_statements does).
constexpr int kStashSlots = 4;
struct StashedText {
    uint64 queryid;
    int len;
    char text[kQueryTextLen];
};
StashedText *stash = nullptr;  // kStashSlots entries in TopMemoryContext
int stash_next = 0;

void stash_text(uint64 queryid, const char *text, int len) {
    if (!stash)
        stash = static_cast<StashedText *>(
            MemoryContextAllocZero(TopMemoryContext, sizeof(StashedText) * kStashSlots));
    StashedText &s = stash[stash_next];
    stash_next = (stash_next + 1) % kStashSlots;
    s.queryid = queryid;
    s.len = std::min(len, kQueryTextLen - 1);
    std::memcpy(s.text, text, s.len);
    s.text[s.len] = '\0';
}

const StashedText *stashed(uint64 queryid) {
    if (!stash) return nullptr;
    for (int i = 0; i < kStashSlots; ++i)
        if (stash[i].queryid == queryid) return &stash[i];
    return nullptr;
}

void post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate) {
    if (prev_post_parse_analyze) prev_post_parse_analyze(pstate, query, jstate);
    if (query->queryId == UINT64CONST(0) || query->utilityStmt != nullptr || !pstate->p_sourcetext) return;
    if (!tracking(nesting_level)) return;
    QueryKey key = make_key(query->queryId);
    QueryStatsShared *qs = query_stats_shared();
    LWLockAcquire(qs->stats_lock, LW_SHARED);
    auto *e = static_cast<QueryEntry *>(hash_search(query_stats_hash(), &key, HASH_FIND, nullptr));
    bool exists = e != nullptr, pending = e && e->text_pending;
    LWLockRelease(qs->stats_lock);
    if (exists && !pending) return;
    int loc = query->stmt_location, len = query->stmt_len;
    const char *text = CleanQuerytext(pstate->p_sourcetext, &loc, &len);
    bool constants = jstate && jstate->clocations_count > 0;
    if (!constants) {
        if (exists)
            query_entry_set_text(key, text, len);
        else
            stash_text(query->queryId, text, len);
        return;
    }
    char *buf = static_cast<char *>(palloc(kQueryTextLen));
    int n = normalize_query(pstate->p_sourcetext, loc, len, jstate, buf, kQueryTextLen);
    query_entry_find_or_create(key, buf, n, true);
    pfree(buf);
}

// ---- planning ----------------------------------------------------------------------------------------
constexpr int kPendingPlans = 4;
struct PendingPlan {
    uint64 queryid;
    double ms;
};
PendingPlan pending_plans[kPendingPlans];
int pending_next = 0;

PlannedStmt *planner(Query *parse, const char *query_string, int cursor_options, ParamListInfo params) {
    bool track = parse->queryId != UINT64CONST(0) && parse->utilityStmt == nullptr && tracking(nesting_level);
    instr_time start;
    if (track) INSTR_TIME_SET_CURRENT(start);
    PlannedStmt *result = nullptr;
    nesting_level++;
    PG_TRY();
    {
        result = prev_planner ? prev_planner(parse, query_string, cursor_options, params)
                              : standard_planner(parse, query_string, cursor_options, params);
    }
    PG_FINALLY();
    { nesting_level--; }
    PG_END_TRY();
    if (!track) return result;
    instr_time duration;
    INSTR_TIME_SET_CURRENT(duration);
    INSTR_TIME_SUBTRACT(duration, start);
    // Counted with the execution (one shared-memory update per statement instead of two).
    PendingPlan &p = pending_plans[pending_next];
    pending_next = (pending_next + 1) % kPendingPlans;
    p.queryid = parse->queryId;
    p.ms = INSTR_TIME_GET_MILLISEC(duration);
    return result;
}

// Planning time waiting for its execution: the executor hook adds it to the statement's counters in the same
// update. A few slots, because statements nested in a function are planned and run inside the outer one's
// execution. A statement planned but never executed (EXPLAIN) is not counted.
double take_pending_plan(uint64 queryid, bool *found) {
    for (auto &p : pending_plans)
        if (p.queryid == queryid && queryid != 0) {
            p.queryid = 0;
            *found = true;
            return p.ms;
        }
    *found = false;
    return 0.0;
}

// ---- executor ----------------------------------------------------------------------------------------
void executor_start(QueryDesc *query_desc, int eflags) {
    bool track = query_desc->plannedstmt->queryId != UINT64CONST(0) && tracking(nesting_level);
    if (track && directives.sample_rate > 0.0 && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
        (directives.sample_rate >= 1.0 || pg_prng_double(&pg_global_prng_state) < directives.sample_rate))
        query_desc->instrument_options |= INSTRUMENT_ROWS;
    if (prev_executor_start)
        prev_executor_start(query_desc, eflags);
    else
        standard_ExecutorStart(query_desc, eflags);
    if (track && query_desc->totaltime == nullptr && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0) {
        // INSTRUMENT_ALL like pg_stat_statements, which reuses this one when loaded after us.
        MemoryContext old = MemoryContextSwitchTo(query_desc->estate->es_query_cxt);
        query_desc->totaltime = InstrAlloc(1, INSTRUMENT_ALL, false);
        MemoryContextSwitchTo(old);
    }
}

void executor_run(QueryDesc *query_desc, ScanDirection direction, uint64 count, bool execute_once) {
    nesting_level++;
    PG_TRY();
    {
        if (prev_executor_run)
            prev_executor_run(query_desc, direction, count, execute_once);
        else
            standard_ExecutorRun(query_desc, direction, count, execute_once);
    }
    PG_FINALLY();
    { nesting_level--; }
    PG_END_TRY();
}

void executor_finish(QueryDesc *query_desc) {
    nesting_level++;
    PG_TRY();
    {
        if (prev_executor_finish)
            prev_executor_finish(query_desc);
        else
            standard_ExecutorFinish(query_desc);
    }
    PG_FINALLY();
    { nesting_level--; }
    PG_END_TRY();
}

// Plan shape: node tags, scanned relations and indexes, depth-first with child brackets.
void fingerprint_plan(const Plan *plan, const List *rtable, cq::PlanFingerprint &fp, int depth);

void fingerprint_list(const List *plans, const List *rtable, cq::PlanFingerprint &fp, int depth) {
    const ListCell *lc;
    foreach (lc, plans) fingerprint_plan(static_cast<const Plan *>(lfirst(lc)), rtable, fp, depth);
}

void fingerprint_plan(const Plan *plan, const List *rtable, cq::PlanFingerprint &fp, int depth) {
    if (!plan || depth > 64) return;
    Oid relid = InvalidOid, indexid = InvalidOid;
    switch (nodeTag(plan)) {
        case T_IndexScan:
            indexid = reinterpret_cast<const IndexScan *>(plan)->indexid;
            break;
        case T_IndexOnlyScan:
            indexid = reinterpret_cast<const IndexOnlyScan *>(plan)->indexid;
            break;
        case T_BitmapIndexScan:
            indexid = reinterpret_cast<const BitmapIndexScan *>(plan)->indexid;
            break;
        default:
            break;
    }
    switch (nodeTag(plan)) {
        case T_SeqScan:
        case T_SampleScan:
        case T_IndexScan:
        case T_IndexOnlyScan:
        case T_BitmapHeapScan:
        case T_TidScan:
        case T_TidRangeScan: {
            Index rti = reinterpret_cast<const Scan *>(plan)->scanrelid;
            if (rti > 0 && rti <= static_cast<Index>(list_length(rtable))) {
                const auto *rte = static_cast<const RangeTblEntry *>(list_nth(rtable, rti - 1));
                if (rte->rtekind == RTE_RELATION) relid = rte->relid;
            }
            break;
        }
        default:
            break;
    }
    fp.add_node(static_cast<uint32_t>(nodeTag(plan)), relid, indexid);
    fp.begin_children();
    fingerprint_plan(plan->lefttree, rtable, fp, depth + 1);
    fingerprint_plan(plan->righttree, rtable, fp, depth + 1);
    switch (nodeTag(plan)) {
        case T_Append:
            fingerprint_list(reinterpret_cast<const Append *>(plan)->appendplans, rtable, fp, depth + 1);
            break;
        case T_MergeAppend:
            fingerprint_list(reinterpret_cast<const MergeAppend *>(plan)->mergeplans, rtable, fp, depth + 1);
            break;
        case T_BitmapAnd:
            fingerprint_list(reinterpret_cast<const BitmapAnd *>(plan)->bitmapplans, rtable, fp, depth + 1);
            break;
        case T_BitmapOr:
            fingerprint_list(reinterpret_cast<const BitmapOr *>(plan)->bitmapplans, rtable, fp, depth + 1);
            break;
        case T_SubqueryScan:
            fingerprint_plan(reinterpret_cast<const SubqueryScan *>(plan)->subplan, rtable, fp, depth + 1);
            break;
        case T_CustomScan:
            fingerprint_list(reinterpret_cast<const CustomScan *>(plan)->custom_plans, rtable, fp, depth + 1);
            break;
        default:
            break;
    }
    fp.end_children();
}

uint64_t plan_fingerprint(const PlannedStmt *stmt) {
    cq::PlanFingerprint fp = cq::PlanFingerprint::start();
    fingerprint_plan(stmt->planTree, stmt->rtable, fp, 0);
    if (stmt->subplans != NIL) {
        fp.begin_children();
        fingerprint_list(stmt->subplans, stmt->rtable, fp, 1);
        fp.end_children();
    }
    return fp.value();
}

// ---- predicates (sampled executions) -----------------------------------------------------------------
constexpr int kMaxPredsPerExecution = 64;

struct PredRecord {
    PredKey key;
    double selectivity;  // < 0 unknown
    double examined;
    double returned;
    bool used_index;
};

struct WalkContext {
    EState *estate;
    uint64_t queryid;
    bool has_limit;
    double scan_rows;
    double seq_rows;
    int count;
    PredRecord records[kMaxPredsPerExecution];
};

Expr *strip(Expr *e) {
    while (e && IsA(e, RelabelType)) e = reinterpret_cast<RelabelType *>(e)->arg;
    return e;
}

// Follows OUTER_VAR/INNER_VAR/INDEX_VAR references down the plan to a base relation column.
bool resolve_column(PlanState *ps, Expr *expr, WalkContext &ctx, Oid *relid, AttrNumber *attno,
                    int depth = 0) {
    expr = strip(expr);
    if (!expr || !IsA(expr, Var) || !ps || depth > 32) return false;
    auto *v = reinterpret_cast<Var *>(expr);
    if (v->varattno <= 0) return false;
    PlanState *child = nullptr;
    const List *tlist = nullptr;
    if (v->varno == OUTER_VAR) {
        child = outerPlanState(ps);
        // Append/MergeAppend (partitions, UNION ALL): the first member stands for all of them.
        if (!child && IsA(ps, AppendState) && reinterpret_cast<AppendState *>(ps)->as_nplans > 0)
            child = reinterpret_cast<AppendState *>(ps)->appendplans[0];
        if (!child && IsA(ps, MergeAppendState) && reinterpret_cast<MergeAppendState *>(ps)->ms_nplans > 0)
            child = reinterpret_cast<MergeAppendState *>(ps)->mergeplans[0];
    } else if (v->varno == INNER_VAR) {
        child = innerPlanState(ps);
    } else if (v->varno == INDEX_VAR) {
        if (!IsA(ps->plan, IndexOnlyScan)) return false;
        tlist = reinterpret_cast<IndexOnlyScan *>(ps->plan)->indextlist;
        auto *tle = get_tle_by_resno(const_cast<List *>(tlist), v->varattno);
        return tle && resolve_column(ps, tle->expr, ctx, relid, attno, depth + 1);
    } else {
        if (v->varno <= 0 || v->varno > static_cast<int>(list_length(ctx.estate->es_range_table)))
            return false;
        RangeTblEntry *rte = exec_rt_fetch(v->varno, ctx.estate);
        if (rte->rtekind != RTE_RELATION) return false;
        *relid = rte->relid;
        *attno = v->varattno;
        return true;
    }
    if (!child) return false;
    auto *tle = get_tle_by_resno(child->plan->targetlist, v->varattno);
    return tle && resolve_column(child, tle->expr, ctx, relid, attno, depth + 1);
}

void add_record(WalkContext &ctx, PredKind kind, Oid relid, AttrNumber attno, Oid opno, Oid funcid,
                bool commuted, double sel, double examined, double returned, bool used_index) {
    if (ctx.count >= kMaxPredsPerExecution) return;
    PredRecord &r = ctx.records[ctx.count++];
    std::memset(&r.key, 0, sizeof r.key);
    r.key.queryid = ctx.queryid;
    r.key.dbid = MyDatabaseId;
    r.key.relid = relid;
    r.key.opno = opno;
    r.key.funcid = funcid;
    r.key.attnums[0] = attno;
    r.key.ncols = 1;
    r.key.kind = static_cast<uint8_t>(kind);
    r.key.commuted = commuted ? 1 : 0;
    r.selectivity = sel;
    r.examined = examined;
    r.returned = returned;
    r.used_index = used_index;
}

// A function or cast applied to exactly one column: f(col) or col::type.
bool function_on_column(PlanState *ps, Expr *e, WalkContext &ctx, Oid *funcid, Oid *relid,
                        AttrNumber *attno) {
    e = strip(e);
    if (!e) return false;
    List *args = nullptr;
    if (IsA(e, FuncExpr)) {
        *funcid = reinterpret_cast<FuncExpr *>(e)->funcid;
        args = reinterpret_cast<FuncExpr *>(e)->args;
    } else if (IsA(e, CoerceViaIO)) {
        *funcid = InvalidOid;
        return resolve_column(ps, reinterpret_cast<CoerceViaIO *>(e)->arg, ctx, relid, attno);
    } else {
        return false;
    }
    int columns = 0;
    ListCell *lc;
    foreach (lc, args) {
        Oid r;
        AttrNumber a;
        if (resolve_column(ps, static_cast<Expr *>(lfirst(lc)), ctx, &r, &a)) {
            *relid = r;
            *attno = a;
            ++columns;
        } else if (contain_var_clause(static_cast<Node *>(lfirst(lc)))) {
            return false;
        }
    }
    return columns == 1;
}

void add_clause(WalkContext &ctx, PlanState *ps, Expr *clause, bool join, bool used_index, double sel,
                double examined, double returned, int depth = 0) {
    clause = strip(clause);
    if (!clause || depth > 16) return;
    Oid relid;
    AttrNumber attno;
    switch (nodeTag(clause)) {
        case T_BoolExpr: {
            auto *b = reinterpret_cast<BoolExpr *>(clause);
            if (b->boolop == NOT_EXPR) return;
            ListCell *lc;
            foreach (lc, b->args)
                add_clause(ctx, ps, static_cast<Expr *>(lfirst(lc)), join, used_index, sel, examined,
                           returned, depth + 1);
            return;
        }
        case T_OpExpr: {
            auto *op = reinterpret_cast<OpExpr *>(clause);
            if (list_length(op->args) != 2) return;
            Expr *l = static_cast<Expr *>(linitial(op->args)), *r = static_cast<Expr *>(lsecond(op->args));
            Oid lrel, rrel;
            AttrNumber latt, ratt;
            bool lcol = resolve_column(ps, l, ctx, &lrel, &latt),
                 rcol = resolve_column(ps, r, ctx, &rrel, &ratt);
            if (join) {
                if (lcol)
                    add_record(ctx, PredKind::Join, lrel, latt, op->opno, InvalidOid, false, -1, 0, 0, false);
                if (rcol)
                    add_record(ctx, PredKind::Join, rrel, ratt, op->opno, InvalidOid, true, -1, 0, 0, false);
                return;
            }
            if (lcol && !rcol) {
                add_record(ctx, PredKind::Op, lrel, latt, op->opno, InvalidOid, false, sel, examined,
                           returned, used_index);
            } else if (rcol && !lcol) {
                add_record(ctx, PredKind::Op, rrel, ratt, op->opno, InvalidOid, true, sel, examined, returned,
                           used_index);
            } else if (lcol && rcol) {
                add_record(ctx, PredKind::Op, lrel, latt, op->opno, InvalidOid, false, sel, examined,
                           returned, used_index);
                if (rrel != lrel || ratt != latt)
                    add_record(ctx, PredKind::Op, rrel, ratt, op->opno, InvalidOid, true, sel, examined,
                               returned, used_index);
            } else {
                Oid funcid;
                if (function_on_column(ps, l, ctx, &funcid, &relid, &attno))
                    add_record(ctx, PredKind::FuncOp, relid, attno, op->opno, funcid, false, sel, examined,
                               returned, used_index);
                else if (function_on_column(ps, r, ctx, &funcid, &relid, &attno))
                    add_record(ctx, PredKind::FuncOp, relid, attno, op->opno, funcid, true, sel, examined,
                               returned, used_index);
            }
            return;
        }
        case T_ScalarArrayOpExpr: {
            auto *op = reinterpret_cast<ScalarArrayOpExpr *>(clause);
            if (list_length(op->args) == 2 &&
                resolve_column(ps, static_cast<Expr *>(linitial(op->args)), ctx, &relid, &attno))
                add_record(ctx, join ? PredKind::Join : PredKind::ArrayOp, relid, attno, op->opno, InvalidOid,
                           !op->useOr, sel, examined, returned, used_index);
            return;
        }
        case T_NullTest: {
            auto *nt = reinterpret_cast<NullTest *>(clause);
            if (!nt->argisrow && resolve_column(ps, nt->arg, ctx, &relid, &attno))
                add_record(ctx, nt->nulltesttype == IS_NULL ? PredKind::IsNull : PredKind::IsNotNull, relid,
                           attno, InvalidOid, InvalidOid, false, sel, examined, returned, used_index);
            return;
        }
        default:
            return;
    }
}

void add_clauses(WalkContext &ctx, PlanState *ps, List *clauses, bool join, bool used_index, double sel,
                 double examined, double returned) {
    ListCell *lc;
    foreach (lc, clauses)
        add_clause(ctx, ps, static_cast<Expr *>(lfirst(lc)), join, used_index, sel, examined, returned);
}

void add_sort_columns(WalkContext &ctx, PlanState *ps, PredKind kind, int ncols, const AttrNumber *cols,
                      List *tlist, PlanState *owner) {
    for (int i = 0; i < ncols; ++i) {
        auto *tle = get_tle_by_resno(tlist, cols[i]);
        Oid relid;
        AttrNumber attno;
        if (tle && resolve_column(owner, tle->expr, ctx, &relid, &attno))
            add_record(ctx, kind, relid, attno, InvalidOid, InvalidOid, false, -1, 0, 0, false);
    }
    (void)ps;
}

bool walk_planstate(PlanState *ps, void *arg) {
    if (!ps) return false;
    auto &ctx = *static_cast<WalkContext *>(arg);
    Plan *plan = ps->plan;
    Instrumentation *instr = ps->instrument;
    double ntuples = 0, nfiltered = 0, nloops = 0;
    if (instr) {
        if (INSTR_TIME_IS_ZERO(instr->starttime)) InstrEndLoop(instr);
        ntuples = instr->ntuples;
        nfiltered = instr->nfiltered1;
        nloops = instr->nloops;
    }
    double examined = ntuples + nfiltered;
    double filter_sel = examined > 0 ? ntuples / examined : -1.0;
    auto index_sel = [&](PlanState *scan) {
        Relation rel = reinterpret_cast<ScanState *>(scan)->ss_currentRelation;
        double reltuples = rel ? rel->rd_rel->reltuples : -1.0;
        if (reltuples <= 0 || nloops <= 0) return -1.0;
        return std::min(1.0, examined / nloops / reltuples);
    };
    switch (nodeTag(plan)) {
        case T_SeqScan:
            ctx.seq_rows += examined;
            ctx.scan_rows += examined;
            if (nloops > 0) add_clauses(ctx, ps, plan->qual, false, false, filter_sel, examined, ntuples);
            break;
        case T_IndexScan:
            ctx.scan_rows += examined;
            if (nloops > 0) {
                add_clauses(ctx, ps, reinterpret_cast<IndexScan *>(plan)->indexqualorig, false, true,
                            index_sel(ps), examined, examined);
                add_clauses(ctx, ps, plan->qual, false, false, filter_sel, examined, ntuples);
            }
            break;
        case T_IndexOnlyScan:
            ctx.scan_rows += examined;
            if (nloops > 0) {
                add_clauses(ctx, ps, reinterpret_cast<IndexOnlyScan *>(plan)->indexqual, false, true,
                            index_sel(ps), examined, examined);
                add_clauses(ctx, ps, plan->qual, false, false, filter_sel, examined, ntuples);
            }
            break;
        case T_BitmapHeapScan:
            ctx.scan_rows += examined;
            if (nloops > 0) {
                add_clauses(ctx, ps, reinterpret_cast<BitmapHeapScan *>(plan)->bitmapqualorig, false, true,
                            index_sel(ps), examined, examined);
                add_clauses(ctx, ps, plan->qual, false, false, filter_sel, examined, ntuples);
            }
            break;
        case T_HashJoin:
            add_clauses(ctx, ps, reinterpret_cast<HashJoin *>(plan)->hashclauses, true, false, -1, 0, 0);
            add_clauses(ctx, ps, reinterpret_cast<Join *>(plan)->joinqual, true, false, -1, 0, 0);
            break;
        case T_MergeJoin:
            add_clauses(ctx, ps, reinterpret_cast<MergeJoin *>(plan)->mergeclauses, true, false, -1, 0, 0);
            add_clauses(ctx, ps, reinterpret_cast<Join *>(plan)->joinqual, true, false, -1, 0, 0);
            break;
        case T_NestLoop:
            add_clauses(ctx, ps, reinterpret_cast<Join *>(plan)->joinqual, true, false, -1, 0, 0);
            break;
        default:
            break;
    }
    // planstate_tree_walker takes an unprototyped walker; go through void(*)(void) (-Wcast-function-type).
    return planstate_tree_walker(
        ps, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(walk_planstate)), arg);
}

// ORDER BY / GROUP BY of the statement: the sort or grouping at the top of the plan (under Limit, Result,
// projections). An ORDER BY an index already satisfies has no Sort node and is not recorded.
void top_of_plan(WalkContext &ctx, PlanState *ps) {
    for (int depth = 0; ps && depth < 8; ++depth) {
        Plan *plan = ps->plan;
        switch (nodeTag(plan)) {
            case T_Limit:
                ctx.has_limit = true;
                ps = outerPlanState(ps);
                continue;
            case T_Result:
            case T_ProjectSet:
            case T_Gather:
            case T_GatherMerge:
            case T_Unique:
                ps = outerPlanState(ps);
                continue;
            case T_Sort:
            case T_IncrementalSort: {
                auto *s = reinterpret_cast<Sort *>(plan);
                add_sort_columns(ctx, ps, PredKind::OrderBy, s->numCols, s->sortColIdx, plan->targetlist, ps);
                ps = outerPlanState(ps);
                continue;
            }
            case T_Agg: {
                auto *a = reinterpret_cast<Agg *>(plan);
                PlanState *child = outerPlanState(ps);
                if (a->numCols > 0 && child)
                    add_sort_columns(ctx, ps, PredKind::GroupBy, a->numCols, a->grpColIdx,
                                     child->plan->targetlist, child);
                return;
            }
            case T_Group: {
                auto *g = reinterpret_cast<Group *>(plan);
                PlanState *child = outerPlanState(ps);
                if (child)
                    add_sort_columns(ctx, ps, PredKind::GroupBy, g->numCols, g->grpColIdx,
                                     child->plan->targetlist, child);
                return;
            }
            default:
                return;
        }
    }
}

void record_predicates(QueryDesc *qd, QueryEntry *scratch_counts[2], double *scan_rows, double *seq_rows) {
    (void)scratch_counts;
    auto *ctx = static_cast<WalkContext *>(palloc(sizeof(WalkContext)));
    ctx->estate = qd->estate;
    ctx->queryid = qd->plannedstmt->queryId;
    ctx->has_limit = false;
    ctx->scan_rows = ctx->seq_rows = 0;
    ctx->count = 0;
    top_of_plan(*ctx, qd->planstate);
    walk_planstate(qd->planstate, ctx);
    for (int i = 0; i < ctx->count; ++i) {
        const PredRecord &r = ctx->records[i];
        predicate_add(r.key, r.selectivity, r.examined, r.returned, r.used_index, ctx->has_limit);
    }
    *scan_rows = ctx->scan_rows;
    *seq_rows = ctx->seq_rows;
    pfree(ctx);
}

// ---- exemplars ---------------------------------------------------------------------------------------
void maybe_keep_exemplar(QueryDesc *qd, double ms) {
    QueryStatsShared *qs = query_stats_shared();
    ParamListInfo params = qd->params;
    if (params && params->paramFetch) return;  // dynamic parameters (PL/pgSQL): not re-executable as is
    if (!qd->sourceText) return;
    uint64_t queryid = qd->plannedstmt->queryId;
    // Cheap checks first: is this execution more expensive than what we keep?
    if (ms <= qs->exemplar_min_ms) return;
    LWLockAcquire(qs->exemplar_lock, LW_SHARED);
    bool worth = true;
    for (const auto &e : qs->exemplars)
        if (e.queryid == queryid && e.dbid == MyDatabaseId) {
            worth = ms > e.exec_ms;
            break;
        }
    LWLockRelease(qs->exemplar_lock);
    if (!worth) return;

    auto *ex = static_cast<Exemplar *>(palloc0(sizeof(Exemplar)));
    ex->queryid = queryid;
    ex->dbid = MyDatabaseId;
    ex->userid = GetUserId();
    ex->exec_ms = ms;
    ex->captured_at = GetCurrentTimestamp();
    int loc = qd->plannedstmt->stmt_location, len = qd->plannedstmt->stmt_len;
    const char *text = CleanQuerytext(qd->sourceText, &loc, &len);
    ex->text_truncated = len >= kExemplarTextLen;
    if (ex->text_truncated) {
        pfree(ex);
        return;  // a truncated statement cannot be re-planned
    }
    std::memcpy(ex->text, text, len);
    ex->text[len] = '\0';
    int used = 0;
    if (params) {
        if (params->numParams > kExemplarMaxParams) {
            pfree(ex);
            return;
        }
        for (int i = 0; i < params->numParams; ++i) {
            ParamExternData *p = &params->params[i];
            ex->param_types[i] = p->ptype;
            ex->param_offsets[i] = -1;
            if (p->isnull || !OidIsValid(p->ptype)) continue;
            Oid out;
            bool varlena;
            getTypeOutputInfo(p->ptype, &out, &varlena);
            char *s = OidOutputFunctionCall(out, p->value);
            int sl = static_cast<int>(strlen(s));
            if (used + sl + 1 > kExemplarParamsLen) {
                pfree(ex);
                return;  // parameters too long to keep: no exemplar rather than a wrong one
            }
            std::memcpy(ex->params + used, s, sl + 1);
            ex->param_offsets[i] = static_cast<int16_t>(used);
            used += sl + 1;
        }
        ex->nparams = params->numParams;
    }
    LWLockAcquire(qs->exemplar_lock, LW_EXCLUSIVE);
    int target = -1, free_slot = -1, cheapest = -1;
    for (int i = 0; i < kExemplarSlots; ++i) {
        const Exemplar &e = qs->exemplars[i];
        if (e.queryid == queryid && e.dbid == MyDatabaseId) {
            target = ms > e.exec_ms ? i : -2;
            break;
        }
        if (e.queryid == 0) {
            if (free_slot < 0) free_slot = i;
        } else if (cheapest < 0 || e.exec_ms < qs->exemplars[cheapest].exec_ms) {
            cheapest = i;
        }
    }
    if (target == -1)
        target = free_slot >= 0 ? free_slot
                                : (cheapest >= 0 && ms > qs->exemplars[cheapest].exec_ms ? cheapest : -1);
    if (target >= 0) {
        qs->exemplars[target] = *ex;
        double min_ms = 0;
        bool full = true;
        for (int i = 0; i < kExemplarSlots; ++i) {
            const Exemplar &e = qs->exemplars[i];
            if (e.queryid == 0) {
                full = false;
                break;
            }
            min_ms = i == 0 ? e.exec_ms : std::min(min_ms, e.exec_ms);
        }
        qs->exemplar_min_ms = full ? min_ms : 0.0;
    }
    LWLockRelease(qs->exemplar_lock);
    pfree(ex);
}

cq::CommandKind command_kind(CmdType cmd) {
    switch (cmd) {
        case CMD_SELECT:
            return cq::CommandKind::Select;
        case CMD_INSERT:
            return cq::CommandKind::Insert;
        case CMD_UPDATE:
            return cq::CommandKind::Update;
        case CMD_DELETE:
            return cq::CommandKind::Delete;
        default:
            return cq::CommandKind::Other;
    }
}

void push_ring(uint64_t queryid, uint64_t rows, CmdType cmd) {
    ExecRing *r = exec_ring(MyBackendId - 1);
    if (!r) return;
    RingEntry e;
    e.queryid = queryid;
    e.rows = rows;
    // Top level: the statement's start time (no clock read). Nested statements (a long PL/pgSQL loop) read
    // the clock so that a loop still running is not taken for an idle run.
    e.timestamp_us =
        static_cast<int64_t>(nesting_level > 0 ? GetCurrentTimestamp() : GetCurrentStatementStartTimestamp());
    e.lxid = MyProc ? MyProc->lxid : 0;
    e.pid = MyProcPid;
    e.nesting_level = static_cast<int16_t>(std::min(nesting_level, 32767));
    e.command = static_cast<uint8_t>(command_kind(cmd));
    e.pad = 0;
    SpinLockAcquire(&r->mutex);
    r->slots[r->head % kRingSize] = e;
    r->head++;
    SpinLockRelease(&r->mutex);
}

void record_execution(QueryDesc *qd) {
    uint64_t queryid = qd->plannedstmt->queryId;
    InstrEndLoop(qd->totaltime);
    const Instrumentation *t = qd->totaltime;
    double ms = t->total * 1000.0;
    uint64_t rows = qd->estate->es_processed;
    int bucket = core::stats::LatencyHistogram::bucket_for(ms);
    uint64_t fp = plan_fingerprint(qd->plannedstmt);
    bool sampled =
        qd->planstate && qd->planstate->instrument && (qd->instrument_options & INSTRUMENT_ROWS) != 0;
    double scan_rows = 0, seq_rows = 0;
    if (sampled) record_predicates(qd, nullptr, &scan_rows, &seq_rows);

    bool planned = false;
    double plan_ms = take_pending_plan(queryid, &planned);
    QueryKey key = make_key(queryid);
    QueryStatsShared *qs = query_stats_shared();
    LWLockAcquire(qs->stats_lock, LW_SHARED);
    auto *e = static_cast<QueryEntry *>(hash_search(query_stats_hash(), &key, HASH_FIND, nullptr));
    if (!e) {
        // Never parsed in this form since the entry went away (a cached plan, or evicted): count it with
        // the text pending; the next parse analysis fills it in. Never store raw text (constants).
        LWLockRelease(qs->stats_lock);
        const StashedText *st = stashed(queryid);
        if (st)
            query_entry_find_or_create(key, st->text, st->len, true);
        else
            query_entry_find_or_create(key, nullptr, 0, false);
        LWLockAcquire(qs->stats_lock, LW_SHARED);
        e = static_cast<QueryEntry *>(hash_search(query_stats_hash(), &key, HASH_FIND, nullptr));
    }
    if (e) {
        TimestampTz now = GetCurrentStatementStartTimestamp();  // no clock read on the common path
        SpinLockAcquire(&e->mutex);
        QueryCounters &c = e->c;
        if (c.calls == 0 || ms < c.min_ms) c.min_ms = ms;
        if (c.calls == 0 || ms > c.max_ms) c.max_ms = ms;
        c.calls++;
        c.total_ms += ms;
        c.exec.add(ms);
        c.hist.counts[bucket]++;
        c.rows += static_cast<int64_t>(rows);
        c.shared_blks_hit += t->bufusage.shared_blks_hit;
        c.shared_blks_read += t->bufusage.shared_blks_read;
        c.temp_blks_read += t->bufusage.temp_blks_read;
        c.temp_blks_written += t->bufusage.temp_blks_written;
        if (fp != c.plan_fp) {
            if (c.plan_fp != 0) {
                c.prev_plan = c.cur_plan;
                c.prev_plan_fp = c.plan_fp;
                c.plan_changes++;
            }
            c.cur_plan.clear();
            c.plan_fp = fp;
            bool seen = false;
            for (uint64_t s : c.seen_plans) seen = seen || s == fp;
            if (!seen) {
                c.seen_plans[c.distinct_plans % kSeenPlans] = fp;
                c.distinct_plans++;
            }
        }
        c.cur_plan.add(ms);
        if (sampled) {
            c.sampled_calls++;
            c.sampled_scan_rows += scan_rows;
            c.sampled_seq_rows += seq_rows;
        }
        if (planned) {
            c.plans++;
            c.total_plan_ms += plan_ms;
        }
        c.last_seen = now;
        c.usage += 1.0;
        SpinLockRelease(&e->mutex);
    }
    LWLockRelease(qs->stats_lock);

    push_ring(queryid, rows, qd->operation);
    if (sampled) maybe_keep_exemplar(qd, ms);
}

void executor_end(QueryDesc *query_desc) {
    if (query_desc->plannedstmt->queryId != UINT64CONST(0) && query_desc->totaltime &&
        (query_desc->estate->es_top_eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && tracking(nesting_level))
        record_execution(query_desc);
    if (prev_executor_end)
        prev_executor_end(query_desc);
    else
        standard_ExecutorEnd(query_desc);
}

// Utility statements raise the nesting level for what they run (DO blocks, CALL, EXPLAIN, CREATE TABLE AS),
// except EXECUTE/PREPARE/DEALLOCATE, whose statement is the top-level one (as pg_stat_statements counts).
void process_utility(PlannedStmt *pstmt, const char *query_string, bool read_only_tree,
                     ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *query_env,
                     DestReceiver *dest, QueryCompletion *qc) {
    Node *parsetree = pstmt->utilityStmt;
    bool nest =
        !(IsA(parsetree, ExecuteStmt) || IsA(parsetree, PrepareStmt) || IsA(parsetree, DeallocateStmt));
    if (nest) nesting_level++;
    PG_TRY();
    {
        if (prev_process_utility)
            prev_process_utility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
        else
            standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest,
                                    qc);
    }
    PG_FINALLY();
    {
        if (nest) nesting_level--;
    }
    PG_END_TRY();
}

}  // namespace

void install_query_hooks() {
    prev_post_parse_analyze = post_parse_analyze_hook;
    post_parse_analyze_hook = post_parse_analyze;
    prev_planner = planner_hook;
    planner_hook = planner;
    prev_executor_start = ExecutorStart_hook;
    ExecutorStart_hook = executor_start;
    prev_executor_run = ExecutorRun_hook;
    ExecutorRun_hook = executor_run;
    prev_executor_finish = ExecutorFinish_hook;
    ExecutorFinish_hook = executor_finish;
    prev_executor_end = ExecutorEnd_hook;
    ExecutorEnd_hook = executor_end;
    prev_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = process_utility;
}

}  // namespace rubberduck::pg
