// Plan regression test: did a query get significantly slower after its plan fingerprint changed?
//
// One-sided Welch's t-test on the latency accumulators under the previous and the new plan (unequal
// variances, Welch-Satterthwaite degrees of freedom, p-value from Boost.Math's Student t). "Regressed" needs
// all of:
//   both sides have >= min_samples executions, the new mean is >= min_effect_ratio x the old mean,
//   and p < alpha for H1: mean_new > mean_old.
// A fixed ratio alone is not enough (noise with few samples), and significance alone is not enough (a 1 %
// slowdown with a million samples is significant but not worth a flag).
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <string>

#include "core/query/latency_moments.h"

namespace rubberduck::core::query {

struct RegressionConfig {
    double alpha = 0.01;            // significance level of the one-sided test, in (0, 0.5]
    double min_effect_ratio = 1.2;  // new mean must be at least 20 % above the old one, >= 1
    uint64_t min_samples = 30;      // per side, >= 2
};

enum class RegressionOutcome {
    Regressed,       // significant and large enough slowdown
    TooFewSamples,   // one side has fewer than min_samples executions
    NotSlower,       // the new plan is as fast or faster (mean_new <= mean_old)
    EffectTooSmall,  // slower, but below min_effect_ratio
    NotSignificant,  // slower by enough, but within noise (p >= alpha)
};

const char *to_string(RegressionOutcome o) noexcept;

struct RegressionVerdict {
    bool regressed = false;
    RegressionOutcome outcome = RegressionOutcome::TooFewSamples;
    double t_statistic = 0.0;  // (mean_new - mean_old) / standard error; +inf if both variances are 0
    double degrees_of_freedom = 0.0;
    double p_value = 1.0;     // P(T >= t) under H0
    double ratio = 1.0;       // mean_new / mean_old (+inf if mean_old == 0 < mean_new)
    std::string explanation;  // one sentence for query_insights / the plan_regression signal
};

// Throws std::invalid_argument for non-finite or negative means/variances or an invalid config.
RegressionVerdict detect_plan_regression(const LatencyMoments &before, const LatencyMoments &after,
                                         const RegressionConfig &config = {});

}  // namespace rubberduck::core::query
