#include "core/query/rewrite_rules.h"

#include <gtest/gtest.h>

using namespace rubberduck::core::query;

namespace {
std::vector<RewriteHint> only(const std::vector<RewriteHint> &hints, const std::string &rule) {
    std::vector<RewriteHint> r;
    for (const auto &h : hints)
        if (h.rule == rule) r.push_back(h);
    return r;
}
}  // namespace

TEST(RewriteRules, EmptyShapeGivesNoHints) {
    EXPECT_TRUE(rewrite_hints(QueryShape{}).empty());
}

TEST(RewriteRules, NotInSubquery) {
    QueryShape s;
    s.not_in_subqueries.push_back(
        {"o.customer_id", "blocked_customers b", "b.customer_id", "b.active", true});
    const auto h = only(rewrite_hints(s), "not_in_subquery");
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(
        h[0].suggested_sql,
        "NOT EXISTS (SELECT 1 FROM blocked_customers b WHERE b.customer_id = o.customer_id AND (b.active))");
    EXPECT_NE(h[0].message.find("NULL"), std::string::npos);
    // Negative: NOT IN over a constant list is not in the shape (no subquery) -> nothing.
    QueryShape neg;
    neg.where = "o.status NOT IN ('a', 'b')";
    EXPECT_TRUE(only(rewrite_hints(neg), "not_in_subquery").empty());
    // A subquery the adapter could not decompose still gets the hint, without SQL.
    QueryShape opaque;
    opaque.not_in_subqueries.push_back({"o.id", "", "", "", true});
    const auto o = rewrite_hints(opaque);
    ASSERT_EQ(o.size(), 1u);
    EXPECT_TRUE(o[0].suggested_sql.empty());
}

TEST(RewriteRules, LargeOffsetKeyset) {
    QueryShape s;
    s.select_list = "id, title";
    s.from = "posts";
    s.where = "author_id = $1";
    s.param_count = 1;
    s.order_by = {{"created_at", true}, {"id", true}};
    s.offset = 50000;
    s.limit = 20;
    const auto h = only(rewrite_hints(s), "large_offset");
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].suggested_sql,
              "SELECT id, title FROM posts WHERE (author_id = $1) AND (created_at, id) < ($2, $3) ORDER BY "
              "created_at "
              "DESC, id DESC LIMIT 20");
    // Single ascending key, no WHERE, no LIMIT.
    QueryShape one;
    one.from = "t";
    one.order_by = {{"id", false}};
    one.offset = 1000;
    EXPECT_EQ(only(rewrite_hints(one), "large_offset")[0].suggested_sql,
              "SELECT * FROM t WHERE id > $1 ORDER BY id LIMIT $2");
    // Negative: small offset.
    s.offset = 40;
    EXPECT_TRUE(only(rewrite_hints(s), "large_offset").empty());
    // Mixed directions: hint without SQL.
    s.offset = 5000;
    s.order_by = {{"a", false}, {"b", true}};
    const auto m = only(rewrite_hints(s), "large_offset");
    ASSERT_EQ(m.size(), 1u);
    EXPECT_TRUE(m[0].suggested_sql.empty());
}

TEST(RewriteRules, LeadingWildcardLike) {
    QueryShape s;
    s.like_predicates.push_back({"users", "email", "%@example.com", true, true, false});
    const auto h = only(rewrite_hints(s), "leading_wildcard_like");
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].suggested_sql,
              "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE INDEX CONCURRENTLY ON users USING gin (email "
              "gin_trgm_ops);");
    EXPECT_NE(h[0].message.find("ILIKE"), std::string::npos);
    // Negatives: prefix pattern, parameter pattern, NOT LIKE.
    QueryShape neg;
    neg.like_predicates.push_back({"users", "email", "john%", true, false, false});
    neg.like_predicates.push_back({"users", "email", "", false, false, false});
    neg.like_predicates.push_back({"users", "email", "%x%", true, false, true});
    EXPECT_TRUE(only(rewrite_hints(neg), "leading_wildcard_like").empty());
    // Too short for trigrams: hint without an index.
    QueryShape shortp;
    shortp.like_predicates.push_back({"users", "name", "%ab%", true, false, false});
    const auto sh = only(rewrite_hints(shortp), "leading_wildcard_like");
    ASSERT_EQ(sh.size(), 1u);
    EXPECT_TRUE(sh[0].suggested_sql.empty());
}

TEST(RewriteRules, FunctionOnIndexedColumn) {
    QueryShape s;
    FunctionOnColumn f;
    f.table = "users", f.column = "email", f.function_name = "lower", f.expression = "lower(email)";
    f.compared_value = "$1", f.column_indexed = true;
    s.functions_on_columns.push_back(f);
    FunctionOnColumn d;
    d.table = "orders", d.column = "created_at", d.function_name = "::date",
    d.expression = "created_at::date";
    d.compared_value = "$2", d.column_indexed = true;
    s.functions_on_columns.push_back(d);
    const auto h = only(rewrite_hints(s), "function_on_indexed_column");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].suggested_sql, "CREATE INDEX CONCURRENTLY ON users ((lower(email)));");
    EXPECT_EQ(h[1].suggested_sql, "created_at >= ($2)::date AND created_at < ($2)::date + 1");
    // Negatives: no index on the column, or the expression index exists.
    QueryShape neg;
    f.column_indexed = false;
    neg.functions_on_columns.push_back(f);
    f.column_indexed = true, f.expression_indexed = true;
    neg.functions_on_columns.push_back(f);
    EXPECT_TRUE(only(rewrite_hints(neg), "function_on_indexed_column").empty());
    // Not immutable (date_trunc on timestamptz): no index SQL.
    QueryShape vol;
    FunctionOnColumn t = d;
    t.function_name = "date_trunc", t.expression = "date_trunc('day', created_at)", t.immutable = false;
    vol.functions_on_columns.push_back(t);
    const auto v = only(rewrite_hints(vol), "function_on_indexed_column");
    ASSERT_EQ(v.size(), 1u);
    EXPECT_TRUE(v[0].suggested_sql.empty());
    EXPECT_NE(v[0].message.find("IMMUTABLE"), std::string::npos);
}

TEST(RewriteRules, OrAcrossColumns) {
    QueryShape s;
    s.select_list = "id, name";
    s.from = "users";
    s.or_groups.push_back({{{"email", "email = $1"}, {"phone", "phone = $2"}}});
    const auto h = only(rewrite_hints(s), "or_across_columns");
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].suggested_sql,
              "SELECT id, name FROM users WHERE email = $1\nUNION\nSELECT id, name FROM users WHERE "
              "phone = $2");
    // Negative: OR on one column is an IN list.
    QueryShape neg;
    neg.from = "users";
    neg.or_groups.push_back({{{"status", "status = 'a'"}, {"status", "status = 'b'"}}});
    EXPECT_TRUE(only(rewrite_hints(neg), "or_across_columns").empty());
}

TEST(RewriteRules, SelectStarWide) {
    QueryShape s;
    s.select_stars.push_back({"events", 45});
    const auto h = only(rewrite_hints(s), "select_star_wide");
    ASSERT_EQ(h.size(), 1u);
    EXPECT_NE(h[0].message.find("45 columns"), std::string::npos);
    QueryShape neg;
    neg.select_stars.push_back({"tags", 3});
    EXPECT_TRUE(only(rewrite_hints(neg), "select_star_wide").empty());
    RewriteConfig c;
    c.wide_table_columns = 3;
    EXPECT_EQ(only(rewrite_hints(neg, c), "select_star_wide").size(), 1u);
}

TEST(RewriteRules, CorrelatedSubquerySelect) {
    QueryShape s;
    s.correlated_select_subqueries.push_back(
        {"SELECT count(*) FROM items i WHERE i.order_id = o.id", "item_count"});
    const auto h = only(rewrite_hints(s), "correlated_subquery_select");
    ASSERT_EQ(h.size(), 1u);
    EXPECT_EQ(h[0].suggested_sql,
              "LEFT JOIN LATERAL (SELECT count(*) FROM items i WHERE i.order_id = o.id) AS "
              "item_count_q(value) ON true");
    QueryShape neg;
    neg.select_list = "(SELECT max(id) FROM items)";  // uncorrelated: the adapter does not list it
    EXPECT_TRUE(only(rewrite_hints(neg), "correlated_subquery_select").empty());
}

TEST(RewriteRules, CountForExistence) {
    QueryShape s;
    s.count_comparisons.push_back({"FROM orders WHERE customer_id = $1", ">", 0});
    s.count_comparisons.push_back({"FROM orders WHERE customer_id = $1", "=", 0});
    s.count_comparisons.push_back({"FROM orders WHERE customer_id = $1", "!=", 0});
    const auto h = only(rewrite_hints(s), "count_for_existence");
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].suggested_sql, "EXISTS (SELECT 1 FROM orders WHERE customer_id = $1)");
    EXPECT_EQ(h[1].suggested_sql, "NOT EXISTS (SELECT 1 FROM orders WHERE customer_id = $1)");
    EXPECT_EQ(h[2].suggested_sql, "EXISTS (SELECT 1 FROM orders WHERE customer_id = $1)");
    QueryShape neg;
    neg.count_comparisons.push_back({"FROM orders", ">", 5});  // a real count threshold
    neg.count_comparisons.push_back({"FROM orders", ">=", 2});
    EXPECT_TRUE(only(rewrite_hints(neg), "count_for_existence").empty());
}

TEST(RewriteRules, ImplicitTypeMismatch) {
    QueryShape s;
    s.type_comparisons.push_back({"o.id", "integer", "$1", "numeric", "="});
    s.type_comparisons.push_back({"c.code", "character(3)", "$2", "text", "="});
    s.type_comparisons.push_back({"u.ext_id", "uuid", "$3", "text", "="});
    const auto h = only(rewrite_hints(s), "implicit_type_mismatch");
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].suggested_sql, "o.id = ($1)::integer");
    EXPECT_EQ(h[1].suggested_sql, "c.code = ($2)::character(3)");
    QueryShape neg;
    neg.type_comparisons.push_back({"o.id", "int4", "$1", "bigint", "="});         // integer_ops cross-type
    neg.type_comparisons.push_back({"u.name", "varchar(50)", "$1", "text", "="});  // binary-coercible
    neg.type_comparisons.push_back({"o.total", "numeric(10,2)", "$1", "integer", ">"});  // the value is cast
    neg.type_comparisons.push_back({"o.at", "timestamptz", "$1", "date", ">="});  // datetime_ops cross-type
    neg.type_comparisons.push_back({"o.id", "integer", "'42'", "unknown", "="});  // untyped literal
    EXPECT_TRUE(only(rewrite_hints(neg), "implicit_type_mismatch").empty());
}

TEST(RewriteRules, TypeNamesNormalise) {
    EXPECT_EQ(normalize_type_name("INTEGER"), "int4");
    EXPECT_EQ(normalize_type_name("character varying(20)"), "varchar");
    EXPECT_EQ(normalize_type_name("timestamp(3) with  time zone"), "timestamptz");
    EXPECT_EQ(normalize_type_name(" double precision "), "float8");
    EXPECT_EQ(normalize_type_name("numeric(10,2)"), "numeric");
    EXPECT_EQ(normalize_type_name("char"), "bpchar");
}

TEST(RewriteRules, SeveralRulesInRuleOrderAndBadConfig) {
    QueryShape s;
    s.select_stars.push_back({"events", 30});
    s.not_in_subqueries.push_back({"e.id", "x", "x.id", "", false});
    s.offset = 10000;
    const auto h = rewrite_hints(s);
    ASSERT_EQ(h.size(), 3u);
    EXPECT_EQ(h[0].rule, "not_in_subquery");
    EXPECT_EQ(h[0].message.find("can be NULL"), std::string::npos);  // declared NOT NULL
    EXPECT_EQ(h[1].rule, "large_offset");
    EXPECT_NE(h[1].message.find("no ORDER BY"), std::string::npos);
    EXPECT_EQ(h[2].rule, "select_star_wide");
    RewriteConfig c;
    c.large_offset = 0;
    EXPECT_THROW(rewrite_hints(s, c), std::invalid_argument);
    c = {};
    c.wide_table_columns = 0;
    EXPECT_THROW(rewrite_hints(s, c), std::invalid_argument);
    s.param_count = -1;
    EXPECT_THROW(rewrite_hints(s), std::invalid_argument);
}
