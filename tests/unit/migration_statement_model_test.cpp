#include <gtest/gtest.h>

#include "core/migration/rules.h"
#include "core/migration/statement_model.h"

using namespace rubberduck::core::migration;
using namespace rubberduck::core::migration::detail;

namespace {
TypeName T(const std::string &n, std::vector<int> mods = {}) {
    TypeName t;
    t.name = n;
    t.modifiers = std::move(mods);
    return t;
}
}  // namespace

TEST(MigrationStatementModel, CanonicalTypeAliases) {
    EXPECT_EQ(canonical_type("integer"), "int4");
    EXPECT_EQ(canonical_type("INT"), "int4");
    EXPECT_EQ(canonical_type("pg_catalog.int8"), "int8");
    EXPECT_EQ(canonical_type("character varying"), "varchar");
    EXPECT_EQ(canonical_type("character"), "bpchar");
    EXPECT_EQ(canonical_type("timestamp without time zone"), "timestamp");
    EXPECT_EQ(canonical_type("timestamp with time zone"), "timestamptz");
    EXPECT_EQ(canonical_type("decimal"), "numeric");
    EXPECT_EQ(canonical_type("uuid"), "uuid");
}

TEST(MigrationStatementModel, TypeFromCatalogDecodesTypmods) {
    EXPECT_EQ(render_type(type_from_catalog("varchar", 259)), "varchar(255)");
    EXPECT_EQ(render_type(type_from_catalog("varchar", -1)), "varchar");
    EXPECT_EQ(render_type(type_from_catalog("bpchar", 14)), "bpchar(10)");
    EXPECT_EQ(render_type(type_from_catalog("numeric", ((10 << 16) | 2) + 4)), "numeric(10,2)");
    EXPECT_EQ(render_type(type_from_catalog("timestamptz", 3)), "timestamptz(3)");
    EXPECT_EQ(render_type(type_from_catalog("int4", -1, true)), "int4[]");
    EXPECT_EQ(render_type(type_from_catalog("text", -1)), "text");
}

TEST(MigrationStatementModel, RelationNameMatching) {
    RelationName q{"public", "orders"}, u{"", "orders"}, other{"audit", "orders"};
    EXPECT_TRUE(q.matches(u));
    EXPECT_TRUE(u.matches(q));
    EXPECT_FALSE(q.matches(other));
    EXPECT_FALSE(q.matches({"public", "order"}));
    EXPECT_EQ(q.display(), "public.orders");
    EXPECT_EQ(u.display(), "orders");
}

TEST(MigrationStatementModel, CatalogFindsRelationsAndIndexOwners) {
    CatalogFacts facts;
    RelationFacts a;
    a.name = {"public", "a"};
    a.indexes.push_back({"a_x_idx", {"x"}, false, false, true, 0});
    RelationFacts b;
    b.name = {"audit", "a"};
    facts.relations = {a, b};
    EXPECT_EQ(facts.find({"", "a"}), &facts.relations[0]);
    EXPECT_EQ(facts.find({"audit", "a"}), &facts.relations[1]);
    EXPECT_EQ(facts.find({"", "zzz"}), nullptr);
    auto owner = facts.find_index({"", "a_x_idx"});
    ASSERT_NE(owner.first, nullptr);
    EXPECT_EQ(owner.first->name.display(), "public.a");
    EXPECT_EQ(owner.second->name, "a_x_idx");
    EXPECT_EQ(facts.find_index({"audit", "a_x_idx"}).first, nullptr);
}

TEST(MigrationRuleHelpers, TypeChangeClassification) {
    EXPECT_EQ(classify_type_change(T("int4"), T("int8"), false), TypeChange::Rewrite);
    EXPECT_EQ(classify_type_change(T("integer"), T("int4"), false), TypeChange::NoOp);
    EXPECT_EQ(classify_type_change(T("text"), T("varchar", {50}), false), TypeChange::Rewrite);
    EXPECT_EQ(classify_type_change(T("varchar", {100}), T("varchar", {50}), false), TypeChange::Rewrite);
    EXPECT_EQ(classify_type_change(T("varchar", {50}), T("varchar", {100}), false),
              TypeChange::BinaryCoercible);
    EXPECT_EQ(classify_type_change(T("varchar", {50}), T("text"), false), TypeChange::BinaryCoercible);
    EXPECT_EQ(classify_type_change(T("varchar", {50}), T("varchar"), false), TypeChange::BinaryCoercible);
    EXPECT_EQ(classify_type_change(T("text"), T("varchar"), false), TypeChange::BinaryCoercible);
    EXPECT_EQ(classify_type_change(T("varchar"), T("varchar", {10}), false), TypeChange::Rewrite);
    EXPECT_EQ(classify_type_change(T("numeric", {10, 2}), T("numeric", {12, 2}), false),
              TypeChange::BinaryCoercible);
    EXPECT_EQ(classify_type_change(T("numeric", {10, 2}), T("numeric", {12, 3}), false), TypeChange::Rewrite);
    EXPECT_EQ(classify_type_change(T("numeric", {10, 2}), T("numeric"), false), TypeChange::BinaryCoercible);
    EXPECT_EQ(classify_type_change(T("bpchar", {5}), T("bpchar", {10}), false), TypeChange::Rewrite);
    EXPECT_EQ(classify_type_change(T("timestamp"), T("timestamptz"), false), TypeChange::Rewrite);
    EXPECT_EQ(classify_type_change(T("cidr"), T("inet"), false), TypeChange::BinaryCoercible);
    // USING always re-evaluates every row.
    EXPECT_EQ(classify_type_change(T("varchar", {50}), T("text"), true), TypeChange::Rewrite);
    TypeName arr = T("int4");
    arr.is_array = true;
    EXPECT_EQ(classify_type_change(T("int4"), arr, false), TypeChange::Rewrite);
}

TEST(MigrationRuleHelpers, CheckProvesNotNull) {
    EXPECT_TRUE(check_proves_not_null("email IS NOT NULL", "email"));
    EXPECT_TRUE(check_proves_not_null("((email IS NOT NULL))", "email"));
    EXPECT_TRUE(check_proves_not_null("(\"email\" is not null)", "email"));
    EXPECT_FALSE(check_proves_not_null("email IS NOT NULL OR x > 0", "email"));
    EXPECT_FALSE(check_proves_not_null("other IS NOT NULL", "email"));
    EXPECT_FALSE(check_proves_not_null("", "email"));
}

TEST(MigrationRuleHelpers, ParseDurations) {
    EXPECT_DOUBLE_EQ(*parse_duration_ms("'2s'"), 2000);
    EXPECT_DOUBLE_EQ(*parse_duration_ms("500"), 500);
    EXPECT_DOUBLE_EQ(*parse_duration_ms("'1min'"), 60000);
    EXPECT_DOUBLE_EQ(*parse_duration_ms("'250ms'"), 250);
    EXPECT_DOUBLE_EQ(*parse_duration_ms("0"), 0);
    EXPECT_FALSE(parse_duration_ms("DEFAULT").has_value());
    EXPECT_FALSE(parse_duration_ms("'soon'").has_value());
    EXPECT_FALSE(parse_duration_ms("'5 fortnights'").has_value());
    EXPECT_FALSE(parse_duration_ms("-1").has_value());
}

TEST(MigrationRuleHelpers, QuotingAndFormatting) {
    EXPECT_EQ(quote_ident("orders"), "orders");
    EXPECT_EQ(quote_ident("Orders"), "\"Orders\"");
    EXPECT_EQ(quote_ident("user"), "\"user\"");
    EXPECT_EQ(quote_ident("a\"b"), "\"a\"\"b\"");
    EXPECT_EQ(quote_rel({"public", "order"}), "public.\"order\"");
    EXPECT_EQ(ident_list({"a", "(lower(b))"}), "a, (lower(b))");
    EXPECT_EQ(format_ms(0.25), "0.2 ms");
    EXPECT_EQ(format_ms(12000), "12.0 s");
    EXPECT_EQ(format_rows(10e6), "10.0M");
    ConstraintDef fk;
    fk.kind = ConstraintKind::ForeignKey;
    fk.columns = {"customer_id"};
    fk.referenced = {"", "customers"};
    fk.referenced_columns = {"id"};
    fk.fk_actions = "ON DELETE CASCADE";
    EXPECT_EQ(render_constraint(fk), "FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE");
}
