#include "core/query/slow_query_classifier.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

namespace rubberduck::core::query {

namespace {

std::string fmt_ms(double ms) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f ms", ms);
    return buf;
}

std::string pct(double share) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f%%", share * 100.0);
    return buf;
}

void check_config(const ClassifierConfig &c) {
    if (!(c.slow_query_ms > 0.0) || !std::isfinite(c.slow_query_ms))
        throw std::invalid_argument("classifier: slow_query_ms must be a positive number of milliseconds");
    if (!(c.top_n_min_share >= 0.0 && c.top_n_min_share <= 1.0))
        throw std::invalid_argument("classifier: top_n_min_share must be in [0, 1]");
    if (!(c.seq_scan_heavy_share > 0.0 && c.seq_scan_heavy_share <= 1.0) ||
        !(c.seq_scan_min_rows_per_call >= 0.0))
        throw std::invalid_argument("classifier: seq_scan_heavy_share must be in (0, 1], min rows >= 0");
    if (!(c.low_hit_ratio > 0.0 && c.low_hit_ratio <= 1.0))
        throw std::invalid_argument("classifier: low_hit_ratio must be in (0, 1]");
    if (!(c.high_variance_cv > 0.0) || !std::isfinite(c.high_variance_cv))
        throw std::invalid_argument("classifier: high_variance_cv must be > 0");
}

void check_query(const QueryStatsSnapshot &q) {
    const bool ok = std::isfinite(q.total_ms) && q.total_ms >= 0.0 && std::isfinite(q.mean_ms) &&
                    q.mean_ms >= 0.0 && std::isfinite(q.stddev_ms) && q.stddev_ms >= 0.0 &&
                    std::isfinite(q.p95_ms) && std::isfinite(q.seq_scan_share) && q.seq_scan_share <= 1.0 &&
                    std::isfinite(q.seq_scan_rows_per_call) && q.seq_scan_rows_per_call >= 0.0;
    if (!ok)
        throw std::invalid_argument("classifier: query " + std::to_string(q.queryid) +
                                    " has a non-finite or negative time/share; fix the snapshot");
}

}  // namespace

bool has_flag(const QueryClassification &c, const std::string &flag) {
    return std::find(c.flags.begin(), c.flags.end(), flag) != c.flags.end();
}

std::vector<QueryClassification> classify_queries(const std::vector<QueryStatsSnapshot> &queries,
                                                  const ClassifierConfig &config) {
    check_config(config);
    for (const auto &q : queries) check_query(q);

    double workload_ms = 0.0;
    for (const auto &q : queries) workload_ms += q.total_ms;
    std::vector<std::size_t> order(queries.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return queries[a].total_ms > queries[b].total_ms; });

    std::vector<QueryClassification> out(queries.size());
    for (std::size_t rank = 0; rank < order.size(); ++rank) {
        const std::size_t i = order[rank];
        const QueryStatsSnapshot &q = queries[i];
        QueryClassification &c = out[i];
        c.queryid = q.queryid;
        c.total_time_rank = rank + 1;
        c.total_time_share = workload_ms > 0.0 ? q.total_ms / workload_ms : 0.0;
        if (q.calls == 0) continue;

        const bool p95_known = q.p95_ms >= 0.0;
        const double typical = p95_known ? q.p95_ms : q.mean_ms;
        const bool slow_latency = typical > config.slow_query_ms;
        const bool top_total =
            rank < config.top_n_by_total && q.total_ms > 0.0 && c.total_time_share >= config.top_n_min_share;
        if (slow_latency || top_total) {
            c.flags.push_back("slow");
            c.suggestions.push_back(slow_latency
                                        ? std::string(p95_known ? "p95 " : "mean ") + fmt_ms(typical) +
                                              " exceeds slow_query_ms (" + fmt_ms(config.slow_query_ms) +
                                              "): check its plan with EXPLAIN (ANALYZE, BUFFERS)"
                                        : "ranks #" + std::to_string(rank + 1) + " by total time (" +
                                              pct(c.total_time_share) +
                                              " of the workload): even small per-call savings pay off here");
        }
        if (q.seq_scan_share >= config.seq_scan_heavy_share &&
            q.seq_scan_rows_per_call >= config.seq_scan_min_rows_per_call) {
            c.flags.push_back("seq_scan_heavy");
            c.suggestions.push_back(
                pct(q.seq_scan_share) + " of scanned rows come from sequential scans (" +
                std::to_string(static_cast<uint64_t>(q.seq_scan_rows_per_call)) +
                " rows per call): see rubberduck.index_advice for an index on its predicates");
        }
        const uint64_t blocks = q.shared_blks_hit + q.shared_blks_read;
        if (blocks >= config.hit_ratio_min_blocks) {
            const double ratio = static_cast<double>(q.shared_blks_hit) / static_cast<double>(blocks);
            if (ratio < config.low_hit_ratio) {
                c.flags.push_back("low_hit_ratio");
                c.suggestions.push_back(
                    "buffer hit ratio " + pct(ratio) +
                    ": it reads from disk; narrow what it reads (index, fewer columns) or check "
                    "shared_buffers in rubberduck.settings_advice");
            }
        }
        if (q.temp_blks_written >= config.temp_spill_min_blocks) {
            c.flags.push_back("temp_spill");
            c.suggestions.push_back(
                std::to_string(q.temp_blks_written) +
                " temp blocks written: sorts or hashes spill to disk; raise work_mem for it "
                "(SET LOCAL work_mem) or avoid the large sort");
        }
        if (q.calls >= config.high_variance_min_calls && q.mean_ms > 0.0 &&
            q.stddev_ms / q.mean_ms > config.high_variance_cv) {
            c.flags.push_back("high_variance");
            c.suggestions.push_back("latency varies widely (stddev " + fmt_ms(q.stddev_ms) + " vs mean " +
                                    fmt_ms(q.mean_ms) +
                                    "): look for lock waits, parameter-dependent plans or cold cache");
        }
    }
    return out;
}

}  // namespace rubberduck::core::query
