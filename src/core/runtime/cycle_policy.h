// When an agent's next cycle runs: its interval normally, exponential back-off after consecutive failed
// cycles so a persistent error never becomes a hot loop.
#pragma once
#include "core/common/no_postgres.h"

#include <algorithm>
#include <cstdint>

namespace rubberduck::core::runtime {

constexpr int64_t kMaxBackoffMs = 5 * 60 * 1000;

inline int64_t next_wait_ms(int64_t interval_ms, int consecutive_failures) {
    if (interval_ms < 1) interval_ms = 1;
    if (consecutive_failures <= 0) return interval_ms;
    int shift = std::min(consecutive_failures, 16);
    int64_t backoff = std::max<int64_t>(interval_ms, 1000) << shift;
    return std::min(backoff, std::max(kMaxBackoffMs, interval_ms));
}

}  // namespace rubberduck::core::runtime
