// Streaming quantiles for the agent's learning side (not shared memory): Boost.Accumulators' extended
// P-square estimator (Jain & Chlamtac 1985, extended to several quantiles), O(1) memory per tracked
// probability. Below kExactThreshold samples P-square has not settled, so the first samples are also kept and
// quantiles are exact (nearest rank, interpolated) until then.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace rubberduck::core::stats {

class QuantileSketch {
  public:
    static constexpr std::size_t kExactThreshold = 64;

    // probabilities: strictly increasing, each in (0, 1); throws std::invalid_argument otherwise.
    explicit QuantileSketch(std::vector<double> probabilities = {0.5, 0.95, 0.99});
    ~QuantileSketch();
    QuantileSketch(const QuantileSketch &other);
    QuantileSketch &operator=(const QuantileSketch &other);
    QuantileSketch(QuantileSketch &&) noexcept;
    QuantileSketch &operator=(QuantileSketch &&) noexcept;

    // Ignores NaN/inf (returns false) so one bad sample cannot poison the estimator.
    bool add(double x);
    uint64_t count() const noexcept { return count_; }
    double mean() const;
    const std::vector<double> &probabilities() const noexcept { return probabilities_; }

    // Estimate for one of the configured probabilities (throws std::invalid_argument for any other p);
    // NaN when empty.
    double quantile(double p) const;

  private:
    struct Impl;
    std::vector<double> probabilities_;
    std::unique_ptr<Impl> impl_;
    std::vector<double> first_;  // the first kExactThreshold samples
    uint64_t count_ = 0;
};

}  // namespace rubberduck::core::stats
