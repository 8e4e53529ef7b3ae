#include "core/query/slow_query_classifier.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace rubberduck::core::query;

namespace {
QueryStatsSnapshot q(uint64_t id, uint64_t calls, double mean, double p95 = -1.0) {
    QueryStatsSnapshot s;
    s.queryid = id;
    s.calls = calls;
    s.mean_ms = mean;
    s.total_ms = mean * static_cast<double>(calls);
    s.p95_ms = p95;
    return s;
}
}  // namespace

TEST(SlowQueryClassifier, SlowByP95) {
    ClassifierConfig c;
    c.top_n_by_total = 0;
    const auto r = classify_queries({q(1, 10, 200, 1500), q(2, 10, 200, 900)}, c);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_TRUE(has_flag(r[0], "slow"));
    EXPECT_NE(r[0].suggestions[0].find("p95 1500.0 ms"), std::string::npos);
    EXPECT_FALSE(has_flag(r[1], "slow"));
}

TEST(SlowQueryClassifier, FallsBackToMeanWhenP95Unknown) {
    ClassifierConfig c;
    c.top_n_by_total = 0;
    c.slow_query_ms = 100;
    const auto r = classify_queries({q(1, 3, 150), q(2, 3, 50)}, c);
    EXPECT_TRUE(has_flag(r[0], "slow"));
    EXPECT_FALSE(has_flag(r[1], "slow"));
}

TEST(SlowQueryClassifier, TopNByTotalTimeWithMinimumShare) {
    // Query 3 is fast per call but dominates total time; query 4 is in the top 3 but negligible.
    std::vector<QueryStatsSnapshot> in = {q(1, 100, 1), q(2, 10, 2), q(3, 100000, 0.5), q(4, 1, 0.001)};
    ClassifierConfig c;
    c.top_n_by_total = 3;
    const auto r = classify_queries(in, c);
    EXPECT_EQ(r[2].total_time_rank, 1u);
    EXPECT_TRUE(has_flag(r[2], "slow"));
    EXPECT_NEAR(r[2].total_time_share, 50000.0 / 50120.001, 1e-9);
    EXPECT_FALSE(has_flag(r[1], "slow"));  // rank 3 but 0.04 % of the time
    EXPECT_FALSE(has_flag(r[3], "slow"));
    c.top_n_min_share = 0.0;
    EXPECT_TRUE(has_flag(classify_queries(in, c)[1], "slow"));  // pure top N
}

TEST(SlowQueryClassifier, SeqScanHeavyNeedsShareAndVolume) {
    ClassifierConfig c;
    c.top_n_by_total = 0;
    auto a = q(1, 10, 5), b = q(2, 10, 5), d = q(3, 10, 5);
    a.seq_scan_share = 0.9, a.seq_scan_rows_per_call = 200000;
    b.seq_scan_share = 0.9, b.seq_scan_rows_per_call = 20;  // tiny lookup table
    d.seq_scan_share = 0.1, d.seq_scan_rows_per_call = 200000;
    const auto r = classify_queries({a, b, d}, c);
    EXPECT_TRUE(has_flag(r[0], "seq_scan_heavy"));
    EXPECT_FALSE(has_flag(r[1], "seq_scan_heavy"));
    EXPECT_FALSE(has_flag(r[2], "seq_scan_heavy"));
}

TEST(SlowQueryClassifier, LowHitRatioTempSpillHighVariance) {
    ClassifierConfig c;
    c.top_n_by_total = 0;
    auto a = q(1, 100, 5), b = q(2, 100, 5);
    a.shared_blks_hit = 5000, a.shared_blks_read = 5000;
    a.temp_blks_written = 4096;
    a.stddev_ms = 20;
    b.shared_blks_hit = 10, b.shared_blks_read = 90;  // too few blocks to judge
    b.temp_blks_written = 10;
    b.stddev_ms = 5;
    const auto r = classify_queries({a, b}, c);
    EXPECT_TRUE(has_flag(r[0], "low_hit_ratio"));
    EXPECT_TRUE(has_flag(r[0], "temp_spill"));
    EXPECT_TRUE(has_flag(r[0], "high_variance"));
    EXPECT_EQ(r[0].flags.size(), r[0].suggestions.size());
    EXPECT_TRUE(r[1].flags.empty());
}

TEST(SlowQueryClassifier, EmptyInputZeroCallsAndBadInput) {
    EXPECT_TRUE(classify_queries({}).empty());
    const auto r = classify_queries({q(1, 0, 0)});
    EXPECT_TRUE(r[0].flags.empty());
    auto bad = q(1, 1, 1);
    bad.total_ms = NAN;
    EXPECT_THROW(classify_queries({bad}), std::invalid_argument);
    bad = q(1, 1, -1);
    EXPECT_THROW(classify_queries({bad}), std::invalid_argument);
    ClassifierConfig c;
    c.slow_query_ms = 0;
    EXPECT_THROW(classify_queries({q(1, 1, 1)}, c), std::invalid_argument);
    c = {};
    c.low_hit_ratio = 1.5;
    EXPECT_THROW(classify_queries({q(1, 1, 1)}, c), std::invalid_argument);
}
