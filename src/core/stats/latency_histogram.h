// Fixed-size, log-bucketed latency histogram that lives in shared memory (POD, no pointers).
//
// Bucketing: a latency in milliseconds is placed by the IEEE-754 exponent of the double plus its top
// kSubBucketBits mantissa bits, so bucket_for() is a few integer operations (no log(), no loop) and is cheap
// enough for the executor hook. Each octave [2^e, 2^(e+1)) is split into S = 2^kSubBucketBits equal-width
// sub-buckets; bucket [lo, hi) has hi/lo <= 1 + 1/S.
//
// Range (default LatencyHistogram: S = 4, 32 octaves, 128 buckets, 1 KiB): 2^-10 ms (0.98 us) .. 2^22 ms
// (about 70 min). Values below the range (including 0, negatives and NaN) go to bucket 0, values above
// (including +inf) to the last bucket.
//
// Relative error of quantile(q): the estimate and the exact nearest-rank sample quantile always lie in the
// same bucket, so |estimate - exact| / exact <= 1/S (25 % for S = 4, 50 % for the 64-bucket
// CompactLatencyHistogram) for values inside the range; linear interpolation inside the bucket makes the
// typical error a few percent (see tests/unit/stats_latency_histogram_test.cpp). Outside the range the
// estimate saturates at the bounds.
#pragma once
#include "core/common/no_postgres.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace rubberduck::core::stats {

template <int SubBucketBits, int MinExponent, int Octaves>
struct BasicLatencyHistogram {
    static_assert(SubBucketBits >= 0 && SubBucketBits <= 8, "sub-bucket bits must be in 0..8");
    static_assert(Octaves > 0 && MinExponent > -1000 && MinExponent + Octaves < 1000,
                  "range must fit a double");

    static constexpr int kSubBucketBits = SubBucketBits;
    static constexpr int kSubBuckets = 1 << SubBucketBits;
    static constexpr int kMinExponent = MinExponent;
    static constexpr int kOctaves = Octaves;
    static constexpr int kBuckets = Octaves * kSubBuckets;
    // Worst-case relative error of quantile() for values inside the range.
    static constexpr double kMaxRelativeError = 1.0 / kSubBuckets;

    uint64_t counts[kBuckets];

    // Bucket index for a latency in milliseconds. O(1): exponent and mantissa bits of the double.
    static int bucket_for(double ms) noexcept {
        uint64_t bits;
        std::memcpy(&bits, &ms, sizeof bits);
        if (bits >> 63) return 0;  // negative or -0.0 (NaN with sign bit too)
        const int biased = static_cast<int>((bits >> 52) & 0x7ff);
        if (biased == 0x7ff) {  // inf or NaN
            return (bits & ((uint64_t{1} << 52) - 1)) ? 0 : kBuckets - 1;
        }
        const int exponent = biased - 1023;  // subnormals (biased 0) fall below the range
        if (exponent < kMinExponent) return 0;
        if (exponent >= kMinExponent + kOctaves) return kBuckets - 1;
        const int sub =
            kSubBucketBits == 0 ? 0 : static_cast<int>((bits >> (52 - kSubBucketBits)) & (kSubBuckets - 1));
        return (exponent - kMinExponent) * kSubBuckets + sub;
    }

    // Inclusive lower bound of bucket i in milliseconds (bucket 0 also holds the underflow: estimates
    // saturate).
    static double bucket_lower(int i) noexcept {
        if (i <= 0) return std::ldexp(1.0, kMinExponent);
        return std::ldexp(1.0 + static_cast<double>(i % kSubBuckets) / kSubBuckets,
                          kMinExponent + i / kSubBuckets);
    }
    // Exclusive upper bound of bucket i in milliseconds (the last bucket saturates at the top of the range).
    static double bucket_upper(int i) noexcept {
        if (i >= kBuckets - 1) return std::ldexp(1.0, kMinExponent + kOctaves);
        const int j = i + 1;
        return std::ldexp(1.0 + static_cast<double>(j % kSubBuckets) / kSubBuckets,
                          kMinExponent + j / kSubBuckets);
    }

    void clear() noexcept { std::memset(counts, 0, sizeof counts); }
    void record(double ms) noexcept { ++counts[bucket_for(ms)]; }
    void record_bucket(int bucket, uint64_t n = 1) {
        if (bucket < 0 || bucket >= kBuckets)
            throw std::invalid_argument("latency histogram: bucket index out of range");
        counts[bucket] += n;
    }

    uint64_t total() const noexcept {
        uint64_t t = 0;
        for (int i = 0; i < kBuckets; ++i) t += counts[i];
        return t;
    }

    void merge(const BasicLatencyHistogram &other) noexcept {
        for (int i = 0; i < kBuckets; ++i) counts[i] += other.counts[i];
    }

    // Counts recorded since an earlier snapshot of the same cumulative histogram (this - earlier). A bucket
    // that went backwards (the shared entry was reset or evicted in between) makes the whole delta equal to
    // *this.
    BasicLatencyHistogram delta_since(const BasicLatencyHistogram &earlier) const noexcept {
        BasicLatencyHistogram d{};
        for (int i = 0; i < kBuckets; ++i) {
            if (counts[i] < earlier.counts[i]) return *this;
            d.counts[i] = counts[i] - earlier.counts[i];
        }
        return d;
    }

    // Quantile q in [0, 1] in milliseconds, linearly interpolated inside the bucket holding rank q * total
    // (the bucket of the exact nearest-rank quantile).
    // Returns NaN for an empty histogram. Throws std::invalid_argument if q is outside [0, 1] or NaN.
    double quantile(double q) const {
        if (!(q >= 0.0 && q <= 1.0))
            throw std::invalid_argument("latency histogram: quantile q must be in [0, 1]");
        const uint64_t n = total();
        if (n == 0) return std::nan("");
        const double rank = q * static_cast<double>(n);
        uint64_t before = 0;
        for (int i = 0; i < kBuckets; ++i) {
            const uint64_t c = counts[i];
            if (c == 0) continue;
            // The nearest-rank order statistic ceil(rank) (at least 1) lies in this bucket. Its k-th sample
            // is placed at the centre of the k-th of c equal slices, so an estimate never leaves the bucket.
            if (static_cast<double>(before + c) >= rank) {
                double within = (rank - static_cast<double>(before) - 0.5) / static_cast<double>(c);
                within = within < 0.0 ? 0.0 : within;
                const double lo = bucket_lower(i), hi = bucket_upper(i);
                return lo + (hi - lo) * within;
            }
            before += c;
        }
        return bucket_upper(kBuckets - 1);  // unreachable unless rounding: saturate
    }
};

using LatencyHistogram = BasicLatencyHistogram<2, -10, 32>;         // 128 buckets, <= 25 % error, 1 KiB
using CompactLatencyHistogram = BasicLatencyHistogram<1, -10, 32>;  // 64 buckets, <= 50 % error, 512 B

static_assert(std::is_trivially_copyable_v<LatencyHistogram> && std::is_standard_layout_v<LatencyHistogram>,
              "the histogram lives in shared memory: it must stay POD");
static_assert(sizeof(LatencyHistogram) == LatencyHistogram::kBuckets * sizeof(uint64_t), "no hidden members");

}  // namespace rubberduck::core::stats
