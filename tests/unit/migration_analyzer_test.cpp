#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "core/migration/migration_analyzer.h"

using namespace rubberduck::core::migration;

namespace {

using Findings = std::vector<MigrationFinding>;

TypeName T(const std::string &n, std::vector<int> mods = {}) {
    TypeName t;
    t.name = n;
    t.modifiers = std::move(mods);
    return t;
}

ColumnFacts col(const std::string &name, const TypeName &type, bool not_null = false) {
    return ColumnFacts{name, type, not_null};
}

// An existing table of `rows` rows at 100 bytes a row, with an id bigint primary key and the given columns.
RelationFacts table(const std::string &name, double rows, std::vector<ColumnFacts> cols = {}) {
    RelationFacts r;
    r.name = {"public", name};
    r.rows = rows;
    r.bytes = rows * 100;
    r.columns = {col("id", T("int8"), true)};
    for (auto &c : cols) r.columns.push_back(c);
    r.indexes.push_back({name + "_pkey", {"id"}, true, true, true, rows * 20});
    ConstraintFacts pk;
    pk.name = name + "_pkey";
    pk.kind = ConstraintKind::PrimaryKey;
    pk.columns = {"id"};
    r.constraints.push_back(pk);
    return r;
}

StatementDescription stmt(StatementKind kind, const std::string &text, const std::string &rel = "") {
    StatementDescription s;
    s.kind = kind;
    s.text = text;
    s.relation = {"", rel};
    return s;
}

StatementDescription create_index(const std::string &rel, std::vector<std::string> cols,
                                  bool concurrently = false) {
    StatementDescription s = stmt(StatementKind::CreateIndex, "CREATE INDEX ON " + rel, rel);
    s.index.columns = std::move(cols);
    s.index.concurrently = concurrently;
    return s;
}

StatementDescription alter(const std::string &rel, std::vector<AlterTableCmd> cmds,
                           const std::string &text = "") {
    StatementDescription s =
        stmt(StatementKind::AlterTable, text.empty() ? "ALTER TABLE " + rel + " ..." : text, rel);
    s.alter_cmds = std::move(cmds);
    return s;
}

AlterTableCmd add_column(const std::string &name, const TypeName &type) {
    AlterTableCmd c;
    c.kind = AlterTableCmdKind::AddColumn;
    c.column_def.name = name;
    c.column_def.type = type;
    return c;
}

AlterTableCmd cmd(AlterTableCmdKind kind, const std::string &column = "", const std::string &name = "") {
    AlterTableCmd c;
    c.kind = kind;
    c.column = column;
    c.name = name;
    return c;
}

AlterTableCmd add_constraint(ConstraintKind kind, const std::string &name, std::vector<std::string> cols,
                             bool not_valid = false) {
    AlterTableCmd c;
    c.kind = AlterTableCmdKind::AddConstraint;
    c.constraint.kind = kind;
    c.constraint.name = name;
    c.constraint.columns = std::move(cols);
    c.constraint.not_valid = not_valid;
    return c;
}

StatementDescription set(const std::string &name, const std::string &value, bool local = false) {
    StatementDescription s = stmt(StatementKind::Set, "SET " + name + " = " + value);
    s.set.name = name;
    s.set.value = value;
    s.set.scope = local ? SetScope::Local : SetScope::Session;
    return s;
}

StatementDescription begin() {
    return stmt(StatementKind::Begin, "BEGIN");
}
StatementDescription commit() {
    return stmt(StatementKind::Commit, "COMMIT");
}

StatementDescription multi(StatementKind kind, const std::string &text, std::vector<std::string> rels) {
    StatementDescription s = stmt(kind, text);
    for (auto &r : rels) s.relations.push_back({"", r});
    return s;
}

std::set<std::string> rules(const Findings &f, int no = 0) {
    std::set<std::string> out;
    for (const auto &x : f)
        if ((no == 0 || x.statement_no == no) && x.rule != "ok") out.insert(x.rule);
    return out;
}

const MigrationFinding *find(const Findings &f, const std::string &rule, int no = 0) {
    for (const auto &x : f)
        if (x.rule == rule && (no == 0 || x.statement_no == no)) return &x;
    return nullptr;
}

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

CatalogFacts facts_with(std::vector<RelationFacts> rels) {
    CatalogFacts f;
    f.relations = std::move(rels);
    return f;
}

using S = std::set<std::string>;

}  // namespace

// ---- input handling ---------------------------------------------------------------------------------------

TEST(MigrationAnalyzer, EmptyMigrationIsAnError) {
    EXPECT_THROW(analyze({}, CatalogFacts{}), std::invalid_argument);
}

TEST(MigrationAnalyzer, MalformedDescriptionsAndFactsAreRejected) {
    CatalogFacts f = facts_with({table("t", 10)});
    StatementDescription no_rel = stmt(StatementKind::CreateIndex, "CREATE INDEX");
    no_rel.index.columns = {"a"};
    EXPECT_THROW(analyze({no_rel}, f), std::invalid_argument);
    EXPECT_THROW(analyze({alter("t", {})}, f), std::invalid_argument);
    EXPECT_THROW(analyze({stmt(StatementKind::DropTable, "DROP TABLE")}, f), std::invalid_argument);
    CatalogFacts bad = f;
    bad.throughput.index_build_rows_per_s = 0;
    EXPECT_THROW(analyze({create_index("t", {"id"})}, bad), std::invalid_argument);
    AnalyzerOptions o;
    o.danger_lock_ms = 10;
    o.warning_lock_ms = 100;
    EXPECT_THROW(analyze({create_index("t", {"id"})}, f, o), std::invalid_argument);
}

TEST(MigrationAnalyzer, SelectIsAcceptedQuietlyWithItsLock) {
    Findings f =
        analyze({multi(StatementKind::Select, "SELECT * FROM t", {"t"})}, facts_with({table("t", 1000)}));
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].rule, "ok");
    EXPECT_EQ(f[0].severity, Severity::Info);
    EXPECT_EQ(f[0].lock_mode, LockMode::AccessShare);
    EXPECT_EQ(f[0].lock_mode_name(), "ACCESS SHARE");
    EXPECT_EQ(f[0].relation, "public.t");
    EXPECT_FALSE(f[0].rewrites_table);
    EXPECT_TRUE(contains(f[0].message, "changes nothing"));
}

TEST(MigrationAnalyzer, EveryStatementGetsARow) {
    Findings f = analyze({begin(), set("lock_timeout", "'2s'", true), create_index("t", {"a"}), commit(),
                          multi(StatementKind::Select, "SELECT 1", {})},
                         facts_with({table("t", 0)}));
    std::set<int> seen;
    for (const auto &x : f) seen.insert(x.statement_no);
    EXPECT_EQ(seen, (std::set<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(f[0].statement, "BEGIN");
    EXPECT_FALSE(f[0].lock_mode.has_value());
    EXPECT_EQ(f[0].lock_mode_name(), "");
}

TEST(MigrationAnalyzer, UnknownRelationIsAnErrorFinding) {
    CatalogFacts f = facts_with({table("t", 10)});
    Findings r = analyze({alter("nope", {add_column("x", T("int4"))})}, f);
    const MigrationFinding *u = find(r, "unknown_relation");
    ASSERT_NE(u, nullptr);
    EXPECT_EQ(u->severity, Severity::Error);
    EXPECT_EQ(u->relation, "nope");
    EXPECT_EQ(u->lock_mode, LockMode::AccessExclusive);
    // IF EXISTS on a missing relation is fine.
    StatementDescription drop = multi(StatementKind::DropTable, "DROP TABLE IF EXISTS nope", {"nope"});
    drop.missing_ok = true;
    EXPECT_EQ(rules(analyze({drop}, f)), S{});
    // A FOREIGN KEY to an unknown table.
    AlterTableCmd fk = add_constraint(ConstraintKind::ForeignKey, "fk", {"id"}, true);
    fk.constraint.referenced = {"", "ghost"};
    EXPECT_EQ(rules(analyze({set("lock_timeout", "'1s'"), alter("t", {fk})}, f)), S{"unknown_relation"});
}

// ---- indexes
// -----------------------------------------------------------------------------------------------

TEST(MigrationAnalyzer, CreateIndexSeverityScalesWithTableSize) {
    std::vector<StatementDescription> m = {create_index("t", {"a"})};
    AnalyzerOptions o;
    o.large_table_rows = 1e9;  // keep missing_lock_timeout out of this test
    Findings small = analyze(m, facts_with({table("t", 250)}), o);
    const MigrationFinding *s = find(small, "create_index_not_concurrently");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->severity, Severity::Info);
    EXPECT_EQ(s->lock_mode, LockMode::Share);
    EXPECT_TRUE(s->scans_table);
    EXPECT_FALSE(s->rewrites_table);

    Findings mid = analyze(m, facts_with({table("t", 2e6)}), o);
    EXPECT_EQ(find(mid, "create_index_not_concurrently")->severity, Severity::Warning);

    Findings big = analyze(m, facts_with({table("t", 10e6)}), o);
    const MigrationFinding *b = find(big, "create_index_not_concurrently");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->severity, Severity::Danger);
    // rows / build rate + bytes / scan rate + metadata, with the default throughput.
    EXPECT_NEAR(b->est_duration_ms, 10e6 / 1e6 * 1000 + 1e9 / 800e6 * 1000 + 1, 1e-6);
    EXPECT_TRUE(contains(b->safer_alternative, "CREATE INDEX CONCURRENTLY ON t (a);"));

    // Measured throughput changes the estimate and so the severity.
    CatalogFacts fast = facts_with({table("t", 10e6)});
    fast.throughput.index_build_rows_per_s = 100e6;
    fast.throughput.scan_bytes_per_s = 10e9;
    EXPECT_EQ(find(analyze(m, fast, o), "create_index_not_concurrently")->severity, Severity::Info);
}

TEST(MigrationAnalyzer, CreateIndexConcurrentlyIsClean) {
    Findings f = analyze({create_index("t", {"a"}, true)}, facts_with({table("t", 10e6)}));
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].rule, "ok");
    EXPECT_EQ(f[0].lock_mode, LockMode::ShareUpdateExclusive);
    EXPECT_TRUE(f[0].scans_table);
    EXPECT_TRUE(contains(f[0].message, "INVALID"));
}

TEST(MigrationAnalyzer, IndexOnTableCreatedInMigrationOrEmptyIsHarmless) {
    StatementDescription ct = stmt(StatementKind::CreateTable, "CREATE TABLE n (...)", "n");
    ColumnDef id;
    id.name = "id";
    id.type = T("int8");
    id.is_primary_key = true;
    ct.columns = {id};
    Findings f = analyze({ct, create_index("n", {"id"})}, CatalogFacts{});
    EXPECT_EQ(rules(f), S{});
    EXPECT_EQ(f[1].rule, "ok");
    EXPECT_EQ(f[1].lock_mode, LockMode::Share);
    EXPECT_TRUE(contains(f[1].message, "created by this migration"));
    EXPECT_EQ(rules(analyze({create_index("t", {"a"})}, facts_with({table("t", 0)}))), S{});
}

TEST(MigrationAnalyzer, ConcurrentlyInTransactionIsAnError) {
    CatalogFacts f = facts_with({table("t", 100)});
    Findings r = analyze({begin(), create_index("t", {"a"}, true), commit()}, f);
    const MigrationFinding *e = find(r, "concurrently_in_transaction", 2);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->severity, Severity::Error);
    EXPECT_TRUE(contains(e->safer_alternative, "CONCURRENTLY"));
    StatementDescription di = multi(StatementKind::DropIndex, "DROP INDEX CONCURRENTLY t_pkey", {"t_pkey"});
    di.concurrently = true;
    EXPECT_EQ(rules(analyze({begin(), di, commit()}, f)), S{"concurrently_in_transaction"});
    EXPECT_EQ(rules(analyze({di}, f)), S{});
}

TEST(MigrationAnalyzer, DropIndexAndReindex) {
    CatalogFacts f = facts_with({table("t", 5e6)});
    StatementDescription di = multi(StatementKind::DropIndex, "DROP INDEX t_pkey", {"t_pkey"});
    Findings r = analyze({set("lock_timeout", "'2s'"), di}, f);
    const MigrationFinding *d = find(r, "drop_index_not_concurrently");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->relation, "public.t");
    EXPECT_EQ(d->lock_mode, LockMode::AccessExclusive);
    EXPECT_EQ(d->safer_alternative, "DROP INDEX CONCURRENTLY t_pkey;");
    EXPECT_EQ(rules(analyze({multi(StatementKind::DropIndex, "DROP INDEX nope", {"nope"})}, f)),
              S{"unknown_relation"});

    StatementDescription ri = stmt(StatementKind::Reindex, "REINDEX TABLE t", "t");
    EXPECT_EQ(rules(analyze({ri}, f)), (S{"reindex_not_concurrently", "missing_lock_timeout"}));
    ri.concurrently = true;
    EXPECT_EQ(rules(analyze({ri}, f)), S{});
}

// ---- columns
// -----------------------------------------------------------------------------------------------

TEST(MigrationAnalyzer, AddColumnVolatileDefaultRewritesConstantDoesNot) {
    CatalogFacts f = facts_with({table("t", 5e6)});
    AlterTableCmd vol = add_column("token", T("uuid"));
    vol.column_def.has_default = true;
    vol.column_def.default_expr = "gen_random_uuid()";
    vol.column_def.default_volatile = true;
    Findings r = analyze({set("lock_timeout", "'2s'"), alter("t", {vol})}, f);
    EXPECT_EQ(rules(r), S{"add_column_volatile_default"});
    const MigrationFinding *v = find(r, "add_column_volatile_default");
    EXPECT_TRUE(v->rewrites_table);
    EXPECT_EQ(v->lock_mode, LockMode::AccessExclusive);
    EXPECT_EQ(v->severity, Severity::Danger);
    EXPECT_TRUE(contains(v->safer_alternative, "SET DEFAULT gen_random_uuid()"));
    EXPECT_TRUE(contains(v->safer_alternative, "UPDATE public.t SET token = gen_random_uuid() WHERE id IN"));

    AlterTableCmd constant = add_column("status", T("text"));
    constant.column_def.has_default = true;
    constant.column_def.default_expr = "'new'";
    r = analyze({set("lock_timeout", "'2s'"), alter("t", {constant})}, f);
    EXPECT_EQ(rules(r), S{});
    EXPECT_FALSE(r[1].rewrites_table);
    EXPECT_EQ(r[1].lock_mode, LockMode::AccessExclusive);
    EXPECT_TRUE(contains(r[1].message, "no rewrite"));
    EXPECT_LT(r[1].est_duration_ms, 10);
}

TEST(MigrationAnalyzer, AddNotNullColumnWithoutDefault) {
    AlterTableCmd nn = add_column("x", T("int8"));
    nn.column_def.not_null = true;
    std::vector<StatementDescription> m = {set("lock_timeout", "'2s'"), alter("t", {nn})};
    Findings r = analyze(m, facts_with({table("t", 10)}));
    ASSERT_NE(find(r, "add_column_not_null_without_default"), nullptr);
    EXPECT_EQ(find(r, "add_column_not_null_without_default")->severity, Severity::Error);
    EXPECT_EQ(rules(analyze(m, facts_with({table("t", 0)}))), S{});
    m[1].alter_cmds[0].column_def.has_default = true;
    m[1].alter_cmds[0].column_def.default_expr = "0";
    EXPECT_EQ(rules(analyze(m, facts_with({table("t", 10)}))), S{});
}

TEST(MigrationAnalyzer, AddSerialOrIdentityColumnRewrites) {
    AlterTableCmd s = add_column("seq", T("bigserial"));
    s.column_def.is_serial_or_identity = true;
    Findings r = analyze({set("lock_timeout", "'2s'"), alter("t", {s})}, facts_with({table("t", 3e6)}));
    const MigrationFinding *x = find(r, "add_serial_or_identity_column");
    ASSERT_NE(x, nullptr);
    EXPECT_TRUE(x->rewrites_table);
    EXPECT_EQ(x->severity, Severity::Danger);
    EXPECT_TRUE(contains(x->safer_alternative, "CREATE SEQUENCE"));
    EXPECT_EQ(rules(analyze({alter("t", {s})}, facts_with({table("t", 0)}))), S{"missing_lock_timeout"});
}

TEST(MigrationAnalyzer, AlterColumnTypeRewriteVersusBinaryCoercible) {
    CatalogFacts f = facts_with(
        {table("t", 2e6, {col("n", T("int4")), col("name", T("varchar", {50})), col("body", T("text"))})});
    auto change = [&](const std::string &c, const TypeName &to) {
        AlterTableCmd a = cmd(AlterTableCmdKind::AlterColumnType, c);
        a.new_type = to;
        return analyze({set("lock_timeout", "'2s'"), alter("t", {a})}, f);
    };
    Findings r = change("n", T("int8"));
    const MigrationFinding *x = find(r, "alter_column_type_rewrite");
    ASSERT_NE(x, nullptr);
    EXPECT_TRUE(x->rewrites_table);
    // 2M rows / 500k rows/s + 200 MB / 150 MB/s + one index rebuild at 1M rows/s ~ 7.3 s.
    EXPECT_NEAR(x->est_duration_ms, 4000 + 2e8 / 150e6 * 1000 + 2000 + 1, 1e-6);
    EXPECT_EQ(x->severity, Severity::Warning);
    EXPECT_TRUE(contains(x->message, "int4"));
    EXPECT_TRUE(contains(x->safer_alternative, "ADD COLUMN n_new int8"));
    EXPECT_TRUE(contains(x->safer_alternative, "RENAME COLUMN n_new TO n"));

    r = change("name", T("varchar", {100}));
    EXPECT_EQ(rules(r), S{"prefer_text"});  // the new type itself is still varchar(n)
    EXPECT_FALSE(r[1].rewrites_table);
    r = change("name", T("text"));
    EXPECT_EQ(rules(r), S{});
    EXPECT_TRUE(contains(r[1].message, "binary-coercible"));

    r = change("body", T("varchar", {20}));
    x = find(r, "alter_column_type_rewrite");
    ASSERT_NE(x, nullptr);
    EXPECT_TRUE(contains(x->safer_alternative, "CHECK (char_length(body) <= 20) NOT VALID"));
    r = change("name", T("varchar", {10}));
    EXPECT_NE(find(r, "alter_column_type_rewrite"), nullptr);

    // The old type may come from the adapter instead of the column list.
    CatalogFacts bare = facts_with({table("u", 2e6)});
    bare.relations[0].columns.clear();
    AlterTableCmd a = cmd(AlterTableCmdKind::AlterColumnType, "v");
    a.new_type = T("text");
    a.old_type = T("varchar", {30});
    EXPECT_EQ(rules(analyze({set("lock_timeout", "'2s'"), alter("u", {a})}, bare)), S{});
    a.old_type.reset();  // unknown: assume the worst
    EXPECT_EQ(rules(analyze({set("lock_timeout", "'2s'"), alter("u", {a})}, bare)),
              S{"alter_column_type_rewrite"});
}

TEST(MigrationAnalyzer, UnknownColumnAndConstraint) {
    CatalogFacts f = facts_with({table("t", 10)});
    EXPECT_EQ(
        rules(analyze(
            {set("lock_timeout", "1000"), alter("t", {cmd(AlterTableCmdKind::DropColumn, "ghost")})}, f)),
        S{"unknown_column"});
    AlterTableCmd missing_ok = cmd(AlterTableCmdKind::DropColumn, "ghost");
    missing_ok.missing_ok = true;
    EXPECT_EQ(rules(analyze({set("lock_timeout", "1000"), alter("t", {missing_ok})}, f)), S{});
    EXPECT_EQ(rules(analyze({set("lock_timeout", "1000"),
                             alter("t", {cmd(AlterTableCmdKind::ValidateConstraint, "", "ghost")})},
                            f)),
              S{"unknown_constraint"});
}

TEST(MigrationAnalyzer, SetNotNullNeedsAValidatedCheck) {
    CatalogFacts f = facts_with({table("t", 5e6, {col("email", T("text"))})});
    Findings r =
        analyze({set("lock_timeout", "'2s'"), alter("t", {cmd(AlterTableCmdKind::SetNotNull, "email")})}, f);
    const MigrationFinding *x = find(r, "set_not_null_without_check");
    ASSERT_NE(x, nullptr);
    EXPECT_TRUE(x->scans_table);
    EXPECT_EQ(x->lock_mode, LockMode::AccessExclusive);
    EXPECT_TRUE(contains(x->safer_alternative, "CHECK (email IS NOT NULL) NOT VALID"));
    EXPECT_TRUE(contains(x->safer_alternative, "VALIDATE CONSTRAINT t_email_not_null"));

    // The safe sequence: only the (info) validation is reported; SET NOT NULL uses the check, no scan.
    AlterTableCmd chk = add_constraint(ConstraintKind::Check, "t_email_not_null", {"email"}, true);
    chk.constraint.expression = "email IS NOT NULL";
    r = analyze({set("lock_timeout", "'2s'"), alter("t", {chk}),
                 alter("t", {cmd(AlterTableCmdKind::ValidateConstraint, "", "t_email_not_null")}),
                 alter("t", {cmd(AlterTableCmdKind::SetNotNull, "email")}),
                 alter("t", {cmd(AlterTableCmdKind::DropConstraint, "", "t_email_not_null")})},
                f);
    EXPECT_EQ(rules(r), S{"validate_constraint"});
    EXPECT_EQ(find(r, "validate_constraint")->severity, Severity::Info);
    EXPECT_EQ(find(r, "validate_constraint")->lock_mode, LockMode::ShareUpdateExclusive);
    EXPECT_FALSE(r[3].scans_table);
    EXPECT_TRUE(contains(r[3].message, "no table scan"));

    // An already validated CHECK in the catalog also counts; before PostgreSQL 12 it does not.
    CatalogFacts with_check = f;
    ConstraintFacts k;
    k.name = "c";
    k.kind = ConstraintKind::Check;
    k.expression = "(email IS NOT NULL)";
    with_check.relations[0].constraints.push_back(k);
    std::vector<StatementDescription> m = {set("lock_timeout", "'2s'"),
                                           alter("t", {cmd(AlterTableCmdKind::SetNotNull, "email")})};
    EXPECT_EQ(rules(analyze(m, with_check)), S{});
    with_check.server_version_num = 110000;
    r = analyze(m, with_check);
    EXPECT_EQ(rules(r), S{"set_not_null_without_check"});
    EXPECT_EQ(find(r, "set_not_null_without_check")->safer_alternative, "");
}

TEST(MigrationAnalyzer, DropAndRenameColumn) {
    CatalogFacts f = facts_with({table("t", 1000, {col("legacy", T("text"))})});
    f.relations[0].dependent_views = {"public.t_report"};
    Findings r =
        analyze({set("lock_timeout", "'2s'"), alter("t", {cmd(AlterTableCmdKind::DropColumn, "legacy")})}, f);
    const MigrationFinding *d = find(r, "drop_column");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->severity, Severity::Danger);
    EXPECT_TRUE(contains(d->message, "public.t_report"));

    AlterTableCmd rn = cmd(AlterTableCmdKind::RenameColumn, "legacy");
    rn.new_name = "modern";
    r = analyze({set("lock_timeout", "'2s'"), alter("t", {rn})}, f);
    const MigrationFinding *x = find(r, "rename_column");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->severity, Severity::Warning);
    EXPECT_TRUE(contains(x->safer_alternative, "ADD COLUMN modern text"));

    // A column added earlier in the migration can be renamed or dropped freely, and is known afterwards.
    AlterTableCmd rn2 = cmd(AlterTableCmdKind::RenameColumn, "fresh");
    rn2.new_name = "fresh2";
    r = analyze({set("lock_timeout", "'2s'"), alter("t", {add_column("fresh", T("int8"))}), alter("t", {rn2}),
                 alter("t", {cmd(AlterTableCmdKind::DropColumn, "fresh2")})},
                f);
    EXPECT_EQ(rules(r), S{});
}

// ---- constraints
// -------------------------------------------------------------------------------------------

TEST(MigrationAnalyzer, ForeignKeyNeedsNotValidThenValidate) {
    CatalogFacts f =
        facts_with({table("orders", 5e6, {col("customer_id", T("int8"))}), table("customers", 1e5)});
    AlterTableCmd fk = add_constraint(ConstraintKind::ForeignKey, "orders_customer_fk", {"customer_id"});
    fk.constraint.referenced = {"", "customers"};
    fk.constraint.referenced_columns = {"id"};
    Findings r = analyze({set("lock_timeout", "'2s'"), alter("orders", {fk})}, f);
    const MigrationFinding *x = find(r, "add_foreign_key_without_not_valid");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->lock_mode, LockMode::ShareRowExclusive);
    EXPECT_TRUE(x->scans_table);
    EXPECT_EQ(x->severity, Severity::Warning);
    EXPECT_TRUE(contains(x->message, "customers"));
    EXPECT_TRUE(
        contains(x->safer_alternative,
                 "ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) "
                 "NOT VALID"));

    fk.constraint.not_valid = true;
    r = analyze({set("lock_timeout", "'2s'"), alter("orders", {fk}),
                 alter("orders", {cmd(AlterTableCmdKind::ValidateConstraint, "", "orders_customer_fk")})},
                f);
    EXPECT_EQ(rules(r), S{"validate_constraint"});
    EXPECT_FALSE(r[1].scans_table);
    const MigrationFinding *v = find(r, "validate_constraint");
    EXPECT_EQ(v->severity, Severity::Info);
    EXPECT_EQ(v->lock_mode, LockMode::ShareUpdateExclusive);
    EXPECT_NEAR(v->est_duration_ms, 5e6 / 1e6 * 1000 + 5e8 / 800e6 * 1000 + 1, 1e-6);
}

TEST(MigrationAnalyzer, CheckConstraintNeedsNotValid) {
    CatalogFacts f = facts_with({table("t", 2e7, {col("price", T("numeric"))})});
    AlterTableCmd c = add_constraint(ConstraintKind::Check, "price_positive", {});
    c.constraint.expression = "price > 0";
    Findings r = analyze({set("lock_timeout", "'2s'"), alter("t", {c})}, f);
    const MigrationFinding *x = find(r, "add_check_without_not_valid");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->lock_mode, LockMode::AccessExclusive);
    EXPECT_EQ(x->severity, Severity::Warning);  // 2e7 rows scanned at 5M rows/s + 2 GB at 800 MB/s ~ 6.5 s
    EXPECT_TRUE(contains(x->safer_alternative, "CHECK (price > 0) NOT VALID"));
    c.constraint.not_valid = true;
    EXPECT_EQ(rules(analyze({set("lock_timeout", "'2s'"), alter("t", {c})}, f)), S{});
}

TEST(MigrationAnalyzer, ValidateInTheSameTransactionKeepsTheStrongLock) {
    CatalogFacts f = facts_with({table("t", 2e7, {col("price", T("numeric"))})});
    AlterTableCmd c = add_constraint(ConstraintKind::Check, "price_positive", {}, true);
    c.constraint.expression = "price > 0";
    Findings r =
        analyze({begin(), set("lock_timeout", "'2s'", true), alter("t", {c}),
                 alter("t", {cmd(AlterTableCmdKind::ValidateConstraint, "", "price_positive")}), commit()},
                f);
    const MigrationFinding *v = find(r, "validate_constraint");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->lock_mode, LockMode::AccessExclusive);  // held since statement 3
    EXPECT_EQ(v->severity, Severity::Warning);
    EXPECT_TRUE(contains(v->message, "COMMIT the NOT VALID constraint first"));
    EXPECT_TRUE(contains(r.back().message, "releases ACCESS EXCLUSIVE on public.t"));
}

TEST(MigrationAnalyzer, UniqueConstraintShouldUseAConcurrentIndex) {
    CatalogFacts f = facts_with({table("users", 3e6, {col("email", T("text"))})});
    Findings r = analyze({set("lock_timeout", "'2s'"),
                          alter("users", {add_constraint(ConstraintKind::Unique, "", {"email"})})},
                         f);
    const MigrationFinding *x = find(r, "add_unique_without_index");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->lock_mode, LockMode::AccessExclusive);
    EXPECT_TRUE(contains(x->safer_alternative,
                         "CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON public.users "
                         "(email);"));
    EXPECT_TRUE(
        contains(x->safer_alternative, "ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key"));
    AlterTableCmd using_index = add_constraint(ConstraintKind::Unique, "users_email_key", {"email"});
    using_index.constraint.using_index = "users_email_key";
    r = analyze(
        {create_index("users", {"email"}, true), set("lock_timeout", "'2s'"), alter("users", {using_index})},
        f);
    EXPECT_EQ(rules(r), S{});
}

TEST(MigrationAnalyzer, ChangingThePrimaryKey) {
    CatalogFacts f = facts_with({table("t", 1e5)});
    Findings r = analyze(
        {set("lock_timeout", "'2s'"), alter("t", {cmd(AlterTableCmdKind::DropConstraint, "", "t_pkey")}),
         alter("t", {add_constraint(ConstraintKind::PrimaryKey, "t_pkey", {"id"})})},
        f);
    const MigrationFinding *d = find(r, "change_primary_key", 2);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->severity, Severity::Danger);
    EXPECT_TRUE(contains(d->safer_alternative, "PRIMARY KEY USING INDEX"));
    EXPECT_NE(find(r, "change_primary_key", 3), nullptr);
    EXPECT_NE(find(r, "add_unique_without_index", 3), nullptr);
    // The recommended swap in one statement is reported as info only.
    AlterTableCmd swap = add_constraint(ConstraintKind::PrimaryKey, "t_pkey", {"uuid"});
    swap.constraint.using_index = "t_uuid_idx";
    r = analyze({set("lock_timeout", "'2s'"),
                 alter("t", {cmd(AlterTableCmdKind::DropConstraint, "", "t_pkey"), swap})},
                f);
    EXPECT_EQ(rules(r), S{"change_primary_key"});
    EXPECT_EQ(find(r, "change_primary_key")->severity, Severity::Info);
    // A second primary key is rejected by PostgreSQL.
    r = analyze(
        {set("lock_timeout", "'2s'"), alter("t", {add_constraint(ConstraintKind::PrimaryKey, "", {"id"})})},
        f);
    EXPECT_EQ(find(r, "change_primary_key")->severity, Severity::Error);
}

// ---- destructive and whole-table statements
// ------------------------------------------------------------------

TEST(MigrationAnalyzer, DropTableAndTruncateLoseData) {
    CatalogFacts f = facts_with({table("old", 5000), table("empty", 0)});
    f.relations[0].dependent_views = {"public.old_summary"};
    Findings r =
        analyze({set("lock_timeout", "'2s'"), multi(StatementKind::DropTable, "DROP TABLE old", {"old"})}, f);
    const MigrationFinding *d = find(r, "drop_table");
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->severity, Severity::Danger);
    EXPECT_TRUE(contains(d->message, "public.old_summary"));
    EXPECT_EQ(find(analyze({set("lock_timeout", "'2s'"), multi(StatementKind::DropTable, "", {"empty"})}, f),
                   "drop_table")
                  ->severity,
              Severity::Warning);
    // Referencing a dropped table later is an unknown relation.
    r = analyze({set("lock_timeout", "'2s'"), multi(StatementKind::DropTable, "", {"old"}),
                 create_index("old", {"id"})},
                f);
    EXPECT_NE(find(r, "unknown_relation", 3), nullptr);

    r = analyze({set("lock_timeout", "'2s'"), multi(StatementKind::Truncate, "TRUNCATE old", {"old"})}, f);
    EXPECT_EQ(find(r, "truncate")->severity, Severity::Danger);
    EXPECT_EQ(find(r, "truncate")->lock_mode, LockMode::AccessExclusive);
    EXPECT_EQ(rules(analyze({set("lock_timeout", "'2s'"), multi(StatementKind::Truncate, "", {"empty"})}, f)),
              S{});
}

TEST(MigrationAnalyzer, RenameTableSuggestsACompatibilityView) {
    CatalogFacts f = facts_with({table("clients", 100)});
    StatementDescription rn =
        stmt(StatementKind::RenameTable, "ALTER TABLE clients RENAME TO customers", "clients");
    rn.new_name = "customers";
    Findings r = analyze({set("lock_timeout", "'2s'"), rn, create_index("customers", {"id"}, true),
                          create_index("clients", {"id"}, true)},
                         f);
    const MigrationFinding *x = find(r, "rename_table");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->severity, Severity::Warning);
    EXPECT_TRUE(
        contains(x->safer_alternative, "CREATE VIEW public.clients AS SELECT * FROM public.customers"));
    EXPECT_EQ(rules(r, 3), S{});                    // the new name is known
    EXPECT_EQ(rules(r, 4), S{"unknown_relation"});  // the old one is gone
}

TEST(MigrationAnalyzer, VacuumFullAndClusterSuggestRepack) {
    CatalogFacts f = facts_with({table("t", 5e6)});
    StatementDescription vf = multi(StatementKind::Vacuum, "VACUUM FULL t", {"t"});
    vf.vacuum_full = true;
    Findings r = analyze({set("lock_timeout", "'2s'"), vf}, f);
    const MigrationFinding *x = find(r, "vacuum_full");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->severity, Severity::Danger);
    EXPECT_TRUE(x->rewrites_table);
    EXPECT_TRUE(contains(x->safer_alternative, "pg_repack"));
    EXPECT_TRUE(contains(x->safer_alternative, "VACUUM (ANALYZE) public.t;"));
    EXPECT_EQ(find(analyze({set("lock_timeout", "'2s'"), vf}, facts_with({table("t", 10)})), "vacuum_full")
                  ->severity,
              Severity::Warning);
    StatementDescription cl = stmt(StatementKind::Cluster, "CLUSTER t USING t_pkey", "t");
    EXPECT_EQ(rules(analyze({set("lock_timeout", "'2s'"), cl}, f)), S{"cluster"});
    StatementDescription plain = multi(StatementKind::Vacuum, "VACUUM t", {"t"});
    r = analyze({plain}, f);
    EXPECT_EQ(rules(r), S{});
    EXPECT_EQ(r[0].lock_mode, LockMode::ShareUpdateExclusive);
    EXPECT_EQ(rules(analyze({begin(), plain, commit()}, f)), S{"vacuum_in_transaction"});
}

// ---- session and transaction rules
// ---------------------------------------------------------------------------

TEST(MigrationAnalyzer, MissingLockTimeout) {
    CatalogFacts f = facts_with({table("t", 100), table("big", 5e6)});
    std::vector<StatementDescription> m = {alter("t", {add_column("x", T("int8"))})};
    Findings r = analyze(m, f);
    const MigrationFinding *x = find(r, "missing_lock_timeout");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->severity, Severity::Warning);
    EXPECT_TRUE(contains(x->safer_alternative, "SET lock_timeout = '2s';"));
    EXPECT_EQ(rules(analyze({set("lock_timeout", "'3s'"), m[0]}, f)), S{});
    EXPECT_EQ(rules(analyze({set("lock_timeout", "0"), m[0]}, f)), S{"missing_lock_timeout"});
    // SET LOCAL lasts until the end of the transaction.
    r = analyze({begin(), set("lock_timeout", "'3s'", true), m[0], commit(), m[0]}, f);
    EXPECT_EQ(rules(r, 3), S{});
    EXPECT_EQ(rules(r, 5), S{"missing_lock_timeout"});
    // SHARE only matters on a large table.
    EXPECT_EQ(rules(analyze({create_index("t", {"id"})}, f)), S{"create_index_not_concurrently"});
    EXPECT_EQ(rules(analyze({create_index("big", {"id"})}, f)),
              (S{"create_index_not_concurrently", "missing_lock_timeout"}));
    // Tables created by the migration need none.
    StatementDescription ct = stmt(StatementKind::CreateTable, "CREATE TABLE n ()", "n");
    EXPECT_EQ(rules(analyze({ct, alter("n", {add_column("x", T("int8"))})}, f)), S{});
}

TEST(MigrationAnalyzer, StatementTimeoutTooShort) {
    CatalogFacts f = facts_with({table("t", 1e7)});
    Findings r = analyze({set("statement_timeout", "'1s'"), create_index("t", {"id"}, true)}, f);
    EXPECT_EQ(rules(r), S{"statement_timeout_too_short"});
    EXPECT_EQ(rules(analyze({set("statement_timeout", "'1h'"), create_index("t", {"id"}, true)}, f)), S{});
}

TEST(MigrationAnalyzer, AlterEnumAddValueInTransaction) {
    StatementDescription e = stmt(StatementKind::AlterTypeAddValue, "ALTER TYPE mood ADD VALUE 'meh'");
    e.type_name = "mood";
    e.new_value = "meh";
    Findings r = analyze({begin(), e, commit()}, CatalogFacts{});
    ASSERT_NE(find(r, "alter_enum_add_value_in_transaction"), nullptr);
    EXPECT_EQ(find(r, "alter_enum_add_value_in_transaction")->severity, Severity::Info);
    CatalogFacts pg11;
    pg11.server_version_num = 110000;
    EXPECT_EQ(find(analyze({begin(), e, commit()}, pg11), "alter_enum_add_value_in_transaction")->severity,
              Severity::Error);
    EXPECT_EQ(rules(analyze({e}, CatalogFacts{})), S{});
}

TEST(MigrationAnalyzer, DdlWithBackfillInOneTransaction) {
    CatalogFacts f = facts_with({table("t", 1e6)});
    StatementDescription upd = stmt(StatementKind::Update, "UPDATE t SET x = 0", "t");
    Findings r = analyze(
        {begin(), set("lock_timeout", "'2s'", true), alter("t", {add_column("x", T("int8"))}), upd, commit()},
        f);
    const MigrationFinding *x = find(r, "ddl_with_backfill");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->statement_no, 4);
    EXPECT_EQ(x->severity, Severity::Danger);  // 1M rows at 100k rows/s = 10 s with ACCESS EXCLUSIVE held
    EXPECT_EQ(x->lock_mode, LockMode::AccessExclusive);
    EXPECT_NE(find(r, "large_unbatched_dml", 4), nullptr);
    // Split into two transactions: only the batching advice remains.
    r = analyze({set("lock_timeout", "'2s'"), alter("t", {add_column("x", T("int8"))}), upd}, f);
    EXPECT_EQ(rules(r), S{"large_unbatched_dml"});
    EXPECT_EQ(find(r, "large_unbatched_dml")->lock_mode, LockMode::RowExclusive);
    // A small, targeted update is fine.
    StatementDescription small = upd;
    small.dml.has_where = true;
    small.dml.estimated_rows = 10;
    EXPECT_EQ(rules(analyze({begin(), set("lock_timeout", "'2s'", true),
                             alter("t", {add_column("x", T("int8"))}), small, commit()},
                            f)),
              S{});
}

TEST(MigrationAnalyzer, LocksAccumulateInsideATransaction) {
    CatalogFacts f = facts_with({table("t", 1000), table("u", 1000)});
    StatementDescription sel = multi(StatementKind::Select, "SELECT * FROM t", {"t"});
    Findings r =
        analyze({begin(), set("lock_timeout", "'2s'", true), alter("t", {add_column("x", T("int8"))}), sel,
                 multi(StatementKind::Select, "SELECT * FROM u", {"u"}), commit(), sel},
                f);
    ASSERT_EQ(r.size(), 7u);
    EXPECT_EQ(r[3].lock_mode, LockMode::AccessExclusive);  // still held from statement 3
    EXPECT_EQ(r[4].lock_mode, LockMode::AccessShare);
    EXPECT_TRUE(contains(r[5].message, "ACCESS EXCLUSIVE on public.t"));
    EXPECT_TRUE(contains(r[5].message, "ACCESS SHARE on public.u"));
    EXPECT_EQ(r[6].lock_mode, LockMode::AccessShare);  // released at COMMIT
    // Outside a transaction nothing accumulates.
    r = analyze({set("lock_timeout", "'2s'"), alter("t", {add_column("x", T("int8"))}), sel}, f);
    EXPECT_EQ(r[2].lock_mode, LockMode::AccessShare);
    // A held lock that already covers the request means no wait: no missing_lock_timeout.
    r = analyze({begin(), set("lock_timeout", "'2s'", true), alter("t", {add_column("x", T("int8"))}),
                 set("lock_timeout", "0", true), alter("t", {add_column("y", T("int8"))}), commit()},
                f);
    EXPECT_EQ(rules(r), S{});
}

TEST(MigrationAnalyzer, FollowsObjectsCreatedEarlier) {
    StatementDescription ct = stmt(StatementKind::CreateTable, "CREATE TABLE events (...)", "events");
    ColumnDef id;
    id.name = "id";
    id.type = T("int8");
    id.is_primary_key = true;
    ColumnDef at;
    at.name = "at";
    at.type = T("timestamptz");
    ct.columns = {id, at};
    AlterTableCmd ty = cmd(AlterTableCmdKind::AlterColumnType, "at");
    ty.new_type = T("text");
    Findings r = analyze(
        {ct, create_index("events", {"at"}), alter("events", {cmd(AlterTableCmdKind::SetNotNull, "at")}),
         alter("events", {ty}), multi(StatementKind::Truncate, "TRUNCATE events", {"events"}),
         multi(StatementKind::DropTable, "DROP TABLE events", {"events"})},
        CatalogFacts{});
    EXPECT_EQ(rules(r), S{});
    EXPECT_EQ(r.size(), 6u);
    // Creating a table that already exists is rejected.
    EXPECT_EQ(rules(analyze({ct}, facts_with({table("events", 1)}))), S{"relation_already_exists"});
    ct.if_not_exists = true;
    EXPECT_EQ(rules(analyze({ct}, facts_with({table("events", 1)}))), S{});
}

TEST(MigrationAnalyzer, ColumnTypePreferences) {
    StatementDescription ct = stmt(StatementKind::CreateTable, "CREATE TABLE a (...)", "a");
    auto column = [](const std::string &n, const TypeName &t, bool pk = false) {
        ColumnDef c;
        c.name = n;
        c.type = t;
        c.is_primary_key = pk;
        c.is_serial_or_identity = canonical_type(t.name) == "serial";
        return c;
    };
    ct.columns = {column("id", T("serial"), true), column("name", T("varchar", {255})),
                  column("created", T("timestamp")), column("country", T("bpchar", {2}))};
    Findings r = analyze({ct}, CatalogFacts{});
    EXPECT_EQ(rules(r), (S{"prefer_bigint", "prefer_text", "prefer_timestamptz", "char_n"}));
    EXPECT_EQ(find(r, "prefer_bigint")->severity, Severity::Warning);
    EXPECT_EQ(find(r, "prefer_text")->severity, Severity::Info);
    EXPECT_TRUE(contains(find(r, "prefer_text")->safer_alternative, "CHECK (char_length(name) <= 255)"));
    ct.columns = {column("id", T("int8"), true), column("name", T("text")),
                  column("created", T("timestamptz")), column("country", T("text"))};
    EXPECT_EQ(rules(analyze({ct}, CatalogFacts{})), S{});
    // A non-key integer column is fine.
    ct.columns = {column("id", T("int8"), true), column("qty", T("int4"))};
    EXPECT_EQ(rules(analyze({ct}, CatalogFacts{})), S{});
}
