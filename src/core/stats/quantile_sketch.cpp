#include "core/stats/quantile_sketch.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <boost/accumulators/accumulators.hpp>
#include <boost/accumulators/statistics/extended_p_square.hpp>
#include <boost/accumulators/statistics/mean.hpp>
#include <boost/accumulators/statistics/stats.hpp>

namespace rubberduck::core::stats {

namespace acc = boost::accumulators;

struct QuantileSketch::Impl {
    using Acc = acc::accumulator_set<double, acc::stats<acc::tag::extended_p_square, acc::tag::mean>>;
    Acc a;
    explicit Impl(const std::vector<double> &p) : a(acc::extended_p_square_probabilities = p) {}
};

QuantileSketch::QuantileSketch(std::vector<double> probabilities) : probabilities_(std::move(probabilities)) {
    if (probabilities_.empty()) throw std::invalid_argument("QuantileSketch: give at least one probability");
    for (std::size_t i = 0; i < probabilities_.size(); ++i) {
        const double p = probabilities_[i];
        if (!(p > 0.0 && p < 1.0))
            throw std::invalid_argument("QuantileSketch: probabilities must be in (0, 1)");
        if (i > 0 && !(p > probabilities_[i - 1]))
            throw std::invalid_argument("QuantileSketch: probabilities must be strictly increasing");
    }
    impl_ = std::make_unique<Impl>(probabilities_);
    first_.reserve(kExactThreshold);
}

QuantileSketch::~QuantileSketch() = default;
QuantileSketch::QuantileSketch(QuantileSketch &&) noexcept = default;
QuantileSketch &QuantileSketch::operator=(QuantileSketch &&) noexcept = default;
QuantileSketch::QuantileSketch(const QuantileSketch &o)
    : probabilities_(o.probabilities_),
      impl_(std::make_unique<Impl>(*o.impl_)),
      first_(o.first_),
      count_(o.count_) {}
QuantileSketch &QuantileSketch::operator=(const QuantileSketch &o) {
    if (this != &o) {
        QuantileSketch copy(o);
        *this = std::move(copy);
    }
    return *this;
}

bool QuantileSketch::add(double x) {
    if (!std::isfinite(x)) return false;
    impl_->a(x);
    if (first_.size() < kExactThreshold) first_.push_back(x);
    ++count_;
    return true;
}

double QuantileSketch::mean() const {
    return count_ == 0 ? std::nan("") : acc::mean(impl_->a);
}

double QuantileSketch::quantile(double p) const {
    const auto it = std::find(probabilities_.begin(), probabilities_.end(), p);
    if (it == probabilities_.end())
        throw std::invalid_argument("QuantileSketch: probability " + std::to_string(p) +
                                    " is not tracked; construct the sketch with it");
    if (count_ == 0) return std::nan("");
    if (count_ <= kExactThreshold) {
        std::vector<double> s(first_);
        std::sort(s.begin(), s.end());
        // Linear interpolation between order statistics (type 7, as numpy's default).
        const double h = p * static_cast<double>(s.size() - 1);
        const std::size_t lo = static_cast<std::size_t>(std::floor(h));
        const std::size_t hi = std::min(lo + 1, s.size() - 1);
        return s[lo] + (h - static_cast<double>(lo)) * (s[hi] - s[lo]);
    }
    return acc::extended_p_square(impl_->a)[static_cast<std::size_t>(it - probabilities_.begin())];
}

}  // namespace rubberduck::core::stats
