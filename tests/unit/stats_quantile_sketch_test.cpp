#include "core/stats/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

using rubberduck::core::stats::QuantileSketch;

TEST(QuantileSketch, ExactForFewSamples) {
    QuantileSketch s;
    EXPECT_TRUE(std::isnan(s.quantile(0.5)));
    for (int i = 1; i <= 11; ++i) s.add(i);
    EXPECT_DOUBLE_EQ(s.quantile(0.5), 6.0);
    EXPECT_DOUBLE_EQ(s.quantile(0.95), 10.5);
    EXPECT_DOUBLE_EQ(s.mean(), 6.0);
}

TEST(QuantileSketch, TracksQuantilesOfAStream) {
    std::mt19937_64 rng(9);
    std::lognormal_distribution<double> d(std::log(5.0), 0.8);
    QuantileSketch s({0.5, 0.95, 0.99});
    std::vector<double> v;
    for (int i = 0; i < 100000; ++i) {
        v.push_back(d(rng));
        s.add(v.back());
    }
    std::sort(v.begin(), v.end());
    for (double p : {0.5, 0.95, 0.99}) {
        const double exact = v[static_cast<std::size_t>(p * (v.size() - 1))];
        EXPECT_NEAR(s.quantile(p) / exact, 1.0, 0.05) << p;
    }
    EXPECT_EQ(s.count(), 100000u);
}

TEST(QuantileSketch, CopyIsIndependentAndBadInputIsRejected) {
    QuantileSketch s({0.5});
    for (int i = 0; i < 200; ++i) s.add(i);
    QuantileSketch c = s;
    for (int i = 0; i < 1000; ++i) c.add(1e6);
    EXPECT_LT(s.quantile(0.5), 200.0);
    EXPECT_GT(c.quantile(0.5), 1000.0);
    EXPECT_FALSE(s.add(std::nan("")));
    EXPECT_FALSE(s.add(INFINITY));
    EXPECT_EQ(s.count(), 200u);
    EXPECT_THROW(s.quantile(0.9), std::invalid_argument);
    EXPECT_THROW(QuantileSketch(std::vector<double>{}), std::invalid_argument);
    EXPECT_THROW(QuantileSketch({0.9, 0.5}), std::invalid_argument);
    EXPECT_THROW(QuantileSketch({1.0}), std::invalid_argument);
}
