// Latency summary of a set of executions, as the adapter derives it from shared-memory accumulators.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>

namespace rubberduck::core::query {

// Execution count, mean and *sample* variance (n - 1 denominator) of latency in milliseconds
// (stats::Welford gives these; from pg_stat_statements' population stddev use stddev^2 * n / (n - 1)).
struct LatencyMoments {
    uint64_t count = 0;
    double mean_ms = 0.0;
    double variance_ms2 = 0.0;
};

}  // namespace rubberduck::core::query
