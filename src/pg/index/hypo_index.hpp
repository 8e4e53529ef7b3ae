// Internal to the what-if planner: a hypothetical index as parsed from its CREATE INDEX statement (PG regime,
// POD + palloc'd node trees), and the backend-local state the get_relation_info hook reads.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/parsenodes.h"
#include "nodes/pathnodes.h"
}

namespace rubberduck::pg {

// Statistics of one index column for the size estimator: the column's pg_statistic row, or for an
// expression the statistics of the column it reads with the expression's own type.
struct HypoColumnStats {
    char type_name[64];
    double avg_width;
    double null_frac;
    double n_distinct;
    // GIN only: MCV values and histogram bounds as text (palloc'd with the HypoIndex), each with the fraction
    // of rows it stands for and whether it is a most-common value — the trigram size model's sample.
    int nsamples;
    char **sample_text;
    double *sample_weight;
    bool *sample_common;
};

struct HypoIndex {
    Oid oid;  // fake, below FirstNormalObjectId, not used by any relation
    char name[NAMEDATALEN];
    Oid relid;
    Oid relam;
    int method;  // core::index::IndexMethod
    bool unique;
    int ncolumns;                   // keys + INCLUDE
    int nkeycolumns;                // keys
    int indexkeys[INDEX_MAX_KEYS];  // attnum, 0 = expression
    Oid coltype[INDEX_MAX_KEYS];    // type, typmod and collation of simple columns (index target list)
    int32 coltypmod[INDEX_MAX_KEYS];
    Oid colcollation[INDEX_MAX_KEYS];
    Oid indexcollations[INDEX_MAX_KEYS];
    Oid opfamily[INDEX_MAX_KEYS];
    Oid opcintype[INDEX_MAX_KEYS];
    char opclass_name[INDEX_MAX_KEYS][NAMEDATALEN];
    bool reverse_sort[INDEX_MAX_KEYS];
    bool nulls_first[INDEX_MAX_KEYS];
    bool canreturn[INDEX_MAX_KEYS];
    List *indexprs;  // preprocessed like RelationGetIndexExpressions, Vars with varno 1
    List *indpred;   // implicit-AND list, preprocessed like RelationGetIndexPredicate, varno 1
    int fillfactor;  // WITH (fillfactor = n), 0 = the method's default
    HypoColumnStats stats[INDEX_MAX_KEYS];
    // Copied from the access method's IndexAmRoutine.
    bool amcanorderbyop, amoptionalkey, amsearcharray, amsearchnulls, amhasgettuple, amhasgetbitmap,
        amcanparallel, amcanmarkpos;
    void (*amcostestimate)();
    // Written by the hook when the index is injected: what the planner was told (for
    // hypothetical_index_size).
    double planned_pages;
    double planned_tuples;
};

// Backend-local; see whatif.hpp for when each flag is set. Cleared in PG_FINALLY by whoever sets it.
struct WhatifState {
    HypoIndex **items = nullptr;
    int count = 0;
    bool injecting = false;      // inside our planner call
    Query *top_query = nullptr;  // the statement we plan: nested planning of other statements is left alone
    bool naming = false;         // inside our EXPLAIN output: explain_get_index_name answers for our OIDs
};
extern WhatifState whatif_state;

// get_relation_info_hook / explain_get_index_name_hook (chained); installed when preloaded.
void install_whatif_hooks();
bool whatif_hooks_installed();

// Parses each CREATE INDEX text into a HypoIndex with a fresh fake OID (PG regime; ereports with a context
// naming index_ddl[i] on bad input: 42601 syntax/not an index, 42P01/42703 unknown table/column, 42704
// unknown method/opclass, 0A000 unsupported feature, 42P17 mutable expression).
HypoIndex **build_hypo_indexes(const char *const *ddls, int count);

// Plans one analysed statement with `items` injected (flag set around pg_plan_query, cleared in PG_FINALLY).
PlannedStmt *plan_with_hypothetical(Query *query, const char *query_text, HypoIndex **items, int count,
                                    ParamListInfo params);

// Parses `query_text` as exactly one SELECT/INSERT/UPDATE/DELETE and analyses/rewrites it (22023 otherwise).
// infer_params: $n types are inferred from the query (pg_analyze_and_rewrite_varparams).
List *analyze_single_dml(const char *query_text, Oid *param_types, int nparams, bool infer_params);

// Estimated size in bytes of one hypothetical index, as the planner sees it (pages × BLCKSZ).
int64 hypothetical_index_size(const char *ddl);

// EXPLAIN text of the statement planned with the hypothetical indexes (never executed).
char *whatif_explain(const char *query_text, const char *const *ddls, int count);

}  // namespace rubberduck::pg
