#include "core/stats/ewma.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace rubberduck::core::stats;

TEST(Ewma, HalfLifeAlphaHalvesWeight) {
    const double a = ewma_alpha_from_half_life(10.0);
    EXPECT_NEAR(std::pow(1.0 - a, 10.0), 0.5, 1e-12);
    EXPECT_NEAR(ewma_alpha_for_interval(60.0, 60.0), 0.5, 1e-12);
    EXPECT_EQ(ewma_alpha_for_interval(0.0, 60.0), 0.0);
    EXPECT_THROW(ewma_alpha_from_half_life(0.0), std::invalid_argument);
    EXPECT_THROW(ewma_alpha_from_half_life(-3.0), std::invalid_argument);
    EXPECT_THROW(ewma_alpha_for_interval(-1.0, 5.0), std::invalid_argument);
    EXPECT_THROW(ewma_alpha_for_interval(1.0, 0.0), std::invalid_argument);
}

TEST(Ewma, ConvergesToStationaryMeanAndVariance) {
    std::mt19937 rng(11);
    std::normal_distribution<double> d(50.0, 5.0);
    Ewma e{};
    for (int i = 0; i < 20000; ++i) e.update(d(rng), 0.01);
    EXPECT_NEAR(e.mean, 50.0, 1.0);
    EXPECT_NEAR(e.stddev(), 5.0, 0.75);
    EXPECT_EQ(e.updates, 20000u);
}

TEST(Ewma, FirstUpdateInitialisesAndTracksAStep) {
    Ewma e{};
    EXPECT_FALSE(e.initialised());
    e.update(10.0, 0.2);
    EXPECT_TRUE(e.initialised());
    EXPECT_EQ(e.mean, 10.0);
    EXPECT_EQ(e.variance, 0.0);
    for (int i = 0; i < 100; ++i) e.update(20.0, 0.2);
    EXPECT_NEAR(e.mean, 20.0, 1e-6);
}

TEST(Ewma, WindowUpdateIsAMixture) {
    Ewma e{};
    e.update_window(10.0, 4.0, 0.5);
    EXPECT_EQ(e.mean, 10.0);
    EXPECT_EQ(e.variance, 4.0);
    e.update_window(20.0, 4.0, 0.5);
    EXPECT_DOUBLE_EQ(e.mean, 15.0);
    // 0.5*4 + 0.5*4 + 0.25*100
    EXPECT_DOUBLE_EQ(e.variance, 29.0);
    EXPECT_GT(e.zscore(30.0), 2.0);
    EXPECT_LT(e.zscore(15.0), 1e-12);
}

TEST(Ewma, RejectsBadInput) {
    Ewma e{};
    EXPECT_THROW(e.update(1.0, 0.0), std::invalid_argument);
    EXPECT_THROW(e.update(1.0, 1.5), std::invalid_argument);
    EXPECT_THROW(e.update(std::nan(""), 0.5), std::invalid_argument);
    EXPECT_THROW(e.update_window(1.0, -1.0, 0.5), std::invalid_argument);
    EXPECT_THROW(e.update_window(INFINITY, 1.0, 0.5), std::invalid_argument);
    EXPECT_FALSE(e.initialised());
    EXPECT_EQ(e.zscore(100.0), 0.0);
}
