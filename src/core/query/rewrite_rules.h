// Rewrite hints over an abstract description of one query (QueryShape), which the adapter fills from the
// parse/analysis tree (rubberduck.rewrite_hints(query text) and the hints in query_insights).
//
// All identifier and expression strings in QueryShape are SQL-ready: the adapter deparses them and quotes
// identifiers (quote_identifier) before handing them over; the rules paste them into suggested_sql as is.
// Rule ids are stable snake_case: not_in_subquery, large_offset, leading_wildcard_like,
// function_on_indexed_column, or_across_columns, select_star_wide, correlated_subquery_select,
// count_for_existence, implicit_type_mismatch.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rubberduck::core::query {

// `outer_expression NOT IN (SELECT subquery_column FROM subquery_from [WHERE subquery_where])`
struct NotInSubquery {
    std::string outer_expression;  // e.g. o.customer_id
    std::string subquery_from;     // FROM list of the subquery, e.g. blocked_customers b
    std::string subquery_column;   // e.g. b.customer_id; empty if the subquery is not a simple column select
    std::string subquery_where;    // the subquery's own WHERE, "" if none
    bool subquery_column_nullable = true;
};

struct OrderKey {
    std::string expression;
    bool descending = false;
};

// `column [NOT] LIKE|ILIKE pattern`
struct LikePredicate {
    std::string table;
    std::string column;
    std::string pattern;             // the literal pattern (unquoted text)
    bool pattern_is_literal = true;  // false: a parameter or expression, pattern unknown
    bool case_insensitive = false;   // ILIKE
    bool negated = false;            // NOT LIKE (no index helps)
};

// `expression op compared_value` in WHERE where expression applies a function or cast to a column.
struct FunctionOnColumn {
    std::string table;
    std::string column;
    std::string function_name;  // e.g. lower, date, date_trunc; for a cast "::<type>", e.g. ::date
    std::string expression;     // the whole expression, e.g. lower(email) or created_at::date
    std::string op = "=";
    std::string compared_value;       // other side, e.g. $1 or '2024-01-01'; "" if unknown
    bool column_indexed = false;      // a plain index leads with this column
    bool expression_indexed = false;  // an expression index on exactly this expression exists
    bool immutable = true;            // the expression can be indexed (IMMUTABLE functions only)
};

struct OrDisjunct {
    std::string column;     // the column the disjunct restricts
    std::string predicate;  // the disjunct's SQL, e.g. email = $1
};
struct OrGroup {
    std::vector<OrDisjunct> disjuncts;
};

struct SelectStar {
    std::string table;
    int column_count = 0;
};

// A correlated scalar subquery in the select list, e.g. (SELECT count(*) FROM items i WHERE i.order_id =
// o.id)
struct CorrelatedSubquery {
    std::string subquery;  // without the surrounding parentheses
    std::string alias;     // output column name, e.g. item_count
};

// `(SELECT count(*) <from_where>) op value`, or the result of count(*) compared by the statement
struct CountComparison {
    std::string from_where;  // e.g. FROM orders WHERE customer_id = $1
    std::string op;          // =, <>, !=, >, >=, <, <=
    int64_t value = 0;
};

// `column op other_expression` where the two sides have different types.
struct TypeComparison {
    std::string column;
    std::string column_type;  // e.g. integer, varchar(20), character
    std::string other_expression;
    std::string other_type;  // e.g. numeric, text; "unknown" for an untyped literal
    std::string op = "=";
};

struct QueryShape {
    std::string select_list;  // target list SQL, e.g. o.id, o.total; used to write whole statements
    std::string from;         // FROM clause without the keyword, e.g. orders o
    std::string where;        // WHERE clause without the keyword, "" if none
    int param_count = 0;      // highest $n already used, so new placeholders do not collide
    std::vector<NotInSubquery> not_in_subqueries;
    std::optional<int64_t> offset;
    std::optional<int64_t> limit;
    std::vector<OrderKey> order_by;
    std::vector<LikePredicate> like_predicates;
    std::vector<FunctionOnColumn> functions_on_columns;
    std::vector<OrGroup> or_groups;
    std::vector<SelectStar> select_stars;
    std::vector<CorrelatedSubquery> correlated_select_subqueries;
    std::vector<CountComparison> count_comparisons;
    std::vector<TypeComparison> type_comparisons;
};

struct RewriteConfig {
    int64_t large_offset = 1000;  // OFFSET at or above this is flagged
    int wide_table_columns = 20;  // SELECT * over a table with at least this many columns is flagged
};

struct RewriteHint {
    std::string rule;
    std::string message;
    std::string suggested_sql;  // "" when no SQL can be written from the shape
};

// Hints in rule order (the order of the ids above). Throws std::invalid_argument on a bad config.
std::vector<RewriteHint> rewrite_hints(const QueryShape &shape, const RewriteConfig &config = {});

// Normalised PostgreSQL type name (integer -> int4, character varying(20) -> varchar, ...); exposed for
// tests.
std::string normalize_type_name(const std::string &type);

}  // namespace rubberduck::core::query
