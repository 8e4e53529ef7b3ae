// Rewrite hints for a query text: parse (raw_parser), parse analysis (tables, column types, widths), then the
// core's QueryShape (src/core/query/rewrite_rules.h) per query level, then core::query::rewrite_hints. The
// query is never planned or executed; parse analysis takes the usual AccessShareLock (RowExclusiveLock for an
// UPDATE/DELETE target) until the end of the caller's transaction, as EXPLAIN without ANALYZE would.
//
// Two regimes, one direction (cpp-in-postgres.md R9/R11):
//   gather_rewrite_input()  PG regime: may ereport(ERROR); builds a palloc'd POD RewriteInput (no C++
//   objects) hints_from_input()      C++ regime: never calls PostgreSQL; may throw (std::bad_alloc)
// hints_for_query_text() does both for C++ callers (the query_optimization skill,
// query_insights.suggestions): the PG step runs inside an internal subtransaction, so a query that no longer
// parses (dropped table, ...) gives an error string instead of an ERROR; call it from a frame where
// PostgreSQL may raise (it still can on out-of-memory), inside a transaction.
#pragma once

#include <string>
#include <vector>

#include "core/query/rewrite_rules.h"
#include "pg/postgres.hpp"

namespace rubberduck::pg {

// One fact read from the analysed tree. A Statement fact opens a query level (the statement itself, a CTE, a
// set-operation branch or a subquery in FROM); the facts after it belong to that level. Strings are SQL-ready
// (identifiers quoted, expressions deparsed) or "" when unknown; meaning of s[]/n[] per kind below.
enum class ShapeFactKind : int {
    Statement,         // s: select_list, from, where; n: param_count, has_offset, offset, has_limit, limit
    OrderKey,          // s: expression; n: descending
    NotIn,             // s: outer_expression, subquery_from, subquery_column, subquery_where; n: nullable
    Like,              // s: table, column, pattern; n: pattern_is_literal, case_insensitive, negated
    FunctionOnColumn,  // s: table, column, function_name, expression, op, compared_value;
                       // n: column_indexed, expression_indexed, immutable
    OrDisjunct,        // s: column, predicate; n: group number within the level
    SelectStar,        // s: table; n: column_count
    Correlated,        // s: subquery, alias
    CountCompare,      // s: from_where, op; n: value
    TypeCompare,       // s: column, column_type, other_expression, other_type, op
};

struct ShapeFact {
    ShapeFactKind kind;
    const char *s[6];
    int64 n[5];
};

struct RewriteInput {
    int count;
    int capacity;
    ShapeFact *facts;  // palloc'd in the caller's memory context
};

// PG regime. Parses and analyses exactly one statement (ERROR 42601 with the position inside the query text
// on a syntax error, 22023 for an empty text or several statements, the analyser's own errors such as 42P01
// otherwise). A utility statement gives an empty input; EXPLAIN <query> is looked through.
// search_path: when not null, the statement is analysed with this search_path (restored afterwards).
RewriteInput *gather_rewrite_input(const char *query_text, const char *search_path);

// C++ regime.
std::vector<core::query::QueryShape> shapes_from_input(const RewriteInput &input);
std::vector<core::query::RewriteHint> hints_from_input(const RewriteInput &input,
                                                       const core::query::RewriteConfig &config = {});

// Both steps for C++ callers; on a PostgreSQL error returns no hints and sets *error (if given) to the
// message.
std::vector<core::query::RewriteHint> hints_for_query_text(const char *query_text,
                                                           std::string *error = nullptr,
                                                           const char *search_path = nullptr,
                                                           const core::query::RewriteConfig &config = {});

}  // namespace rubberduck::pg
