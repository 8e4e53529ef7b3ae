#include "core/query/plan_regression_detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/stats/welford.h"

using namespace rubberduck::core::query;
using rubberduck::core::stats::Welford;

namespace {
LatencyMoments sample(double mean, double sd, int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> d(mean, sd);
    Welford w{};
    for (int i = 0; i < n; ++i) w.add(std::max(0.0, d(rng)));
    return {w.n, w.mean, w.variance()};
}
}  // namespace

TEST(PlanRegression, FlagsClearSlowdown) {
    const auto v = detect_plan_regression(sample(10, 2, 200, 1), sample(25, 5, 200, 2));
    EXPECT_TRUE(v.regressed);
    EXPECT_EQ(v.outcome, RegressionOutcome::Regressed);
    EXPECT_GT(v.t_statistic, 10.0);
    EXPECT_LT(v.p_value, 1e-10);
    EXPECT_NEAR(v.ratio, 2.5, 0.2);
    EXPECT_GT(v.degrees_of_freedom, 100.0);
    EXPECT_NE(v.explanation.find("slower"), std::string::npos);
    EXPECT_STREQ(to_string(v.outcome), "regressed");
}

TEST(PlanRegression, MatchesHandComputedWelch) {
    // Welch for n1 = n2 = 31, means 10 vs 13, variances 9 vs 16: se^2 = 25/31, t = 3 / sqrt(25/31) = 3.3407.
    const auto v = detect_plan_regression({31, 10.0, 9.0}, {31, 13.0, 16.0});
    EXPECT_NEAR(v.t_statistic, 3.3407, 1e-3);
    // df = (25/31)^2 / ((9/31)^2/30 + (16/31)^2/30) = 55.64
    EXPECT_NEAR(v.degrees_of_freedom, 55.64, 0.01);
    EXPECT_NEAR(v.p_value, 0.00075, 0.0001);  // one-sided
    EXPECT_TRUE(v.regressed);
}

TEST(PlanRegression, NoiseIsNotARegression) {
    // Same distribution; a lucky draw may look 20 % slower with large spread, but it is not significant.
    const auto v = detect_plan_regression({40, 10.0, 400.0}, {40, 12.5, 400.0});
    EXPECT_FALSE(v.regressed);
    EXPECT_EQ(v.outcome, RegressionOutcome::NotSignificant);
    EXPECT_GT(v.p_value, 0.01);
    int false_alarms = 0;
    for (unsigned s = 0; s < 200; ++s)
        false_alarms += detect_plan_regression(sample(10, 3, 50, s), sample(10, 3, 50, s + 1000)).regressed;
    EXPECT_EQ(false_alarms, 0);  // also blocked by the effect-size ratio
}

TEST(PlanRegression, TooFewSamples) {
    const auto v = detect_plan_regression({5, 10.0, 1.0}, {500, 100.0, 1.0});
    EXPECT_FALSE(v.regressed);
    EXPECT_EQ(v.outcome, RegressionOutcome::TooFewSamples);
    RegressionConfig lax;
    lax.min_samples = 5;
    EXPECT_TRUE(detect_plan_regression({5, 10.0, 1.0}, {500, 100.0, 1.0}, lax).regressed);
}

TEST(PlanRegression, GotFasterOrEqual) {
    auto v = detect_plan_regression(sample(30, 3, 100, 5), sample(10, 1, 100, 6));
    EXPECT_FALSE(v.regressed);
    EXPECT_EQ(v.outcome, RegressionOutcome::NotSlower);
    EXPECT_LT(v.t_statistic, 0.0);
    EXPECT_GT(v.p_value, 0.99);
    v = detect_plan_regression({50, 10.0, 0.0}, {50, 10.0, 0.0});
    EXPECT_EQ(v.outcome, RegressionOutcome::NotSlower);
    EXPECT_EQ(v.p_value, 1.0);
}

TEST(PlanRegression, SignificantButSmallEffect) {
    const auto v = detect_plan_regression({100000, 10.0, 1.0}, {100000, 10.5, 1.0});
    EXPECT_LT(v.p_value, 1e-10);
    EXPECT_FALSE(v.regressed);
    EXPECT_EQ(v.outcome, RegressionOutcome::EffectTooSmall);
}

TEST(PlanRegression, ZeroVarianceAndZeroBaseline) {
    auto v = detect_plan_regression({50, 10.0, 0.0}, {50, 20.0, 0.0});
    EXPECT_TRUE(v.regressed);
    EXPECT_TRUE(std::isinf(v.t_statistic));
    EXPECT_EQ(v.p_value, 0.0);
    v = detect_plan_regression({50, 10.0, 0.0}, {50, 20.0, 4.0});  // one side constant
    EXPECT_TRUE(v.regressed);
    EXPECT_NEAR(v.degrees_of_freedom, 49.0, 1e-9);
    v = detect_plan_regression({50, 0.0, 0.0}, {50, 1.0, 0.01});
    EXPECT_TRUE(std::isinf(v.ratio));
    EXPECT_TRUE(v.regressed);
}

TEST(PlanRegression, RejectsBadInput) {
    EXPECT_THROW(detect_plan_regression({50, -1.0, 1.0}, {50, 1.0, 1.0}), std::invalid_argument);
    EXPECT_THROW(detect_plan_regression({50, 1.0, -1.0}, {50, 1.0, 1.0}), std::invalid_argument);
    EXPECT_THROW(detect_plan_regression({50, 1.0, 1.0}, {50, NAN, 1.0}), std::invalid_argument);
    RegressionConfig c;
    c.alpha = 0.0;
    EXPECT_THROW(detect_plan_regression({50, 1.0, 1.0}, {50, 2.0, 1.0}, c), std::invalid_argument);
    c = {};
    c.min_effect_ratio = 0.9;
    EXPECT_THROW(detect_plan_regression({50, 1.0, 1.0}, {50, 2.0, 1.0}, c), std::invalid_argument);
    c = {};
    c.min_samples = 1;
    EXPECT_THROW(detect_plan_regression({50, 1.0, 1.0}, {50, 2.0, 1.0}, c), std::invalid_argument);
}
