// Running count / mean / variance (Welford 1962, Chan et al. 1979 for merging). POD: it may sit in shared
// memory or in the state file as is. Numerically stable, unlike sum and sum-of-squares.
#pragma once
#include "core/common/no_postgres.h"

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

namespace rubberduck::core::stats {

struct Welford {
    uint64_t n;
    double mean;
    double m2;  // sum of squared deviations from the mean

    void clear() noexcept { n = 0, mean = 0.0, m2 = 0.0; }

    void add(double x) noexcept {
        ++n;
        const double d = x - mean;
        mean += d / static_cast<double>(n);
        m2 += d * (x - mean);
    }

    void merge(const Welford &o) noexcept {
        if (o.n == 0) return;
        if (n == 0) {
            *this = o;
            return;
        }
        const double na = static_cast<double>(n), nb = static_cast<double>(o.n), nt = na + nb;
        const double d = o.mean - mean;
        mean += d * nb / nt;
        m2 += o.m2 + d * d * na * nb / nt;
        n += o.n;
    }

    // Sample (n - 1) variance; 0 when n < 2.
    double variance() const noexcept {
        return n < 2 ? 0.0 : (m2 > 0.0 ? m2 / static_cast<double>(n - 1) : 0.0);
    }
    // Population (n) variance, as pg_stat_statements' stddev_*_time uses; 0 when n == 0.
    double population_variance() const noexcept {
        return n == 0 || m2 <= 0.0 ? 0.0 : m2 / static_cast<double>(n);
    }
    double stddev() const noexcept { return std::sqrt(variance()); }

    // Rebuild from summary moments (e.g. a window delta the adapter computed). variance is the sample
    // variance.
    static Welford from_moments(uint64_t count, double mean, double sample_variance) {
        if (!std::isfinite(mean) || !std::isfinite(sample_variance) || sample_variance < 0.0)
            throw std::invalid_argument(
                "Welford::from_moments: mean and variance must be finite, variance >= 0");
        Welford w{};
        if (count == 0) return w;
        w.n = count;
        w.mean = mean;
        w.m2 = count < 2 ? 0.0 : sample_variance * static_cast<double>(count - 1);
        return w;
    }
};

static_assert(std::is_trivially_copyable_v<Welford> && std::is_standard_layout_v<Welford>,
              "Welford must stay POD");

}  // namespace rubberduck::core::stats
