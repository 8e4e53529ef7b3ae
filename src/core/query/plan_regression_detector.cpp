#include "core/query/plan_regression_detector.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include <boost/math/distributions/students_t.hpp>

namespace rubberduck::core::query {

namespace {

void check(const LatencyMoments &m, const char *side) {
    if (!std::isfinite(m.mean_ms) || m.mean_ms < 0.0 || !std::isfinite(m.variance_ms2) ||
        m.variance_ms2 < 0.0)
        throw std::invalid_argument(std::string("plan regression: the ") + side +
                                    " accumulator needs a finite mean >= 0 and a finite variance >= 0");
}

__attribute__((format(printf, 1, 2))) std::string format(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

}  // namespace

const char *to_string(RegressionOutcome o) noexcept {
    switch (o) {
        case RegressionOutcome::Regressed:
            return "regressed";
        case RegressionOutcome::TooFewSamples:
            return "too_few_samples";
        case RegressionOutcome::NotSlower:
            return "not_slower";
        case RegressionOutcome::EffectTooSmall:
            return "effect_too_small";
        case RegressionOutcome::NotSignificant:
            return "not_significant";
    }
    return "unknown";
}

RegressionVerdict detect_plan_regression(const LatencyMoments &before, const LatencyMoments &after,
                                         const RegressionConfig &config) {
    if (!(config.alpha > 0.0 && config.alpha <= 0.5))
        throw std::invalid_argument("plan regression: alpha must be in (0, 0.5], e.g. 0.01");
    if (!(config.min_effect_ratio >= 1.0) || !std::isfinite(config.min_effect_ratio))
        throw std::invalid_argument(
            "plan regression: min_effect_ratio must be a finite number >= 1, e.g. 1.2");
    if (config.min_samples < 2) throw std::invalid_argument("plan regression: min_samples must be >= 2");
    check(before, "previous-plan");
    check(after, "new-plan");

    RegressionVerdict v;
    const double inf = std::numeric_limits<double>::infinity();
    v.ratio = before.mean_ms > 0.0 ? after.mean_ms / before.mean_ms : (after.mean_ms > 0.0 ? inf : 1.0);

    if (before.count < config.min_samples || after.count < config.min_samples) {
        v.outcome = RegressionOutcome::TooFewSamples;
        v.explanation =
            format("not enough executions to judge the plan change (%.0f before, %.0f after, need %.0f)",
                   static_cast<double>(before.count), static_cast<double>(after.count),
                   static_cast<double>(config.min_samples));
        return v;
    }

    const double n1 = static_cast<double>(before.count), n2 = static_cast<double>(after.count);
    const double s1 = before.variance_ms2 / n1, s2 = after.variance_ms2 / n2;  // squared standard errors
    const double se2 = s1 + s2;
    const double diff = after.mean_ms - before.mean_ms;
    if (se2 > 0.0) {
        v.t_statistic = diff / std::sqrt(se2);
        // Welch-Satterthwaite; a side with zero variance contributes nothing to the denominator.
        const double denom =
            (s1 > 0.0 ? s1 * s1 / (n1 - 1.0) : 0.0) + (s2 > 0.0 ? s2 * s2 / (n2 - 1.0) : 0.0);
        v.degrees_of_freedom = se2 * se2 / denom;
        const boost::math::students_t dist(v.degrees_of_freedom);
        v.p_value = boost::math::cdf(boost::math::complement(dist, v.t_statistic));
    } else {
        // Both sides constant: any difference is certain.
        v.t_statistic = diff > 0.0 ? inf : (diff < 0.0 ? -inf : 0.0);
        v.degrees_of_freedom = n1 + n2 - 2.0;
        v.p_value = diff > 0.0 ? 0.0 : 1.0;
    }

    if (diff <= 0.0) {
        v.outcome = RegressionOutcome::NotSlower;
        v.explanation = format("the new plan is not slower (mean %.3f ms -> %.3f ms, ratio %.2f)",
                               before.mean_ms, after.mean_ms, v.ratio);
    } else if (v.ratio < config.min_effect_ratio) {
        v.outcome = RegressionOutcome::EffectTooSmall;
        v.explanation =
            format("the new plan is slower by a ratio of %.2f, below the %.2f threshold (p = %.3g)", v.ratio,
                   config.min_effect_ratio, v.p_value);
    } else if (!(v.p_value < config.alpha)) {
        v.outcome = RegressionOutcome::NotSignificant;
        v.explanation =
            format("latency rose by a ratio of %.2f but within noise (t = %.2f, p = %.3g >= alpha %.3g)",
                   v.ratio, v.t_statistic, v.p_value, config.alpha);
    } else {
        v.outcome = RegressionOutcome::Regressed;
        v.regressed = true;
        v.explanation = format("plan change made the query %.2fx slower (mean %.3f ms -> %.3f ms, p = %.3g)",
                               v.ratio, before.mean_ms, after.mean_ms, v.p_value);
    }
    return v;
}

}  // namespace rubberduck::core::query
