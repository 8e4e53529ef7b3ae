// What-if planning with hypothetical indexes (cpp-in-postgres.md R52).
//
// Hypothetical indexes are backend-local. They are injected into the planner by get_relation_info_hook
// (src/pg/hooks/whatif_relation_info.cpp) only while this backend is inside one of the two entry points
// below, only into the planning of the statement we plan ourselves (not into nested planning that a function
// called at plan time may do), and never into any other session. A plan built with them is never executed and
// never cached: hypothetical_explain only runs EXPLAIN (ExecutorStart with EXEC_FLAG_EXPLAIN_ONLY, which does
// not open index relations), whatif_cost only reads the top plan's total cost.
//
// The index definitions are ordinary `CREATE INDEX ...` statements, parsed with raw_parser and
// transformIndexStmt (never executed): btree (multi-column, DESC/NULLS, INCLUDE, partial, expressions),
// hash, brin and gin (e.g. gin_trgm_ops when pg_trgm is installed). Pages, tuples and tree height come from
// the core size estimator (core/index/index_size_estimator.h) fed with the planner's own relation size and
// pg_statistic widths, null fractions and distinct counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/index/index_model.h"

namespace rubberduck::pg {

// One query to cost. Parameters ($1..$n), when given, are text values converted with each type's input
// function and planned as constants (a custom plan); without param_types the types are inferred from the
// query (pg_analyze_and_rewrite_varparams) and the plan is generic.
struct WhatifQuery {
    const char *text = nullptr;
    int nparams = 0;
    const unsigned int *param_types = nullptr;  // Oid[nparams] or nullptr
    const char *const *param_values = nullptr;  // text[nparams] (an element may be nullptr = NULL) or nullptr
    unsigned int userid = 0;                    // plan as this role (0 = the current user)
    const char *search_path = nullptr;          // resolve names with this search_path (nullptr = current)
};

struct WhatifResult {
    bool ok = false;
    double total_cost = 0;     // top plan's total cost (planner units)
    bool interrupted = false;  // a query cancel / statement timeout arrived: the caller must stop
    int sqlstate = 0;          // when !ok
    char message[256] = {0};   // when !ok
};

// Plans `query` with the hypothetical indexes of `config` added to the real ones and returns the top plan's
// total cost. Each call uses its own memory context, freed before returning. C++ regime, never throws and
// never raises a PostgreSQL ERROR: planning runs in an internal subtransaction; a failure (bad definition,
// the query no longer parses, permission denied for `userid`) comes back as !ok with its SQLSTATE and
// message. Must be called inside a transaction (e.g. a skill's run step). The subtransaction is rolled back
// even on success, which releases its locks at once (planning writes nothing). After `interrupted`, the
// caller unwinds its C++ frames and calls CHECK_FOR_INTERRUPTS(). When no snapshot is active (see
// whatif_release_snapshot), each call plans under its own fresh snapshot, pushed inside its subtransaction
// and popped before returning, and drops the catalog snapshot afterwards, so between calls this backend holds
// no snapshot at all.
WhatifResult whatif_cost(const WhatifQuery &query, const std::vector<core::index::IndexDef> &config) noexcept;

// Short snapshots for a long series of whatif_cost calls (R42: a snapshot held for seconds holds back the
// xmin horizon, so a concurrent VACUUM cannot remove dead rows or mark pages all-visible). PG regime, READ
// COMMITTED only. whatif_release_snapshot() pops the active snapshot when it is the only one and was pushed
// at the current transaction nesting level (a skill's own snapshot, see skills/skill.hpp), and drops the
// catalog snapshot; it returns whether it did. whatif_restore_snapshot(true) pushes a fresh snapshot at that
// level again. Call the pair around the planning loop; the normal path must give the caller its snapshot
// back, while on an ERROR in between nothing is needed (the skill's subtransaction abort pops what is left at
// its level). The caller must not have written anything yet in this transaction: an assigned transaction id
// holds the horizon back just the same.
bool whatif_release_snapshot();
void whatif_restore_snapshot(bool released);

}  // namespace rubberduck::pg
