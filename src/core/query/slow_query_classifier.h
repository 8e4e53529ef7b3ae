// Per-query flags for rubberduck.query_insights: slow, seq_scan_heavy, low_hit_ratio, temp_spill,
// high_variance. Input is one snapshot per query for the observation window the agent chose (cumulative or a
// delta); the classifier needs the whole set because "top N by total time" is relative to the workload.
#pragma once
#include "core/common/no_postgres.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rubberduck::core::query {

struct QueryStatsSnapshot {
    uint64_t queryid = 0;
    uint64_t calls = 0;
    double total_ms = 0.0;
    double mean_ms = 0.0;
    double stddev_ms = 0.0;
    double p95_ms = -1.0;  // from the latency histogram; < 0 = unknown
    double seq_scan_share =
        -1.0;  // share of this query's scanned rows read by sequential scans, 0..1; < 0 = unknown
    double seq_scan_rows_per_call =
        0;  // rows read by sequential scans per call (small tables are fine to scan)
    uint64_t shared_blks_hit = 0;
    uint64_t shared_blks_read = 0;
    uint64_t temp_blks_written = 0;
};

struct ClassifierConfig {
    double slow_query_ms = 1000.0;  // rubberduck.slow_query_ms: p95 (or mean if p95 unknown) above it is slow
    std::size_t top_n_by_total = 10;    // the N statements with most total time are slow ...
    double top_n_min_share = 0.05;      // ... if they also take >= this share of all time (0 = pure top N)
    double seq_scan_heavy_share = 0.5;  // seq_scan_heavy: share >= this ...
    double seq_scan_min_rows_per_call = 10000;  // ... and that many rows seq-scanned per call
    double low_hit_ratio = 0.90;                // low_hit_ratio: hit / (hit + read) below this ...
    uint64_t hit_ratio_min_blocks = 1000;       // ... over at least this many block accesses
    uint64_t temp_spill_min_blocks = 1024;      // temp_spill: temp blocks written (8 kB each) in the window
    double high_variance_cv = 2.0;              // high_variance: stddev / mean above this ...
    uint64_t high_variance_min_calls = 30;      // ... with at least this many calls
};

struct QueryClassification {
    uint64_t queryid = 0;
    std::vector<std::string> flags;        // stable snake_case names, in the order listed above
    std::vector<std::string> suggestions;  // one actionable sentence per flag, same order
    std::size_t total_time_rank = 0;       // 1 = most total time
    double total_time_share = 0.0;         // of the whole snapshot's total time
};

// One result per input, in input order. Throws std::invalid_argument on a bad config or non-finite/negative
// input numbers (say which query).
std::vector<QueryClassification> classify_queries(const std::vector<QueryStatsSnapshot> &queries,
                                                  const ClassifierConfig &config = {});

bool has_flag(const QueryClassification &c, const std::string &flag);

}  // namespace rubberduck::core::query
