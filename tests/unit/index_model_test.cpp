#include <gtest/gtest.h>

#include "core/index/index_model.h"

using namespace rubberduck::core::index;

namespace {

IndexDef def_on(const std::string &schema, const std::string &table, std::vector<IndexKey> keys) {
    IndexDef d;
    d.schema = schema;
    d.table = table;
    d.keys = std::move(keys);
    return d;
}

}  // namespace

TEST(IndexModel, QuoteIdentFollowsPostgres) {
    EXPECT_EQ(quote_ident("users"), "users");
    EXPECT_EQ(quote_ident("_x1"), "_x1");
    EXPECT_EQ(quote_ident("Users"), "\"Users\"");
    EXPECT_EQ(quote_ident("1abc"), "\"1abc\"");
    EXPECT_EQ(quote_ident("my col"), "\"my col\"");
    EXPECT_EQ(quote_ident("we\"ird"), "\"we\"\"ird\"");
    // Reserved / column-name / type-function-name keywords are quoted, unreserved ones are not.
    EXPECT_EQ(quote_ident("order"), "\"order\"");
    EXPECT_EQ(quote_ident("user"), "\"user\"");
    EXPECT_EQ(quote_ident("left"), "\"left\"");            // type_func_name keyword
    EXPECT_EQ(quote_ident("timestamp"), "\"timestamp\"");  // col_name keyword
    EXPECT_EQ(quote_ident("status"), "status");
    EXPECT_EQ(quote_ident("name"), "name");    // unreserved
    EXPECT_EQ(quote_ident("index"), "index");  // unreserved
    EXPECT_EQ(quote_ident("été"), "\"été\"");
    EXPECT_THROW(quote_ident(""), std::invalid_argument);
}

TEST(IndexModel, DdlForCompositeCoveringPartialIndex) {
    IndexDef d = def_on("app", "jobs", {{"priority", "", "", false}, {"created_at", "", "", false}});
    d.include = {"id", "payload"};
    d.predicate = "status   = 'queued'";
    EXPECT_EQ(
        create_index_ddl(d),
        "CREATE INDEX CONCURRENTLY ON app.jobs USING btree (priority, created_at) INCLUDE (id, payload) "
        "WHERE status = 'queued'");
    d.name = "Jobs_Queue";
    d.unique = true;
    EXPECT_EQ(create_index_ddl(d).rfind("CREATE UNIQUE INDEX CONCURRENTLY \"Jobs_Queue\" ON app.jobs", 0),
              0u);
}

TEST(IndexModel, DdlForExpressionTrigramDescAndQuotedNames) {
    IndexDef e = def_on("public", "users", {{"email", "lower(email)", "", false}});
    EXPECT_EQ(create_index_ddl(e), "CREATE INDEX CONCURRENTLY ON public.users USING btree ((lower(email)))");
    IndexDef g = def_on("", "Order", {{"name", "", "gin_trgm_ops", false}});
    g.method = IndexMethod::kGin;
    EXPECT_EQ(create_index_ddl(g), "CREATE INDEX CONCURRENTLY ON \"Order\" USING gin (name gin_trgm_ops)");
    IndexDef s = def_on("public", "t", {{"user", "", "", true}, {"b", "", "text_pattern_ops", false}});
    EXPECT_EQ(create_index_ddl(s),
              "CREATE INDEX CONCURRENTLY ON public.t USING btree (\"user\" DESC, b text_pattern_ops)");
    IndexDef b = def_on("public", "events", {{"created_at", "", "", false}});
    b.method = IndexMethod::kBrin;
    EXPECT_EQ(create_index_ddl(b), "CREATE INDEX CONCURRENTLY ON public.events USING brin (created_at)");
}

TEST(IndexModel, DdlRejectsUnusableDefinitions) {
    EXPECT_THROW(create_index_ddl(def_on("public", "", {{"a", "", "", false}})), std::invalid_argument);
    EXPECT_THROW(create_index_ddl(def_on("public", "t", {})), std::invalid_argument);
    IndexDef h = def_on("public", "t", {{"a", "", "", false}, {"b", "", "", false}});
    h.method = IndexMethod::kHash;
    EXPECT_THROW(create_index_ddl(h), std::invalid_argument);
    IndexDef g = def_on("public", "t", {{"a", "", "", false}});
    g.method = IndexMethod::kGin;
    g.include = {"b"};
    EXPECT_THROW(create_index_ddl(g), std::invalid_argument);
    IndexDef inj = def_on("public", "t", {{"a", "", "", false}});
    inj.predicate = "a = 1; DROP TABLE t";
    EXPECT_THROW(create_index_ddl(inj), std::invalid_argument);
    inj.predicate = "a = 'x;y'";  // a semicolon inside a literal is fine
    EXPECT_NO_THROW(create_index_ddl(inj));
    inj.predicate = "a = 1 -- comment";
    EXPECT_THROW(create_index_ddl(inj), std::invalid_argument);
    IndexDef badop = def_on("public", "t", {{"a", "", "Bad Ops", false}});
    EXPECT_THROW(create_index_ddl(badop), std::invalid_argument);
    IndexDef nokey = def_on("public", "t", {{"", "", "", false}});
    EXPECT_THROW(create_index_ddl(nokey), std::invalid_argument);
}

TEST(IndexModel, CanonicalKeyIgnoresNameIncludeOrderAndWhitespace) {
    IndexDef a = def_on("public", "t", {{"a", "", "", false}});
    a.include = {"y", "x"};
    a.predicate = "s = 'q'";
    IndexDef b = a;
    b.name = "other";
    b.include = {"x", "y"};
    b.predicate = "s  =  'q'";
    EXPECT_EQ(canonical_key(a), canonical_key(b));
    IndexDef c = a;
    c.keys[0].descending = true;
    EXPECT_NE(canonical_key(a), canonical_key(c));
    IndexDef d = a;
    d.method = IndexMethod::kHash;
    d.include.clear();
    EXPECT_NE(canonical_key(a), canonical_key(d));
    IndexDef e = a;
    e.predicate = "s = 'Q'";  // literals keep their case
    EXPECT_NE(canonical_key(a), canonical_key(e));
}

TEST(IndexModel, NormalizeKeepsQuotedWhitespace) {
    EXPECT_EQ(normalize_sql_text("  a  =\n 'x  y'  "), "a = 'x  y'");
    EXPECT_EQ(normalize_sql_text(""), "");
}

TEST(IndexModel, OperatorAndMethodNames) {
    EXPECT_EQ(parse_predicate_op("ILIKE"), PredicateOp::kLikeInfix);
    EXPECT_EQ(parse_predicate_op("like prefix"), PredicateOp::kLikePrefix);
    EXPECT_EQ(parse_predicate_op("IS  NULL"), PredicateOp::kIsNull);
    EXPECT_EQ(parse_predicate_op("= ANY"), PredicateOp::kIn);
    for (auto op : {PredicateOp::kEq, PredicateOp::kLt, PredicateOp::kGt, PredicateOp::kLe, PredicateOp::kGe,
                    PredicateOp::kBetween, PredicateOp::kIn, PredicateOp::kLikePrefix,
                    PredicateOp::kLikeInfix, PredicateOp::kIsNull, PredicateOp::kExpression}) {
        EXPECT_EQ(parse_predicate_op(to_string(op)), op);
    }
    EXPECT_THROW(parse_predicate_op("~~*~"), std::invalid_argument);
    EXPECT_TRUE(is_equality_op(PredicateOp::kIn));
    EXPECT_FALSE(is_equality_op(PredicateOp::kLt));
    EXPECT_TRUE(is_range_op(PredicateOp::kLikePrefix));
    EXPECT_FALSE(is_range_op(PredicateOp::kLikeInfix));
    EXPECT_EQ(parse_index_method("GIN"), IndexMethod::kGin);
    EXPECT_STREQ(to_string(IndexMethod::kBrin), "brin");
    EXPECT_THROW(parse_index_method("gist"), std::invalid_argument);
}

TEST(IndexModel, SuggestedNamesAreBoundedAndStable) {
    IndexDef d = def_on("public", "jobs", {{"priority", "", "", false}, {"created_at", "", "", false}});
    d.predicate = "status = 'queued'";
    EXPECT_EQ(suggested_index_name(d), "rd_jobs_priority_created_at_part_idx");
    IndexDef e = def_on("public", "users", {{"email", "lower(email)", "", false}});
    EXPECT_EQ(suggested_index_name(e), "rd_users_lower_email_idx");
    e.include = {"id", "name"};
    EXPECT_EQ(suggested_index_name(e), "rd_users_lower_email_incl_id_name_idx");
    std::string hashed = suggested_index_name(e, true);
    EXPECT_EQ(hashed.rfind("rd_users_lower_email_incl_id_name_idx_", 0), 0u);
    EXPECT_EQ(hashed.size(), std::string("rd_users_lower_email_incl_id_name_idx_").size() + 8);
    IndexDef l = def_on("public", std::string(80, 'x'), {{"a", "", "", false}});
    std::string n = suggested_index_name(l);
    EXPECT_EQ(n.size(), 63u);
    EXPECT_EQ(n, suggested_index_name(l));
    IndexDef l2 = l;
    l2.keys[0].column = "b";
    EXPECT_NE(suggested_index_name(l2), n);  // hash suffix tells long names apart
}

TEST(IndexModel, LookupsAndQualifiedNames) {
    RelationStats r;
    r.schema = "Sales";
    r.name = "orders";
    r.oid = 7;
    r.columns.push_back({"id", 1, "bigint", 8, 0, -1, 1, false, {}});
    EXPECT_EQ(r.qualified_name(), "\"Sales\".orders");
    EXPECT_NE(r.find_column("id"), nullptr);
    EXPECT_EQ(r.find_column("nope"), nullptr);
    Workload w;
    w.relations.push_back(r);
    EXPECT_EQ(w.find_relation(7)->name, "orders");
    EXPECT_EQ(w.find_relation(8), nullptr);
    EXPECT_EQ(drop_index_ddl("public", "Idx"), "DROP INDEX CONCURRENTLY IF EXISTS public.\"Idx\"");
    EXPECT_EQ(reindex_index_ddl("", "i"), "REINDEX INDEX CONCURRENTLY i");
}
