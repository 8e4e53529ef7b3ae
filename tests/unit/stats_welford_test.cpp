#include "core/stats/welford.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using rubberduck::core::stats::Welford;

namespace {
void naive(const std::vector<double> &v, double &mean, double &var) {
    double s = 0;
    for (double x : v) s += x;
    mean = s / v.size();
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    var = ss / (v.size() - 1);
}
}  // namespace

TEST(Welford, MatchesTwoPassMeanAndVariance) {
    std::mt19937 rng(5);
    std::normal_distribution<double> d(100.0, 15.0);
    std::vector<double> v;
    Welford w{};
    for (int i = 0; i < 10000; ++i) {
        v.push_back(d(rng));
        w.add(v.back());
    }
    double mean, var;
    naive(v, mean, var);
    EXPECT_EQ(w.n, 10000u);
    EXPECT_NEAR(w.mean, mean, 1e-9);
    EXPECT_NEAR(w.variance(), var, 1e-6);
    EXPECT_NEAR(w.population_variance(), var * 9999.0 / 10000.0, 1e-6);
}

TEST(Welford, StableWithLargeOffset) {
    Welford w{};
    for (double x : {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16}) w.add(x);
    EXPECT_NEAR(w.variance(), 30.0, 1e-6);  // sum-of-squares would lose this completely
}

TEST(Welford, MergeEqualsSequential) {
    Welford a{}, b{}, all{};
    for (int i = 0; i < 50; ++i) {
        const double x = std::sin(i) * 10 + i;
        (i < 20 ? a : b).add(x);
        all.add(x);
    }
    Welford m = a;
    m.merge(b);
    EXPECT_EQ(m.n, all.n);
    EXPECT_NEAR(m.mean, all.mean, 1e-12);
    EXPECT_NEAR(m.variance(), all.variance(), 1e-9);
    Welford e{};
    e.merge(a);
    EXPECT_EQ(e.n, a.n);
    a.merge(Welford{});
    EXPECT_EQ(a.n, 20u);
}

TEST(Welford, EdgeCasesAndFromMoments) {
    Welford w{};
    EXPECT_EQ(w.variance(), 0.0);
    w.add(3.0);
    EXPECT_EQ(w.variance(), 0.0);
    EXPECT_EQ(w.mean, 3.0);
    const Welford f = Welford::from_moments(10, 5.0, 4.0);
    EXPECT_EQ(f.n, 10u);
    EXPECT_DOUBLE_EQ(f.variance(), 4.0);
    EXPECT_EQ(Welford::from_moments(0, 5.0, 4.0).n, 0u);
    EXPECT_THROW(Welford::from_moments(3, 1.0, -1.0), std::invalid_argument);
    EXPECT_THROW(Welford::from_moments(3, std::nan(""), 1.0), std::invalid_argument);
}
