#include <gtest/gtest.h>

#include <algorithm>

#include "core/index/index_health_rules.h"

using namespace rubberduck::core::index;

namespace {

ExistingIndex idx(const std::string &name, std::vector<std::string> cols, int64_t scans = 100,
                  int64_t size = 1 << 20) {
    ExistingIndex e;
    e.def.schema = "public";
    e.def.table = "orders";
    e.def.name = name;
    for (auto &c : cols) e.def.keys.push_back({c, "", "", false});
    e.scans = scans;
    e.size_bytes = size;
    return e;
}

RelationStats orders(std::vector<ExistingIndex> indexes) {
    RelationStats r;
    r.oid = 300;
    r.schema = "public";
    r.name = "orders";
    r.reltuples = 1e6;
    r.relpages = 10000;
    r.stats_window_seconds = 30 * 86400.0;
    r.columns = {{"id", 1, "bigint", 8, 0, -1, 1, false, {}},
                 {"customer_id", 2, "bigint", 8, 0, -1, 0, false, {}},
                 {"created_at", 3, "timestamp with time zone", 8, 0, -1, 1, false, {}}};
    r.indexes = std::move(indexes);
    return r;
}

const HealthFinding *finding(const std::vector<HealthFinding> &fs, const std::string &index) {
    for (const auto &f : fs) {
        if (f.index == index) return &f;
    }
    return nullptr;
}

}  // namespace

TEST(IndexHealthRules, HealthyIndexesReportNothing) {
    auto pk = idx("orders_pkey", {"id"});
    pk.def.unique = pk.primary = true;
    auto fs = check_index_health({orders({pk, idx("orders_customer", {"customer_id", "created_at"})})});
    EXPECT_TRUE(fs.empty());
}

TEST(IndexHealthRules, UnusedNeedsALongEnoughWindowAndSparesConstraints) {
    auto pk = idx("orders_pkey", {"id"}, 0);
    pk.def.unique = pk.primary = true;
    auto uniq = idx("orders_uq", {"customer_id", "id"}, 0);
    uniq.def.unique = true;
    auto r = orders({pk, uniq, idx("orders_created", {"created_at"}, 0, 20 << 20)});
    auto fs = check_index_health({r});
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].index, "orders_created");
    EXPECT_EQ(fs[0].issue, HealthIssue::kUnused);
    EXPECT_EQ(fs[0].relation, "public.orders");
    EXPECT_EQ(fs[0].fix_sql, "DROP INDEX CONCURRENTLY IF EXISTS public.orders_created");
    EXPECT_EQ(fs[0].size_bytes, 20 << 20);
    EXPECT_NE(fs[0].detail.find("720 h"), std::string::npos) << fs[0].detail;

    r.stats_window_seconds = 3600;  // one hour of counters proves nothing
    EXPECT_TRUE(check_index_health({r}).empty());
}

TEST(IndexHealthRules, DuplicatesKeepTheConstraintOrTheMostUsed) {
    auto pk = idx("orders_pkey", {"id"}, 10);
    pk.def.unique = pk.primary = true;
    auto dup_of_pk = idx("orders_id_idx", {"id"}, 500);
    auto a = idx("a_customer", {"customer_id"}, 5);
    auto b = idx("b_customer", {"customer_id"}, 50);
    auto fs = check_index_health({orders({pk, dup_of_pk, a, b})});
    const HealthFinding *f1 = finding(fs, "orders_id_idx");
    ASSERT_NE(f1, nullptr);
    EXPECT_EQ(f1->issue, HealthIssue::kDuplicate);
    EXPECT_EQ(f1->related_index, "orders_pkey");
    EXPECT_EQ(f1->fix_sql, "DROP INDEX CONCURRENTLY IF EXISTS public.orders_id_idx");
    const HealthFinding *f2 = finding(fs, "a_customer");
    ASSERT_NE(f2, nullptr);
    EXPECT_EQ(f2->issue, HealthIssue::kDuplicate);
    EXPECT_EQ(f2->related_index, "b_customer");
    EXPECT_EQ(finding(fs, "orders_pkey"), nullptr);
    EXPECT_EQ(finding(fs, "b_customer"), nullptr);
    EXPECT_EQ(fs.size(), 2u);
}

TEST(IndexHealthRules, DuplicateBackingAConstraintHasNoDropFix) {
    auto pk = idx("orders_pkey", {"id"});
    pk.def.unique = pk.primary = true;
    auto uq = idx("orders_id_key", {"id"});
    uq.def.unique = uq.constraint = true;
    auto fs = check_index_health({orders({pk, uq})});
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].index, "orders_id_key");
    EXPECT_EQ(fs[0].issue, HealthIssue::kDuplicate);
    EXPECT_TRUE(fs[0].fix_sql.empty());
    EXPECT_NE(fs[0].detail.find("constraint"), std::string::npos);
}

TEST(IndexHealthRules, DifferentPredicatesOrMethodsAreNotDuplicates) {
    auto a = idx("a", {"customer_id"});
    auto b = idx("b", {"customer_id"});
    b.def.predicate = "created_at > '2024-01-01'";
    auto h = idx("h", {"customer_id"});
    h.def.method = IndexMethod::kHash;
    auto fs = check_index_health({orders({a, b, h})});
    EXPECT_TRUE(fs.empty()) << fs.size();
}

TEST(IndexHealthRules, RedundantPrefix) {
    auto prefix = idx("orders_customer", {"customer_id"}, 40);
    auto longer = idx("orders_customer_created", {"customer_id", "created_at"}, 90);
    auto fs = check_index_health({orders({prefix, longer})});
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].index, "orders_customer");
    EXPECT_EQ(fs[0].issue, HealthIssue::kRedundant);
    EXPECT_EQ(fs[0].related_index, "orders_customer_created");
    EXPECT_EQ(fs[0].fix_sql, "DROP INDEX CONCURRENTLY IF EXISTS public.orders_customer");

    // A unique prefix enforces something: keep it.
    prefix.def.unique = true;
    EXPECT_TRUE(check_index_health({orders({prefix, longer})}).empty());
    prefix.def.unique = false;
    // INCLUDE columns the longer index lacks: not redundant.
    prefix.def.include = {"id"};
    EXPECT_TRUE(check_index_health({orders({prefix, longer})}).empty());
    // Different predicate: not redundant.
    prefix.def.include.clear();
    prefix.def.predicate = "created_at > now()";
    EXPECT_TRUE(check_index_health({orders({prefix, longer})}).empty());
    // Not a leading prefix: not redundant.
    auto second = idx("orders_created", {"created_at"});
    EXPECT_TRUE(check_index_health({orders({second, longer})}).empty());
}

TEST(IndexHealthRules, InvalidIndexesRebuiltOrDropped) {
    auto broken = idx("orders_customer", {"customer_id"});
    broken.valid = false;
    auto leftover = idx("orders_created_ccnew1", {"created_at"});
    leftover.valid = false;
    auto fs = check_index_health({orders({broken, leftover})});
    ASSERT_EQ(fs.size(), 2u);
    const HealthFinding *b = finding(fs, "orders_customer");
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->issue, HealthIssue::kInvalid);
    EXPECT_EQ(b->fix_sql, "REINDEX INDEX CONCURRENTLY public.orders_customer");
    const HealthFinding *l = finding(fs, "orders_created_ccnew1");
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->fix_sql, "DROP INDEX CONCURRENTLY IF EXISTS public.orders_created_ccnew1");
    // An invalid index never counts as the longer index of a redundancy.
    auto prefix = idx("p", {"customer_id"});
    auto invalid_longer = idx("l", {"customer_id", "created_at"});
    invalid_longer.valid = false;
    auto fs2 = check_index_health({orders({prefix, invalid_longer})});
    ASSERT_EQ(fs2.size(), 1u);
    EXPECT_EQ(fs2[0].index, "l");
}

TEST(IndexHealthRules, BloatAgainstAFreshBuild) {
    // A fresh int8 btree over 1M rows is ~22.5 MB (see the size estimator tests).
    auto fat = idx("orders_created", {"created_at"}, 100, 80LL << 20);
    auto fine = idx("orders_customer", {"customer_id"}, 100, 30LL << 20);
    auto fs = check_index_health({orders({fat, fine})});
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].index, "orders_created");
    EXPECT_EQ(fs[0].issue, HealthIssue::kBloated);
    EXPECT_EQ(fs[0].fix_sql, "REINDEX INDEX CONCURRENTLY public.orders_created");
    EXPECT_NE(fs[0].detail.find("3.7x"), std::string::npos) << fs[0].detail;

    HealthOptions strict;
    strict.bloat_factor = 1.2;
    auto fs2 = check_index_health({orders({fat, fine})}, strict);
    EXPECT_EQ(fs2.size(), 2u);
    // Small indexes are left alone, and so are tables never analyzed.
    auto small = idx("orders_created", {"created_at"}, 100, 1 << 20);
    auto r = orders({small});
    r.reltuples = 100;
    EXPECT_TRUE(check_index_health({r}).empty());
    auto unanalyzed = orders({fat});
    unanalyzed.reltuples = -1;
    EXPECT_TRUE(check_index_health({unanalyzed}).empty());
}

TEST(IndexHealthRules, RowsNowScaleReltuplesToTheCurrentHeapSize) {
    auto r = orders({});
    r.current_pages = 0;  // unknown: unchanged
    EXPECT_DOUBLE_EQ(rows_now(r).reltuples, 1e6);
    r.current_pages = 30000;  // three times the pages of the last VACUUM/ANALYZE: three times the rows
    EXPECT_DOUBLE_EQ(rows_now(r).reltuples, 3e6);
    r.current_pages = 5000;  // truncated by VACUUM since
    EXPECT_DOUBLE_EQ(rows_now(r).reltuples, 5e5);
    auto empty_then = orders({});
    empty_then.reltuples = 0;
    empty_then.relpages = 0;
    empty_then.current_pages = 100;  // last seen empty, rows since: no density to scale
    EXPECT_LT(rows_now(empty_then).reltuples, 0);
    auto never = orders({});
    never.reltuples = -1;
    never.current_pages = 100;
    EXPECT_LT(rows_now(never).reltuples, 0);
}

TEST(IndexHealthRules, BloatCountsRowsAddedSinceTheLastAnalyze) {
    // 80 MB of int8 btree is bloated for 1M rows (~22.5 MB fresh), not for the 4M rows the heap holds now.
    auto fat = idx("orders_created", {"created_at"}, 100, 80LL << 20);
    auto r = orders({fat});
    r.current_pages = 40000;
    EXPECT_TRUE(check_index_health({r}).empty());
    r.current_pages = 10000;
    auto fs = check_index_health({r});
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].issue, HealthIssue::kBloated);
    // Most rows deleted and the heap vacuumed (same pages, a tenth of the rows): a fresh-size index is
    // bloated.
    auto fresh_size = idx("orders_created", {"created_at"}, 100, 23LL << 20);
    auto after_delete = orders({fresh_size});
    after_delete.reltuples = 1e5;
    after_delete.current_pages = 10000;
    auto fs2 = check_index_health({after_delete});
    ASSERT_EQ(fs2.size(), 1u);
    EXPECT_EQ(fs2[0].issue, HealthIssue::kBloated);
    EXPECT_EQ(fs2[0].fix_sql, "REINDEX INDEX CONCURRENTLY public.orders_created");
    // A table last seen empty that has rows now gives no estimate: nothing reported.
    auto loaded = orders({fat});
    loaded.reltuples = 0;
    loaded.relpages = 0;
    loaded.current_pages = 10000;
    EXPECT_TRUE(check_index_health({loaded}).empty());
}

TEST(IndexHealthRules, OneFindingPerIndex) {
    // Unused and redundant and bloated at once: reported once, as redundant.
    auto prefix = idx("orders_customer", {"customer_id"}, 0, 200LL << 20);
    auto longer = idx("orders_customer_created", {"customer_id", "created_at"}, 10);
    auto fs = check_index_health({orders({prefix, longer})});
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].issue, HealthIssue::kRedundant);
}

TEST(IndexHealthRules, NamesAndBadInput) {
    EXPECT_STREQ(to_string(HealthIssue::kUnused), "unused");
    EXPECT_STREQ(to_string(HealthIssue::kDuplicate), "duplicate");
    EXPECT_STREQ(to_string(HealthIssue::kRedundant), "redundant");
    EXPECT_STREQ(to_string(HealthIssue::kInvalid), "invalid");
    EXPECT_STREQ(to_string(HealthIssue::kBloated), "bloated");
    auto nameless = idx("", {"id"});
    EXPECT_THROW(check_index_health({orders({nameless})}), std::invalid_argument);
    HealthOptions bad;
    bad.bloat_factor = 0.5;
    EXPECT_THROW(check_index_health({}, bad), std::invalid_argument);
    EXPECT_TRUE(check_index_health({}).empty());
}
