#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/migration/execution.h"
#include "core/migration/sha256.h"

using namespace rubberduck::core::migration;

TEST(MigrationSha256, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // 1,000,000 x 'a' (crosses many blocks)
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(MigrationSha256, PaddingBoundaries) {
    // 55, 56 and 64 bytes hit the one-block / two-block padding edges; digests must differ and be stable.
    std::string a55(55, 'x'), a56(56, 'x'), a64(64, 'x');
    EXPECT_EQ(sha256_hex(a55), sha256_hex(std::string(55, 'x')));
    EXPECT_NE(sha256_hex(a55), sha256_hex(a56));
    EXPECT_NE(sha256_hex(a56), sha256_hex(a64));
    EXPECT_EQ(sha256_hex(a64).size(), 64u);
    EXPECT_NE(sha256_hex("CREATE TABLE t (a int);"), sha256_hex("CREATE TABLE t (a int); "));
}

TEST(MigrationRetry, OnlyLockAndDeadlockErrorsRetry) {
    RetryPolicy p;
    p.retries = 2;
    EXPECT_TRUE(should_retry(p, 1, "55P03"));
    EXPECT_TRUE(should_retry(p, 2, "40P01"));
    EXPECT_FALSE(should_retry(p, 3, "55P03"));  // retries exhausted
    EXPECT_FALSE(should_retry(p, 1, "23505"));
    EXPECT_FALSE(should_retry(p, 1, "57014"));  // statement_timeout: never retried
    p.retries = 0;
    EXPECT_FALSE(should_retry(p, 1, "55P03"));
}

TEST(MigrationRetry, ExponentialBackoffCappedWithEqualJitter) {
    RetryPolicy p;
    p.base_delay_ms = 100;
    p.max_delay_ms = 1000;
    p.factor = 2;
    EXPECT_EQ(backoff_delay_ms(p, 1, 1.0), 100);
    EXPECT_EQ(backoff_delay_ms(p, 2, 1.0), 200);
    EXPECT_EQ(backoff_delay_ms(p, 3, 1.0), 400);
    EXPECT_EQ(backoff_delay_ms(p, 5, 1.0), 1000);   // 1600 capped
    EXPECT_EQ(backoff_delay_ms(p, 30, 1.0), 1000);  // no overflow
    EXPECT_EQ(backoff_delay_ms(p, 1, 0.0), 50);     // half fixed
    EXPECT_EQ(backoff_delay_ms(p, 2, 0.5), 150);
    EXPECT_EQ(backoff_delay_ms(p, 2, 7.0), 200);  // clamped draw
    EXPECT_EQ(backoff_delay_ms(p, 0, 1.0), 100);  // treated as the first retry
}

TEST(MigrationSegments, GroupsTransactionalRunsAndIsolatesTopLevel) {
    std::vector<PlannedStatement> st = {
        {1, "BEGIN", false, true},
        {2, "CREATE TABLE a (x int)", false, false},
        {3, "ALTER TABLE a ADD y int", false, false},
        {4, "CREATE INDEX CONCURRENTLY ON a (x)", true, false},
        {5, "CREATE INDEX CONCURRENTLY ON a (y)", true, false},
        {6, "ANALYZE a", false, false},
        {7, "COMMIT", false, true},
    };
    auto seg = plan_segments(st);
    ASSERT_EQ(seg.size(), 4u);
    EXPECT_FALSE(seg[0].top_level);
    ASSERT_EQ(seg[0].statements.size(), 2u);
    EXPECT_EQ(seg[0].statements[1].statement_no, 3);
    EXPECT_TRUE(seg[1].top_level);
    EXPECT_TRUE(seg[2].top_level);
    EXPECT_EQ(seg[2].statements[0].statement_no, 5);
    EXPECT_FALSE(seg[3].top_level);
    EXPECT_TRUE(needs_top_level(seg));
    EXPECT_FALSE(needs_top_level(plan_segments({{1, "ALTER TABLE a ADD z int", false, false}})));
    EXPECT_TRUE(plan_segments({{1, "BEGIN", false, true}}).empty());
}

TEST(MigrationIntegrity, QuotesIdentifiers) {
    EXPECT_EQ(quote_ident("a"), "\"a\"");
    EXPECT_EQ(quote_ident("we\"ird"), "\"we\"\"ird\"");
    EXPECT_EQ(qualified("public", "T"), "\"public\".\"T\"");
    EXPECT_EQ(qualified("", "t"), "\"t\"");
}

TEST(MigrationIntegrity, OrphanQueryMatchSimple) {
    ForeignKeyInfo fk;
    fk.name = "fk";
    fk.child_schema = "public";
    fk.child_table = "orders";
    fk.parent_schema = "public";
    fk.parent_table = "customers";
    fk.child_columns = {"customer_id", "region"};
    fk.parent_columns = {"id", "region"};
    EXPECT_EQ(
        orphan_count_sql(fk),
        "SELECT count(*) FROM \"public\".\"orders\" c WHERE c.\"customer_id\" IS NOT NULL AND c.\"region\" "
        "IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \"public\".\"customers\" p WHERE p.\"id\" = "
        "c.\"customer_id\" AND p.\"region\" = c.\"region\")");
    fk.parent_columns.pop_back();
    EXPECT_THROW(orphan_count_sql(fk), std::invalid_argument);
    fk.child_columns.clear();
    fk.parent_columns.clear();
    EXPECT_THROW(orphan_count_sql(fk), std::invalid_argument);
}

TEST(MigrationIntegrity, RowCountMethod) {
    EXPECT_EQ(choose_row_count_method(1000, LockMode::AccessExclusive), RowCountMethod::Exact);
    EXPECT_EQ(choose_row_count_method(1000, LockMode::Share), RowCountMethod::Exact);
    EXPECT_EQ(choose_row_count_method(1000, LockMode::ShareUpdateExclusive),
              RowCountMethod::TransactionDelta);
    EXPECT_EQ(choose_row_count_method(1000, std::nullopt), RowCountMethod::TransactionDelta);
    EXPECT_EQ(choose_row_count_method(5e6, LockMode::AccessExclusive), RowCountMethod::TransactionDelta);
}

TEST(MigrationIntegrity, RowCountViolations) {
    std::vector<RowCountObservation> rows = {
        {"public.a", RowCountMethod::Exact, 10, 10},
        {"public.b", RowCountMethod::Exact, 10, 7},
        {"public.c", RowCountMethod::TransactionDelta, 0, 5},
    };
    auto v = row_count_violations(rows, {}, false);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0], "row count of public.b changed from 10 to 7");
    EXPECT_EQ(v[1], "the migration inserted minus deleted 5 rows in public.c");
    EXPECT_EQ(row_count_violations(rows, {"public.b"}, false).size(), 1u);
    EXPECT_TRUE(row_count_violations(rows, {"public.b", "public.c"}, false).empty());
    EXPECT_TRUE(row_count_violations(rows, {}, true).empty());
}

TEST(MigrationWatch, RegressionIsCallWeighted) {
    // q1: 1 ms before, 10 ms after over 90 calls; q2: 2 ms before and after over 10 calls.
    std::vector<QueryLatencySample> s = {
        {"1", 100, 100, 190, 100 + 900},
        {"2", 50, 100, 60, 120},
    };
    auto r = judge_regression(s, 1.5, 20);
    EXPECT_EQ(r.verdict, WatchVerdict::Regressed);
    EXPECT_EQ(r.queries, 2);
    EXPECT_DOUBLE_EQ(r.after_calls, 100);
    EXPECT_NEAR(r.before_mean_ms, (90 * 1.0 + 10 * 2.0) / 100, 1e-9);
    EXPECT_NEAR(r.after_mean_ms, (900 + 20) / 100.0, 1e-9);
    EXPECT_NEAR(r.ratio, 920.0 / 110.0, 1e-9);
    EXPECT_NE(r.reason.find("8.36x"), std::string::npos);
}

TEST(MigrationWatch, OkInsufficientAndResets) {
    std::vector<QueryLatencySample> ok = {{"1", 100, 100, 200, 210}};  // 1.1x
    EXPECT_EQ(judge_regression(ok, 1.5, 20).verdict, WatchVerdict::Ok);
    std::vector<QueryLatencySample> few = {{"1", 100, 100, 105, 200}};
    auto r = judge_regression(few, 1.5, 20);
    EXPECT_EQ(r.verdict, WatchVerdict::Insufficient);
    EXPECT_NE(r.reason.find("not enough"), std::string::npos);
    // Stats reset (counters went backwards) and queries never seen before are ignored.
    std::vector<QueryLatencySample> reset = {{"1", 100, 100, 50, 5000}, {"2", 0, 0, 100, 9999}};
    EXPECT_EQ(judge_regression(reset, 1.5, 1).verdict, WatchVerdict::Insufficient);
    EXPECT_STREQ(watch_verdict_name(WatchVerdict::Regressed), "regressed");
    // A zero before-mean never divides by zero.
    std::vector<QueryLatencySample> zero = {{"1", 100, 0, 200, 0}};
    EXPECT_EQ(judge_regression(zero, 1.5, 1).verdict, WatchVerdict::Ok);
}

TEST(MigrationWatch, MinimumGrowthPerCall) {
    // 0.014 ms -> 0.114 ms: 8x, but 0.1 ms per call is noise under a 0.5 ms floor.
    std::vector<QueryLatencySample> tiny = {{"1", 1000, 14, 1588, 14 + 588 * 0.114}};
    auto r = judge_regression(tiny, 1.5, 20, 0.5);
    EXPECT_EQ(r.verdict, WatchVerdict::Ok);
    EXPECT_GT(r.ratio, 8.0);
    EXPECT_NE(r.reason.find("below the minimum growth"), std::string::npos);
    EXPECT_EQ(judge_regression(tiny, 1.5, 20, 0.05).verdict, WatchVerdict::Regressed);
    // 0.017 ms -> 168 ms regresses whatever the floor.
    std::vector<QueryLatencySample> big = {{"1", 1000, 17, 1020, 17 + 20 * 168.0}};
    EXPECT_EQ(judge_regression(big, 1.5, 20, 0.5).verdict, WatchVerdict::Regressed);
}
