// Learned per-query latency baseline: an EWMA of each query's window mean and variance (stats::Ewma, mixture
// update), kept across restarts through a small versioned binary encoding for the state file.
//
// Encoding v1 (little-endian): "RDQB" | u16 version | u16 reserved (0) | u32 entry count |
//   entries (48 bytes each: u64 queryid, f64 mean_ms, f64 variance_ms2, u64 updates, u64 calls, i64
//   last_update_us) | u64 FNV-1a-64 of every preceding byte.
// decode() validates everything and throws std::invalid_argument on truncated, corrupt or future-version
// input.
#pragma once
#include "core/common/no_postgres.h"

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/query/latency_moments.h"
#include "core/stats/ewma.h"

namespace rubberduck::core::query {

struct BaselineConfig {
    double alpha = 0.05;  // EWMA weight of each window (stats::ewma_alpha_from_half_life helps), (0, 1]
    uint64_t min_window_calls = 5;    // windows with fewer calls do not move the baseline
    uint64_t warmup_updates = 3;      // compare() says "unknown" until this many windows were learned
    std::size_t max_entries = 10000;  // bound; the least recently updated query is dropped first
    double z_threshold = 4.0;  // compare(): window mean this many standard errors above the baseline ...
    double min_ratio = 1.5;    // ... and this many times the baseline mean => slower_than_usual
};

struct BaselineEntry {
    uint64_t queryid = 0;
    stats::Ewma latency{};  // EWMA mean/variance of latency in ms
    uint64_t calls = 0;     // calls learned from
    int64_t last_update_us = 0;
};

struct BaselineComparison {
    bool known = false;  // baseline exists and is past warm-up
    bool slower_than_usual = false;
    double z = 0.0;      // (window mean - baseline mean) / (baseline stddev / sqrt(window calls))
    double ratio = 1.0;  // window mean / baseline mean
    double baseline_mean_ms = 0.0;
    double baseline_stddev_ms = 0.0;
};

class QueryBaseline {
  public:
    static constexpr uint16_t kVersion = 1;
    static constexpr std::size_t kEntryBytes = 48;

    explicit QueryBaseline(BaselineConfig config = {});  // throws std::invalid_argument on a bad config

    // Learn one window of a query. Returns false (and learns nothing) when the window has too few calls.
    bool update(uint64_t queryid, const LatencyMoments &window, int64_t now_us);
    // Compare a window with what was learned so far (call before update() for the same window).
    BaselineComparison compare(uint64_t queryid, const LatencyMoments &window) const;

    const BaselineEntry *find(uint64_t queryid) const;
    bool erase(uint64_t queryid) { return entries_.erase(queryid) > 0; }
    std::size_t size() const noexcept { return entries_.size(); }
    std::size_t memory_bytes() const noexcept;  // approximate, for the agent's memory report (R18)
    const BaselineConfig &config() const noexcept { return config_; }

    std::vector<uint8_t> encode() const;
    // Rebuilds a baseline from encode()'s bytes; entries beyond config.max_entries (least recent first) are
    // dropped.
    static QueryBaseline decode(const uint8_t *data, std::size_t size, BaselineConfig config = {});
    static QueryBaseline decode(const std::vector<uint8_t> &bytes, BaselineConfig config = {}) {
        return decode(bytes.data(), bytes.size(), config);
    }

  private:
    void evict_least_recent();

    BaselineConfig config_;
    std::unordered_map<uint64_t, BaselineEntry> entries_;
};

}  // namespace rubberduck::core::query
