// Exponentially weighted moving mean and variance: the learned "normal" of a metric.
//
// Scalar updates follow Finch (2009) "Incremental calculation of weighted mean and variance":
//   d = x - mean; mean += a*d; var = (1 - a) * (var + a*d^2).
// Window updates (a whole cycle's count/mean/variance at once) blend the old baseline and the window as a
// two-component mixture with weights (1 - a) and a:
//   mean' = (1 - a)*mean + a*m_w;  var' = (1 - a)*var + a*v_w + a*(1 - a)*(m_w - mean)^2.
// The first observation initialises the baseline. POD, so it can be stored in shared memory or a state file.
#pragma once
#include "core/common/no_postgres.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

namespace rubberduck::core::stats {

// Smoothing factor whose weight halves after half_life observations: a = 1 - 2^(-1/h).
inline double ewma_alpha_from_half_life(double half_life) {
    if (!(half_life > 0.0) || !std::isfinite(half_life))
        throw std::invalid_argument("EWMA half-life must be a positive, finite number of observations");
    return 1.0 - std::exp2(-1.0 / half_life);
}

// Smoothing factor for an irregular step of dt time units when the weight must halve every half_life units.
inline double ewma_alpha_for_interval(double dt, double half_life) {
    if (!(dt >= 0.0) || !std::isfinite(dt))
        throw std::invalid_argument("EWMA interval must be finite and >= 0");
    if (!(half_life > 0.0) || !std::isfinite(half_life))
        throw std::invalid_argument("EWMA half-life must be a positive, finite duration");
    return 1.0 - std::exp2(-dt / half_life);
}

struct Ewma {
    double mean;
    double variance;
    uint64_t updates;  // 0 = not initialised

    bool initialised() const noexcept { return updates > 0; }
    double stddev() const noexcept { return std::sqrt(variance > 0.0 ? variance : 0.0); }

    static void check_alpha(double alpha) {
        if (!(alpha > 0.0 && alpha <= 1.0)) throw std::invalid_argument("EWMA alpha must be in (0, 1]");
    }

    void update(double x, double alpha) {
        check_alpha(alpha);
        if (!std::isfinite(x)) throw std::invalid_argument("EWMA update: value must be finite");
        if (updates == 0) {
            mean = x, variance = 0.0, updates = 1;
            return;
        }
        const double d = x - mean;
        mean += alpha * d;
        variance = (1.0 - alpha) * (variance + alpha * d * d);
        ++updates;
    }

    // Blend in a window summarised by its mean and (sample) variance.
    void update_window(double window_mean, double window_variance, double alpha) {
        check_alpha(alpha);
        if (!std::isfinite(window_mean) || !std::isfinite(window_variance) || window_variance < 0.0)
            throw std::invalid_argument("EWMA window: mean and variance must be finite, variance >= 0");
        if (updates == 0) {
            mean = window_mean, variance = window_variance, updates = 1;
            return;
        }
        const double d = window_mean - mean;
        mean = (1.0 - alpha) * mean + alpha * window_mean;
        variance = (1.0 - alpha) * variance + alpha * window_variance + alpha * (1.0 - alpha) * d * d;
        ++updates;
    }

    // How many baseline standard deviations x lies above the mean (0 if the baseline has no spread yet).
    double zscore(double x) const noexcept {
        const double sd = stddev();
        return sd > 0.0 ? (x - mean) / sd : 0.0;
    }
};

static_assert(std::is_trivially_copyable_v<Ewma> && std::is_standard_layout_v<Ewma>, "Ewma must stay POD");

}  // namespace rubberduck::core::stats
