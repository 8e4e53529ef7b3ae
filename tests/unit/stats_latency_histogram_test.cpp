#include "core/stats/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

using rubberduck::core::stats::CompactLatencyHistogram;
using rubberduck::core::stats::LatencyHistogram;

namespace {

LatencyHistogram empty() {
    LatencyHistogram h;
    h.clear();
    return h;
}

double exact_nearest_rank(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const auto k = static_cast<std::size_t>(std::max(1.0, std::ceil(q * static_cast<double>(v.size()))));
    return v[k - 1];
}

}  // namespace

TEST(LatencyHistogram, IsPodAndCoversOneMicrosecondToAnHour) {
    EXPECT_TRUE(std::is_trivially_copyable_v<LatencyHistogram>);
    EXPECT_EQ(LatencyHistogram::kBuckets, 128);
    EXPECT_EQ(CompactLatencyHistogram::kBuckets, 64);
    EXPECT_LE(LatencyHistogram::bucket_lower(0), 0.001);
    EXPECT_GE(LatencyHistogram::bucket_upper(LatencyHistogram::kBuckets - 1), 3600.0 * 1000.0);
}

TEST(LatencyHistogram, BucketForMatchesBucketBounds) {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> exp10(-2.9, 6.5);
    for (int i = 0; i < 100000; ++i) {
        const double ms = std::pow(10.0, exp10(rng));
        const int b = LatencyHistogram::bucket_for(ms);
        ASSERT_GE(b, 0);
        ASSERT_LT(b, LatencyHistogram::kBuckets);
        if (b > 0 && b < LatencyHistogram::kBuckets - 1) {
            ASSERT_LE(LatencyHistogram::bucket_lower(b), ms) << ms;
            ASSERT_LT(ms, LatencyHistogram::bucket_upper(b)) << ms;
            ASSERT_LE(LatencyHistogram::bucket_upper(b) / LatencyHistogram::bucket_lower(b),
                      1.0 + LatencyHistogram::kMaxRelativeError + 1e-12);
        }
    }
    // Exact boundaries: 1 ms is 2^0, the start of a sub-bucket; 1.25 starts the next one.
    EXPECT_EQ(LatencyHistogram::bucket_for(1.25), LatencyHistogram::bucket_for(1.0) + 1);
    EXPECT_EQ(LatencyHistogram::bucket_for(std::nextafter(1.25, 0.0)), LatencyHistogram::bucket_for(1.0));
    EXPECT_EQ(LatencyHistogram::bucket_for(2.0), LatencyHistogram::bucket_for(1.0) + 4);
}

TEST(LatencyHistogram, OutOfRangeAndBadValuesAreClamped) {
    const int last = LatencyHistogram::kBuckets - 1;
    EXPECT_EQ(LatencyHistogram::bucket_for(0.0), 0);
    EXPECT_EQ(LatencyHistogram::bucket_for(-0.0), 0);
    EXPECT_EQ(LatencyHistogram::bucket_for(-5.0), 0);
    EXPECT_EQ(LatencyHistogram::bucket_for(1e-9), 0);
    EXPECT_EQ(LatencyHistogram::bucket_for(std::numeric_limits<double>::denorm_min()), 0);
    EXPECT_EQ(LatencyHistogram::bucket_for(std::nan("")), 0);
    EXPECT_EQ(LatencyHistogram::bucket_for(1e12), last);
    EXPECT_EQ(LatencyHistogram::bucket_for(std::numeric_limits<double>::infinity()), last);
    EXPECT_EQ(LatencyHistogram::bucket_for(-std::numeric_limits<double>::infinity()), 0);
}

TEST(LatencyHistogram, QuantilesOnRandomDataStayWithinDocumentedError) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> lat(std::log(3.0), 1.5);  // median 3 ms, heavy tail
    std::vector<double> v;
    LatencyHistogram h = empty();
    for (int i = 0; i < 50000; ++i) {
        const double x = lat(rng);
        v.push_back(x);
        h.record(x);
    }
    EXPECT_EQ(h.total(), 50000u);
    for (double q : {0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
        const double exact = exact_nearest_rank(v, q);
        const double est = h.quantile(q);
        const double rel = std::abs(est - exact) / exact;
        EXPECT_LE(rel, LatencyHistogram::kMaxRelativeError) << "q=" << q;
        if (q <= 0.99) {
            EXPECT_LE(rel, 0.05) << "interpolation should be tight with dense data, q=" << q;
        }
    }
}

TEST(LatencyHistogram, CompactVariantHasLooserButBoundedError) {
    std::mt19937_64 rng(3);
    std::exponential_distribution<double> lat(1.0 / 40.0);
    std::vector<double> v;
    CompactLatencyHistogram h;
    h.clear();
    for (int i = 0; i < 20000; ++i) {
        const double x = lat(rng) + 0.01;
        v.push_back(x);
        h.record(x);
    }
    for (double q : {0.5, 0.95, 0.99}) {
        const double exact = exact_nearest_rank(v, q);
        EXPECT_LE(std::abs(h.quantile(q) - exact) / exact, CompactLatencyHistogram::kMaxRelativeError);
    }
}

TEST(LatencyHistogram, SmallSampleQuantilesStayInTheRightBucket) {
    LatencyHistogram h = empty();
    for (double x : {1.0, 2.0, 3.0, 100.0, 1000.0}) h.record(x);
    for (double q : {0.2, 0.4, 0.6, 0.8, 1.0}) {
        const double exact = exact_nearest_rank({1.0, 2.0, 3.0, 100.0, 1000.0}, q);
        EXPECT_EQ(LatencyHistogram::bucket_for(h.quantile(q)), LatencyHistogram::bucket_for(exact)) << q;
    }
    EXPECT_LE(h.quantile(0.0), 1.0);
    EXPECT_GE(h.quantile(0.0), 1.0 / (1.0 + LatencyHistogram::kMaxRelativeError));
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0.01, 5000.0);
    LatencyHistogram a = empty(), b = empty(), all = empty();
    for (int i = 0; i < 1000; ++i) {
        const double x = u(rng);
        (i % 3 ? a : b).record(x);
        all.record(x);
    }
    a.merge(b);
    EXPECT_EQ(std::memcmp(a.counts, all.counts, sizeof a.counts), 0);
    EXPECT_DOUBLE_EQ(a.quantile(0.95), all.quantile(0.95));
}

TEST(LatencyHistogram, DeltaSinceGivesTheWindowAndFallsBackAfterReset) {
    LatencyHistogram before = empty();
    for (int i = 0; i < 100; ++i) before.record(1.0);
    LatencyHistogram now = before;
    for (int i = 0; i < 10; ++i) now.record(500.0);
    const LatencyHistogram window = now.delta_since(before);
    EXPECT_EQ(window.total(), 10u);
    EXPECT_GE(window.quantile(0.5), 500.0 / (1.0 + LatencyHistogram::kMaxRelativeError));

    LatencyHistogram reset = empty();
    reset.record(2.0);
    EXPECT_EQ(reset.delta_since(before).total(),
              1u);  // counters went backwards: take the new histogram as is
}

TEST(LatencyHistogram, EmptyAndBadQuantileArguments) {
    LatencyHistogram h = empty();
    EXPECT_TRUE(std::isnan(h.quantile(0.5)));
    h.record(10.0);
    EXPECT_THROW(h.quantile(-0.1), std::invalid_argument);
    EXPECT_THROW(h.quantile(1.5), std::invalid_argument);
    EXPECT_THROW(h.quantile(std::nan("")), std::invalid_argument);
    EXPECT_THROW(h.record_bucket(LatencyHistogram::kBuckets), std::invalid_argument);
    EXPECT_THROW(h.record_bucket(-1), std::invalid_argument);
    h.record_bucket(0, 3);
    EXPECT_EQ(h.total(), 4u);
}

TEST(LatencyHistogram, SaturatesAboveTheRange) {
    LatencyHistogram h = empty();
    h.record(1e9);
    const int last = LatencyHistogram::kBuckets - 1;
    EXPECT_GE(h.quantile(1.0), LatencyHistogram::bucket_lower(last));
    EXPECT_LE(h.quantile(1.0), LatencyHistogram::bucket_upper(last));
    EXPECT_EQ(LatencyHistogram::bucket_for(h.quantile(1.0)), last);
}
