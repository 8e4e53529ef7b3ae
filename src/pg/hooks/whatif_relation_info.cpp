// get_relation_info_hook and explain_get_index_name_hook for hypothetical indexes (R52).
//
// Common path (every planning in every backend): one flag test, then return. Only while this backend is
// inside our own what-if planning (whatif_state.injecting, set around our pg_plan_query call and cleared in
// PG_FINALLY) and only for the statement we plan (the top PlannerInfo's parse tree is ours: a function
// evaluated at plan time that plans and runs its own statements through SPI never sees these indexes) do we
// append IndexOptInfo entries, built as plancat.c builds real ones, with hypothetical = true.
#include "core/index/index_model.h"
#include "core/index/index_size_estimator.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/index/hypo_index.hpp"

extern "C" {
#include "access/nbtree.h"
#include "catalog/pg_am.h"
#include "commands/explain.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/plancat.h"
#include "rewrite/rewriteManip.h"
}

namespace rubberduck::pg {

WhatifState whatif_state;

namespace {

namespace ci = core::index;

get_relation_info_hook_type prev_get_relation_info = nullptr;
explain_get_index_name_hook_type prev_explain_get_index_name = nullptr;
bool installed = false;

// Pages, tuples and height from the core estimator (C++ regime under the guard; inputs are POD).
struct SizeOut {
    double pages = 1;
    double tuples = 0;
    int height = 0;
};

SizeOut estimate_size(const HypoIndex *h, double rel_tuples, double rel_pages, double selectivity) {
    return cpp_guard([&] {
        ci::RelationStats rel;
        rel.name = "t";
        rel.reltuples = rel_tuples < 0 ? 0 : rel_tuples;
        rel.relpages = rel_pages < 0 ? 0 : rel_pages;
        ci::IndexDef def;
        def.table = "t";
        def.method = static_cast<ci::IndexMethod>(h->method);
        def.unique = h->unique;
        for (int i = 0; i < h->ncolumns; ++i) {
            ci::ColumnStats c;
            c.name = "c" + std::to_string(i + 1);
            c.attnum = i + 1;
            c.type_name = h->stats[i].type_name;
            c.avg_width = h->stats[i].avg_width;
            c.null_frac = h->stats[i].null_frac;
            c.n_distinct = h->stats[i].n_distinct;
            rel.columns.push_back(c);
            if (i < h->nkeycolumns) {
                ci::IndexKey k;
                k.column = c.name;
                k.opclass = h->opclass_name[i];
                k.descending = h->reverse_sort[i] && def.method == ci::IndexMethod::kBtree;
                def.keys.push_back(k);
            } else {
                def.include.push_back(c.name);
            }
        }
        ci::SizeEstimatorOptions options;
        for (int i = 0; i < h->nkeycolumns; ++i) {
            if (h->stats[i].nsamples <= 0) continue;
            ci::SizeEstimatorOptions::ColumnSample sample;
            sample.column = "c" + std::to_string(i + 1);
            for (int v = 0; v < h->stats[i].nsamples; ++v) {
                sample.values.push_back(
                    {h->stats[i].sample_text[v], h->stats[i].sample_weight[v], h->stats[i].sample_common[v]});
            }
            options.column_samples.push_back(std::move(sample));
        }
        if (h->fillfactor > 0 && def.method == ci::IndexMethod::kBtree)
            options.btree_leaf_fillfactor = h->fillfactor;
        if (h->fillfactor > 0 && def.method == ci::IndexMethod::kHash)
            options.hash_fillfactor = h->fillfactor;
        ci::SizeEstimate e = ci::estimate_index_size(def, rel, selectivity, options);
        SizeOut out;
        out.pages = static_cast<double>(e.pages);
        out.tuples = e.index_tuples;
        out.height = e.height;
        return out;
    });
}

// Fraction of the relation's rows a partial index keeps. The RelOptInfo is not yet in simple_rel_array while
// get_relation_info runs, so it is put there for the estimate and taken out again.
double predicate_selectivity(PlannerInfo *root, RelOptInfo *rel, List *pred) {
    if (pred == NIL) return 1.0;
    double sel = 1.0;
    RelOptInfo *saved = root->simple_rel_array[rel->relid];
    root->simple_rel_array[rel->relid] = rel;
    PG_TRY();
    { sel = clauselist_selectivity(root, pred, rel->relid, JOIN_INNER, nullptr); }
    PG_FINALLY();
    { root->simple_rel_array[rel->relid] = saved; }
    PG_END_TRY();
    if (!(sel > 0)) sel = 1e-9;
    if (sel > 1) sel = 1;
    return sel;
}

void inject(PlannerInfo *root, RelOptInfo *rel, HypoIndex *h) {
    IndexOptInfo *info = makeNode(IndexOptInfo);
    int ncol = h->ncolumns;
    int nkey = h->nkeycolumns;
    info->indexoid = h->oid;
    info->reltablespace = rel->reltablespace;
    info->rel = rel;
    info->ncolumns = ncol;
    info->nkeycolumns = nkey;
    info->indexkeys = static_cast<int *>(palloc(sizeof(int) * ncol));
    info->canreturn = static_cast<bool *>(palloc(sizeof(bool) * ncol));
    info->indexcollations = static_cast<Oid *>(palloc(sizeof(Oid) * nkey));
    info->opfamily = static_cast<Oid *>(palloc(sizeof(Oid) * nkey));
    info->opcintype = static_cast<Oid *>(palloc(sizeof(Oid) * nkey));
    info->opclassoptions = static_cast<bytea **>(palloc0(sizeof(bytea *) * nkey));
    for (int i = 0; i < ncol; ++i) {
        info->indexkeys[i] = h->indexkeys[i];
        info->canreturn[i] = h->canreturn[i];
    }
    for (int i = 0; i < nkey; ++i) {
        info->indexcollations[i] = h->indexcollations[i];
        info->opfamily[i] = h->opfamily[i];
        info->opcintype[i] = h->opcintype[i];
    }
    info->relam = h->relam;
    if (h->relam == BTREE_AM_OID) {
        info->sortopfamily = info->opfamily;
        info->reverse_sort = static_cast<bool *>(palloc(sizeof(bool) * nkey));
        info->nulls_first = static_cast<bool *>(palloc(sizeof(bool) * nkey));
        for (int i = 0; i < nkey; ++i) {
            info->reverse_sort[i] = h->reverse_sort[i];
            info->nulls_first[i] = h->nulls_first[i];
        }
    } else {
        info->sortopfamily = nullptr;
        info->reverse_sort = nullptr;
        info->nulls_first = nullptr;
    }
    info->indexprs = static_cast<List *>(copyObjectImpl(h->indexprs));
    info->indpred = static_cast<List *>(copyObjectImpl(h->indpred));
    if (rel->relid != 1) {
        if (info->indexprs) ChangeVarNodes(reinterpret_cast<Node *>(info->indexprs), 1, rel->relid, 0);
        if (info->indpred) ChangeVarNodes(reinterpret_cast<Node *>(info->indpred), 1, rel->relid, 0);
    }
    // Target list as plancat.c's build_index_tlist: a Var per simple column, the expression otherwise.
    List *tlist = NIL;
    ListCell *expr_item = list_head(info->indexprs);
    for (int i = 0; i < ncol; ++i) {
        Expr *var;
        if (h->indexkeys[i] != 0) {
            var = reinterpret_cast<Expr *>(makeVar(rel->relid, static_cast<AttrNumber>(h->indexkeys[i]),
                                                   h->coltype[i], h->coltypmod[i], h->colcollation[i], 0));
        } else {
            if (expr_item == nullptr) elog(ERROR, "wrong number of hypothetical index expressions");
            var = static_cast<Expr *>(lfirst(expr_item));
            expr_item = lnext(info->indexprs, expr_item);
        }
        tlist = lappend(tlist, makeTargetEntry(var, static_cast<AttrNumber>(i + 1), nullptr, false));
    }
    info->indextlist = tlist;
    info->indrestrictinfo = NIL;  // set later, in indxpath.c
    info->predOK = false;         // set later, in indxpath.c
    info->unique = h->unique;
    info->immediate = true;
    info->hypothetical = true;
    info->amcanorderbyop = h->amcanorderbyop;
    info->amoptionalkey = h->amoptionalkey;
    info->amsearcharray = h->amsearcharray;
    info->amsearchnulls = h->amsearchnulls;
    info->amhasgettuple = h->amhasgettuple;
    info->amhasgetbitmap = h->amhasgetbitmap;
    info->amcanparallel = h->amcanparallel;
    info->amcanmarkpos = h->amcanmarkpos;
    info->amcostestimate = h->amcostestimate;

    double sel = predicate_selectivity(root, rel, info->indpred);
    SizeOut size = estimate_size(h, rel->tuples, static_cast<double>(rel->pages), sel);
    info->pages = static_cast<BlockNumber>(size.pages < 1 ? 1 : size.pages);
    double tuples = info->indpred == NIL ? rel->tuples : size.tuples;
    info->tuples = tuples > rel->tuples ? rel->tuples : tuples;
    info->tree_height = h->relam == BTREE_AM_OID ? size.height : -1;

    h->planned_pages = info->pages;
    h->planned_tuples = info->tuples;
    rel->indexlist = lappend(rel->indexlist, info);
}

void rd_get_relation_info(PlannerInfo *root, Oid relid, bool inhparent, RelOptInfo *rel) {
    if (prev_get_relation_info) prev_get_relation_info(root, relid, inhparent, rel);
    if (!whatif_state.injecting || inhparent || whatif_state.count == 0) return;
    PlannerInfo *top = root;
    while (top->parent_root) top = top->parent_root;
    if (top->parse != whatif_state.top_query) return;  // nested planning of another statement
    for (int i = 0; i < whatif_state.count; ++i) {
        HypoIndex *h = whatif_state.items[i];
        if (h->relid == relid) inject(root, rel, h);
    }
}

const char *rd_explain_get_index_name(Oid index_oid) {
    if (whatif_state.naming) {
        for (int i = 0; i < whatif_state.count; ++i) {
            if (whatif_state.items[i]->oid == index_oid) return whatif_state.items[i]->name;
        }
    }
    return prev_explain_get_index_name ? prev_explain_get_index_name(index_oid) : nullptr;
}

}  // namespace

void install_whatif_hooks() {
    if (installed) return;
    prev_get_relation_info = get_relation_info_hook;
    get_relation_info_hook = rd_get_relation_info;
    prev_explain_get_index_name = explain_get_index_name_hook;
    explain_get_index_name_hook = rd_explain_get_index_name;
    installed = true;
}

bool whatif_hooks_installed() {
    return installed;
}

}  // namespace rubberduck::pg
