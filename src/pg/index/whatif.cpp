// What-if planning: CREATE INDEX text → HypoIndex (parsed and transformed, never executed), planning with
// hypothetical indexes, EXPLAIN text, and the C++ cost entry for the advisor. See whatif.hpp.
#include "pg/index/whatif.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/index/index_model.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/index/hypo_index.hpp"
#include "pg/module.hpp"

extern "C" {
#include "access/amapi.h"
#include "catalog/index.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_statistic.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_utilcmd.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
}

namespace rubberduck::pg {

namespace {

namespace ci = core::index;

// Error context: which input the error is about, with its cursor position moved into that text.
struct ParseContextArg {
    const char *what;  // "index_ddl[2]" or "query"
    const char *text;
};

void parse_error_callback(void *arg) {
    auto *a = static_cast<ParseContextArg *>(arg);
    int pos = geterrposition();
    if (pos > 0) {
        errposition(0);
        internalerrposition(pos);
        internalerrquery(a->text);
    }
    errcontext("%s: %s", a->what, a->text);
}

// The next OID below FirstNormalObjectId that no relation uses (and that this call has not handed out).
Oid next_fake_oid(Oid *cursor) {
    while (*cursor > FirstGenbkiObjectId) {
        Oid candidate = (*cursor)--;
        if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(candidate))) return candidate;
    }
    ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("no free OID for a hypothetical index")));
    return InvalidOid;
}

int method_of(const char *amname) {
    if (strcmp(amname, "btree") == 0) return static_cast<int>(ci::IndexMethod::kBtree);
    if (strcmp(amname, "hash") == 0) return static_cast<int>(ci::IndexMethod::kHash);
    if (strcmp(amname, "brin") == 0) return static_cast<int>(ci::IndexMethod::kBrin);
    if (strcmp(amname, "gin") == 0) return static_cast<int>(ci::IndexMethod::kGin);
    return -1;
}

void copy_name(char *dst, size_t cap, const char *src) {
    strlcpy(dst, src ? src : "", cap);
}

// Appends the values of one pg_statistic slot (MCV or histogram) as text to s's sample.
void add_samples(HypoColumnStats *s, HeapTuple tup, int kind, double rest_frac) {
    AttStatsSlot slot;
    int flags = ATTSTATSSLOT_VALUES | (kind == STATISTIC_KIND_MCV ? ATTSTATSSLOT_NUMBERS : 0);
    if (!get_attstatsslot(&slot, tup, kind, InvalidOid, flags)) return;
    Oid outfn;
    bool varlena;
    getTypeOutputInfo(slot.valuetype, &outfn, &varlena);
    int base = s->nsamples;
    int total = base + slot.nvalues;
    s->sample_text = static_cast<char **>(s->sample_text ? repalloc(s->sample_text, sizeof(char *) * total)
                                                         : palloc(sizeof(char *) * total));
    s->sample_weight =
        static_cast<double *>(s->sample_weight ? repalloc(s->sample_weight, sizeof(double) * total)
                                               : palloc(sizeof(double) * total));
    s->sample_common = static_cast<bool *>(s->sample_common ? repalloc(s->sample_common, sizeof(bool) * total)
                                                            : palloc(sizeof(bool) * total));
    for (int i = 0; i < slot.nvalues; ++i) {
        s->sample_text[base + i] = OidOutputFunctionCall(outfn, slot.values[i]);
        s->sample_common[base + i] = kind == STATISTIC_KIND_MCV;
        s->sample_weight[base + i] = kind == STATISTIC_KIND_MCV ? (i < slot.nnumbers ? slot.numbers[i] : 0.0)
                                                                : rest_frac / std::max(1, slot.nvalues);
    }
    s->nsamples = total;
    free_attstatsslot(&slot);
}

// pg_statistic of (relid, attnum), or type-based defaults; with_samples: also the MCV values and histogram
// bounds as text (the trigram GIN size model's sample).
void fill_stats(HypoColumnStats *s, Oid relid, AttrNumber attnum, Oid type, int32 typmod, bool with_samples) {
    copy_name(s->type_name, sizeof s->type_name, format_type_be(type));
    int16 typlen = get_typlen(type);
    s->avg_width = typlen > 0 ? typlen : get_typavgwidth(type, typmod);
    s->null_frac = 0;
    s->n_distinct = 0;
    s->nsamples = 0;
    s->sample_text = nullptr;
    s->sample_weight = nullptr;
    s->sample_common = nullptr;
    if (attnum <= 0) return;
    HeapTuple tup =
        SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid), Int16GetDatum(attnum), BoolGetDatum(false));
    if (!HeapTupleIsValid(tup)) return;
    auto *st = reinterpret_cast<Form_pg_statistic>(GETSTRUCT(tup));
    if (typlen <= 0 && st->stawidth > 0) s->avg_width = st->stawidth;
    s->null_frac = st->stanullfrac;
    s->n_distinct = st->stadistinct;
    if (with_samples) {
        add_samples(s, tup, STATISTIC_KIND_MCV, 0);
        double mcv = 0;
        for (int i = 0; i < s->nsamples; ++i) mcv += s->sample_weight[i];
        add_samples(s, tup, STATISTIC_KIND_HISTOGRAM, std::max(0.0, 1.0 - s->null_frac - mcv));
    }
    ReleaseSysCache(tup);
}

// First column an expression reads (its statistics stand in for the expression's).
AttrNumber first_column_of(Node *expr) {
    Bitmapset *attrs = nullptr;
    pull_varattnos(expr, 1, &attrs);
    int member = bms_next_member(attrs, -1);
    while (member >= 0) {
        AttrNumber att = static_cast<AttrNumber>(member + FirstLowInvalidHeapAttributeNumber);
        if (att > 0) return att;
        member = bms_next_member(attrs, member);
    }
    return InvalidAttrNumber;
}

HypoIndex *hypo_from_ddl(const char *ddl, Oid *oid_cursor) {
    List *raw = raw_parser(ddl, RAW_PARSE_DEFAULT);
    if (list_length(raw) != 1 || !IsA(linitial_node(RawStmt, raw)->stmt, IndexStmt)) {
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR),
                        errmsg("a hypothetical index must be given as exactly one CREATE INDEX statement"),
                        errhint("For example: CREATE INDEX ON orders (customer_id, created_at)")));
    }
    auto *stmt = reinterpret_cast<IndexStmt *>(linitial_node(RawStmt, raw)->stmt);
    if (stmt->excludeOpNames != NIL)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("exclusion constraints cannot be hypothetical")));

    Oid relid = RangeVarGetRelidExtended(stmt->relation, AccessShareLock, 0, nullptr, nullptr);
    char relkind = get_rel_relkind(relid);
    if (relkind != RELKIND_RELATION && relkind != RELKIND_MATVIEW)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("\"%s\" is not a table or materialized view", get_rel_name(relid)),
                        errhint("Hypothetical indexes are planned on plain tables and materialized views "
                                "(for a partitioned table, name a partition).")));
    AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
    if (acl != ACLCHECK_OK) aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));

    stmt = transformIndexStmt(relid, stmt, ddl);

    const char *amname = stmt->accessMethod ? stmt->accessMethod : DEFAULT_INDEX_TYPE;
    HeapTuple amtup = SearchSysCache1(AMNAME, PointerGetDatum(amname));
    if (!HeapTupleIsValid(amtup))
        ereport(ERROR,
                (errcode(ERRCODE_UNDEFINED_OBJECT), errmsg("access method \"%s\" does not exist", amname)));
    auto *amform = reinterpret_cast<Form_pg_am>(GETSTRUCT(amtup));
    Oid amoid = amform->oid;
    Oid amhandler = amform->amhandler;
    char amtype = amform->amtype;
    ReleaseSysCache(amtup);
    int method = method_of(amname);
    if (amtype != AMTYPE_INDEX || method < 0)
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                 errmsg("hypothetical indexes support btree, hash, brin and gin, not \"%s\"", amname)));
    IndexAmRoutine *am = GetIndexAmRoutine(amhandler);

    int nkey = list_length(stmt->indexParams);
    int ninc = list_length(stmt->indexIncludingParams);
    if (nkey + ninc > INDEX_MAX_KEYS)
        ereport(ERROR, (errcode(ERRCODE_TOO_MANY_COLUMNS),
                        errmsg("cannot use more than %d columns in an index", INDEX_MAX_KEYS)));
    if (stmt->unique && !am->amcanunique)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("access method \"%s\" does not support unique indexes", amname)));
    if (ninc > 0 && !am->amcaninclude)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("access method \"%s\" does not support included columns", amname)));
    if (nkey > 1 && !am->amcanmulticol)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("access method \"%s\" does not support multicolumn indexes", amname)));

    auto *h = static_cast<HypoIndex *>(palloc0(sizeof(HypoIndex)));
    h->relid = relid;
    h->relam = amoid;
    h->method = method;
    h->unique = stmt->unique;
    h->nkeycolumns = nkey;
    h->ncolumns = nkey + ninc;
    h->amcanorderbyop = am->amcanorderbyop;
    h->amoptionalkey = am->amoptionalkey;
    h->amsearcharray = am->amsearcharray;
    h->amsearchnulls = am->amsearchnulls;
    h->amhasgettuple = am->amgettuple != nullptr;
    h->amhasgetbitmap = am->amgetbitmap != nullptr;  // heap supports bitmap scans
    h->amcanparallel = am->amcanparallel;
    h->amcanmarkpos = am->ammarkpos != nullptr && am->amrestrpos != nullptr;
    h->amcostestimate = reinterpret_cast<void (*)()>(am->amcostestimate);

    char colnames[NAMEDATALEN * 2] = {0};
    List *exprs = NIL;
    int i = 0;
    List *all = list_concat_copy(stmt->indexParams, stmt->indexIncludingParams);
    ListCell *lc;
    foreach (lc, all) {
        auto *elem = lfirst_node(IndexElem, lc);
        bool is_key = i < nkey;
        Oid type;
        int32 typmod = -1;
        Oid collation;
        AttrNumber stats_att;
        Node *expr = elem->expr;
        // A parenthesised plain column is a column (DefineIndex does the same).
        if (expr && IsA(expr, Var) && reinterpret_cast<Var *>(expr)->varattno > 0) {
            h->indexkeys[i] = reinterpret_cast<Var *>(expr)->varattno;
            expr = nullptr;
        }
        if (expr == nullptr) {
            AttrNumber att =
                elem->name ? get_attnum(relid, elem->name) : static_cast<AttrNumber>(h->indexkeys[i]);
            if (att == InvalidAttrNumber)
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                                errmsg("column \"%s\" does not exist", elem->name)));
            if (att < 0)
                ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                errmsg("index creation on system columns is not supported")));
            h->indexkeys[i] = att;
            get_atttypetypmodcoll(relid, att, &type, &typmod, &collation);
            h->coltype[i] = type;
            h->coltypmod[i] = typmod;
            h->colcollation[i] = collation;
            stats_att = att;
            const char *cn = get_attname(relid, att, false);
            if (strlen(colnames) + strlen(cn) + 2 < NAMEDATALEN) {
                strlcat(colnames, "_", sizeof colnames);
                strlcat(colnames, cn, sizeof colnames);
            }
        } else {
            if (!is_key)
                ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                errmsg("expressions are not supported in included columns")));
            if (contain_mutable_functions(expr))
                ereport(ERROR, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                                errmsg("functions in index expression must be marked IMMUTABLE")));
            h->indexkeys[i] = 0;
            type = exprType(expr);
            typmod = exprTypmod(expr);
            collation = exprCollation(expr);
            stats_att = first_column_of(expr);
            exprs = lappend(exprs, expr);
            if (strlen(colnames) + 6 < NAMEDATALEN) strlcat(colnames, "_expr", sizeof colnames);
        }
        fill_stats(&h->stats[i], relid, stats_att, type, typmod, amoid == GIN_AM_OID);
        if (expr != nullptr && get_typlen(type) <= 0 && stats_att > 0) {
            // A variable-width expression is about as wide as the column it is computed from.
            HypoColumnStats base;
            Oid bt;
            int32 btm;
            Oid bc;
            get_atttypetypmodcoll(relid, stats_att, &bt, &btm, &bc);
            fill_stats(&base, relid, stats_att, bt, btm, false);
            h->stats[i].avg_width = base.avg_width;
            h->stats[i].null_frac = base.null_frac;
            h->stats[i].n_distinct = base.n_distinct;
        }
        h->canreturn[i] = (amoid == BTREE_AM_OID);
        if (is_key) {
            if (elem->collation != NIL) collation = get_collation_oid(elem->collation, false);
            if (OidIsValid(collation) && !type_is_collatable(type))
                ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                                errmsg("collations are not supported by type %s", format_type_be(type))));
            if (!OidIsValid(collation) && type_is_collatable(type))
                ereport(ERROR, (errcode(ERRCODE_INDETERMINATE_COLLATION),
                                errmsg("could not determine which collation to use for index expression")));
            h->indexcollations[i] = collation;
            Oid opclass = ResolveOpClass(elem->opclass, type, amname, amoid);
            h->opfamily[i] = get_opclass_family(opclass);
            h->opcintype[i] = get_opclass_input_type(opclass);
            HeapTuple octup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclass));
            if (HeapTupleIsValid(octup)) {
                copy_name(h->opclass_name[i], NAMEDATALEN,
                          NameStr(reinterpret_cast<Form_pg_opclass>(GETSTRUCT(octup))->opcname));
                ReleaseSysCache(octup);
            }
            bool ordered = elem->ordering != SORTBY_DEFAULT || elem->nulls_ordering != SORTBY_NULLS_DEFAULT;
            if (ordered && !am->amcanorder)
                ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                errmsg("access method \"%s\" does not support ASC/DESC options", amname)));
            h->reverse_sort[i] = elem->ordering == SORTBY_DESC;
            h->nulls_first[i] = elem->nulls_ordering == SORTBY_NULLS_FIRST ||
                                (elem->nulls_ordering == SORTBY_NULLS_DEFAULT && h->reverse_sort[i]);
        }
        ++i;
    }
    if (exprs != NIL) {
        exprs = reinterpret_cast<List *>(eval_const_expressions(nullptr, reinterpret_cast<Node *>(exprs)));
        fix_opfuncids(reinterpret_cast<Node *>(exprs));
    }
    h->indexprs = exprs;
    if (stmt->whereClause) {
        if (contain_mutable_functions(stmt->whereClause))
            ereport(ERROR, (errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
                            errmsg("functions in index predicate must be marked IMMUTABLE")));
        Node *pred = eval_const_expressions(nullptr, stmt->whereClause);
        pred = reinterpret_cast<Node *>(canonicalize_qual(reinterpret_cast<Expr *>(pred), false));
        List *implicit = make_ands_implicit(reinterpret_cast<Expr *>(pred));
        fix_opfuncids(reinterpret_cast<Node *>(implicit));
        h->indpred = implicit;
    }
    foreach (lc, stmt->options) {
        auto *def = lfirst_node(DefElem, lc);
        if (strcmp(def->defname, "fillfactor") == 0) {
            int ff = defGetInt32(def);
            if (ff < 10 || ff > 100)
                ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                errmsg("value %d out of bounds for option \"fillfactor\"", ff),
                                errdetail("Valid values are between \"10\" and \"100\".")));
            h->fillfactor = ff;
        }
    }
    if (stmt->idxname) {
        copy_name(h->name, NAMEDATALEN, stmt->idxname);
    } else {
        char buf[NAMEDATALEN * 3];
        snprintf(buf, sizeof buf, "<hypothetical>%s%s_idx", get_rel_name(relid), colnames);
        copy_name(h->name, NAMEDATALEN, buf);
    }
    h->oid = next_fake_oid(oid_cursor);
    return h;
}

}  // namespace

HypoIndex **build_hypo_indexes(const char *const *ddls, int count) {
    auto **items = static_cast<HypoIndex **>(palloc0(sizeof(HypoIndex *) * (count > 0 ? count : 1)));
    Oid cursor = FirstNormalObjectId - 1;
    for (int i = 0; i < count; ++i) {
        char what[32];
        snprintf(what, sizeof what, "index_ddl[%d]", i + 1);
        ParseContextArg arg{what, ddls[i]};
        ErrorContextCallback cb;
        cb.callback = parse_error_callback;
        cb.arg = &arg;
        cb.previous = error_context_stack;
        error_context_stack = &cb;
        items[i] = hypo_from_ddl(ddls[i], &cursor);
        error_context_stack = cb.previous;
    }
    return items;
}

List *analyze_single_dml(const char *query_text, Oid *param_types, int nparams, bool infer_params) {
    ParseContextArg arg{"query", query_text};
    ErrorContextCallback cb;
    cb.callback = parse_error_callback;
    cb.arg = &arg;
    cb.previous = error_context_stack;
    error_context_stack = &cb;
    List *raw = pg_parse_query(query_text);
    if (list_length(raw) != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("query must be exactly one statement, got %d", list_length(raw))));
    RawStmt *rs = linitial_node(RawStmt, raw);
    NodeTag tag = nodeTag(rs->stmt);
    bool dml = tag == T_SelectStmt || tag == T_InsertStmt || tag == T_UpdateStmt || tag == T_DeleteStmt;
    if (dml && tag == T_SelectStmt && reinterpret_cast<SelectStmt *>(rs->stmt)->intoClause != nullptr)
        dml = false;
    if (!dml)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("query must be a single SELECT, INSERT, UPDATE or DELETE statement"),
                 errhint("Utility statements, SELECT INTO and MERGE cannot be planned hypothetically.")));
    List *queries;
    if (!infer_params) {
        queries = pg_analyze_and_rewrite_fixedparams(rs, query_text, param_types, nparams, nullptr);
    } else {
        Oid *types = nullptr;
        int ntypes = 0;
        queries = pg_analyze_and_rewrite_varparams(rs, query_text, &types, &ntypes, nullptr);
    }
    ListCell *lc;
    foreach (lc, queries) {
        if (lfirst_node(Query, lc)->commandType == CMD_UTILITY)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("query is rewritten into a utility statement by a rule")));
    }
    error_context_stack = cb.previous;
    return queries;
}

PlannedStmt *plan_with_hypothetical(Query *query, const char *query_text, HypoIndex **items, int count,
                                    ParamListInfo params) {
    PlannedStmt *plan = nullptr;
    whatif_state.items = items;
    whatif_state.count = count;
    whatif_state.top_query = query;
    whatif_state.injecting = true;
    PG_TRY();
    { plan = pg_plan_query(query, query_text, CURSOR_OPT_PARALLEL_OK, params); }
    PG_FINALLY();
    {
        whatif_state.injecting = false;
        whatif_state.top_query = nullptr;
        whatif_state.items = nullptr;
        whatif_state.count = 0;
    }
    PG_END_TRY();
    return plan;
}

char *whatif_explain(const char *query_text, const char *const *ddls, int count) {
    if (!whatif_hooks_installed())
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("hypothetical_explain needs rubberduck_agents in shared_preload_libraries"),
                 errhint("Add rubberduck_agents to shared_preload_libraries and restart the server.")));
    HypoIndex **items = build_hypo_indexes(ddls, count);
    List *queries = analyze_single_dml(query_text, nullptr, 0, false);
    ExplainState *es = NewExplainState();
    es->costs = true;
    es->format = EXPLAIN_FORMAT_TEXT;
    ExplainBeginOutput(es);
    if (queries == NIL) appendStringInfoString(es->str, "Query rewritten to nothing\n");
    ListCell *lc;
    foreach (lc, queries) {
        Query *q = lfirst_node(Query, lc);
        PlannedStmt *plan = plan_with_hypothetical(q, query_text, items, count, nullptr);
        whatif_state.items = items;
        whatif_state.count = count;
        whatif_state.naming = true;
        PG_TRY();
        {
            // EXPLAIN only: ExecutorStart with EXEC_FLAG_EXPLAIN_ONLY never opens the (nonexistent) indexes
            // and nothing is executed.
            ExplainOnePlan(plan, nullptr, es, query_text, nullptr, nullptr, nullptr, nullptr);
        }
        PG_FINALLY();
        {
            whatif_state.naming = false;
            whatif_state.items = nullptr;
            whatif_state.count = 0;
        }
        PG_END_TRY();
        if (lnext(queries, lc) != nullptr) ExplainSeparatePlans(es);
    }
    ExplainEndOutput(es);
    return es->str->data;
}

int64 hypothetical_index_size(const char *ddl) {
    if (!whatif_hooks_installed())
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("hypothetical_index_size needs rubberduck_agents in shared_preload_libraries"),
                 errhint("Add rubberduck_agents to shared_preload_libraries and restart the server.")));
    HypoIndex **items = build_hypo_indexes(&ddl, 1);
    HypoIndex *h = items[0];
    // Plan a trivial scan of the table: get_relation_info runs for it and the hook sizes the index.
    char *query = psprintf(
        "SELECT 1 FROM ONLY %s",
        quote_qualified_identifier(get_namespace_name(get_rel_namespace(h->relid)), get_rel_name(h->relid)));
    List *queries = analyze_single_dml(query, nullptr, 0, false);
    (void)plan_with_hypothetical(linitial_node(Query, queries), query, items, 1, nullptr);
    return static_cast<int64>(h->planned_pages) * BLCKSZ;
}

namespace {

struct PgCostInput {
    const WhatifQuery *query;
    const char *const *ddls;
    int count;
};

// PG regime; never longjmps out (R9: the caller's frame holds C++ objects). Runs in an internal
// subtransaction, so a failure rolls back cleanly and comes back as !ok.
void whatif_cost_pg(const PgCostInput &in, WhatifResult *out) {
    MemoryContext oldcxt = CurrentMemoryContext;
    ResourceOwner oldowner = CurrentResourceOwner;
    Oid save_user;
    int save_sec;
    GetUserIdAndSecContext(&save_user, &save_sec);
    // Everything a plan allocates lives in this context, deleted before returning: an advisor asks for
    // thousands of plans in one cycle.
    MemoryContext plancxt = AllocSetContextCreate(oldcxt, "rubberduck what-if", ALLOCSET_DEFAULT_SIZES);
    // No active snapshot (whatif_release_snapshot): plan under a fresh one of our own, at this
    // subtransaction's level, so the abort below pops it on an error.
    const bool own_snapshot = !ActiveSnapshotSet();
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(plancxt);
    PG_TRY();
    {
        if (own_snapshot) PushActiveSnapshot(GetTransactionSnapshot());
        const WhatifQuery *q = in.query;
        int guc_level = NewGUCNestLevel();
        if (q->search_path != nullptr)
            (void)set_config_option("search_path", q->search_path, PGC_USERSET, PGC_S_SESSION,
                                    GUC_ACTION_SAVE, true, 0, false);
        if (q->userid != 0 && q->userid != save_user)
            SetUserIdAndSecContext(q->userid, save_sec | SECURITY_LOCAL_USERID_CHANGE);
        HypoIndex **items = build_hypo_indexes(in.ddls, in.count);
        Oid *types = nullptr;
        if (q->nparams > 0 && q->param_types != nullptr) {
            types = static_cast<Oid *>(palloc(sizeof(Oid) * q->nparams));
            for (int i = 0; i < q->nparams; ++i) types[i] = q->param_types[i];
        }
        List *queries = analyze_single_dml(q->text, types, types ? q->nparams : 0, types == nullptr);
        if (list_length(queries) != 1)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("query is rewritten into %d statements", list_length(queries))));
        ParamListInfo params = nullptr;
        if (q->nparams > 0 && types != nullptr && q->param_values != nullptr) {
            params = makeParamList(q->nparams);
            for (int i = 0; i < q->nparams; ++i) {
                ParamExternData *p = &params->params[i];
                p->ptype = types[i];
                p->pflags = PARAM_FLAG_CONST;
                p->isnull = q->param_values[i] == nullptr;
                p->value = 0;
                if (!p->isnull) {
                    Oid input;
                    Oid ioparam;
                    getTypeInputInfo(types[i], &input, &ioparam);
                    p->value =
                        OidInputFunctionCall(input, const_cast<char *>(q->param_values[i]), ioparam, -1);
                }
            }
        }
        PlannedStmt *plan =
            plan_with_hypothetical(linitial_node(Query, queries), q->text, items, in.count, params);
        out->total_cost = plan->planTree->total_cost;
        out->ok = true;
        SetUserIdAndSecContext(save_user, save_sec);
        AtEOXact_GUC(true, guc_level);
        if (own_snapshot) PopActiveSnapshot();
        // Planning changed nothing that must outlive it: roll the subtransaction back rather than commit it,
        // so the locks it took (AccessShareLock on every relation planned) are released now instead of being
        // held by the agent's cycle until its end (R42: a long cycle holding them would queue DDL on those
        // tables).
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcxt);
        CurrentResourceOwner = oldowner;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(oldcxt);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();  // also restores the user id
        MemoryContextSwitchTo(oldcxt);
        CurrentResourceOwner = oldowner;
        out->ok = false;
        out->sqlstate = edata->sqlerrcode;
        strlcpy(out->message, edata->message ? edata->message : "error", sizeof out->message);
        if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED || edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN) {
            // Re-arm the interrupt: the caller's next CHECK_FOR_INTERRUPTS() raises it again.
            out->interrupted = true;
            QueryCancelPending = true;
            InterruptPending = true;
        }
        FreeErrorData(edata);
    }
    PG_END_TRY();
    // The catalog snapshot taken while parsing is registered too: drop it, so that no snapshot of ours is
    // left between two plans.
    if (own_snapshot) InvalidateCatalogSnapshot();
    MemoryContextDelete(plancxt);
}

}  // namespace

bool whatif_release_snapshot() {
    if (!ActiveSnapshotSet() || IsolationUsesXactSnapshot()) return false;
    PopActiveSnapshot();
    if (ActiveSnapshotSet()) {
        // Someone below holds a snapshot too: releasing ours would not move the horizon. Put it back.
        PushActiveSnapshot(GetTransactionSnapshot());
        return false;
    }
    InvalidateCatalogSnapshot();  // now this backend advertises no xmin (MyProc->xmin is reset)
    return true;
}

void whatif_restore_snapshot(bool released) {
    if (released && !ActiveSnapshotSet()) PushActiveSnapshot(GetTransactionSnapshot());
}

WhatifResult whatif_cost(const WhatifQuery &query,
                         const std::vector<core::index::IndexDef> &config) noexcept {
    WhatifResult result;
    std::vector<std::string> ddl;
    std::vector<const char *> ptrs;
    GuardFailure failure;
    run_catching(
        [&] {
            ddl.reserve(config.size());
            for (const auto &def : config) ddl.push_back(core::index::create_index_ddl(def));
            for (const auto &s : ddl) ptrs.push_back(s.c_str());
        },
        failure);
    if (failure.failed) {
        result.sqlstate = failure.sqlstate;
        strlcpy(result.message, failure.message, sizeof result.message);
        return result;
    }
    if (query.text == nullptr) {
        result.sqlstate = ERRCODE_NULL_VALUE_NOT_ALLOWED;
        strlcpy(result.message, "no query text", sizeof result.message);
        return result;
    }
    PgCostInput in{&query, ptrs.data(), static_cast<int>(ptrs.size())};
    whatif_cost_pg(in, &result);
    return result;
}

}  // namespace rubberduck::pg
