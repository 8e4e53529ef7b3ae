// Autonomous indexing (data_persistence agent, indexing skill): the two decisions the agent takes itself.
//
//  * verify_index(): after an index was built, keep it or take it back. Inputs are measured latencies per
//    statement over two windows — before the build (a pre-window delta of the cumulative statistics, or the
//    cumulative means when no pre-window was measured) and after it (the delta over the verify window) —
//    for the statements the advice predicted to improve ("affected") and for every other statement seen on
//    the same relation (reads and writes: an index slows writes down). Keep when the call-weighted latency
//    of the affected statements went down by at least min_improvement (the predicted direction) and no
//    statement regressed beyond regression_threshold; wait while too few calls were observed (at most
//    max_extensions more windows); otherwise revert.
//  * choose_next_build(): which advised index to build next — one change at a time (no build while another
//    build or verification runs), highest estimated improvement first, within max_indexes (agent-built
//    indexes kept), the storage budget and the maintenance window.
// Pure C++ (no PostgreSQL): the adapter gathers the numbers and applies the result.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <string>
#include <vector>

namespace rubberduck::core::index {

struct VerifyQuery {
    int64_t queryid = 0;
    bool affected = false;    // the advice predicted this statement to improve
    bool write = false;       // INSERT/UPDATE/DELETE/MERGE on the relation (pays the index's upkeep)
    double before_calls = 0;  // calls in the before window
    double before_total_ms = 0;
    double after_calls = 0;  // calls in the verify window
    double after_total_ms = 0;
    double predicted_ratio = -1;  // cost_after / cost_before from the advice; < 0 unknown
};

struct VerifyOptions {
    double min_improvement = 0.10;       // affected weighted latency must drop by this fraction
    double regression_threshold = 0.50;  // any statement slower by more than this fraction = regression
    double regression_floor_ms = 0.05;   // ... and by more than this many ms per call (noise floor)
    double min_calls = 20;               // affected calls needed in the verify window
    double min_query_calls = 10;         // calls a statement needs in both windows to be judged
    int max_extensions = 3;              // extra verify windows while calls are short
};

enum class VerifyVerdict { kKeep, kRevert, kWait };
const char *to_string(VerifyVerdict v);  // "keep", "revert", "wait"

struct VerifyResult {
    VerifyVerdict verdict = VerifyVerdict::kWait;
    std::string reason;
    double before_ms = -1;      // call-weighted mean latency of the affected statements before (-1 unknown)
    double after_ms = -1;       // ... after
    double improvement = 0;     // 1 - after/before
    double affected_calls = 0;  // affected calls in the verify window that could be compared
    int64_t worst_queryid = 0;  // the statement that regressed most (0: none)
    double worst_ratio = 0;     // its after/before mean latency
    int judged_queries = 0;     // statements with enough calls on both sides
};

// extensions_used: how many extra windows were already granted.
VerifyResult verify_index(const std::vector<VerifyQuery> &queries, const VerifyOptions &options,
                          int extensions_used);

// Call-weighted mean latency (ms) of the affected statements over the before window; -1 when unknown.
double affected_mean_before_ms(const std::vector<VerifyQuery> &queries);

struct AdviceCandidate {
    int64_t id = 0;
    double est_improvement_pct = 0;
    int64_t est_size_bytes = 0;
};

struct ApplyState {
    bool change_in_progress = false;  // a build, a pre-window measurement, a verification or a drop runs
    bool in_maintenance_window = true;
    int kept_indexes = 0;    // agent-built indexes that exist (applied or verified)
    int64_t kept_bytes = 0;  // their size
    int max_indexes = 10;
    int64_t storage_budget_bytes = -1;  // < 0: no budget
};

struct ApplyDecision {
    int64_t advice_id = 0;  // 0: build nothing now
    std::string reason;
};

ApplyDecision choose_next_build(const std::vector<AdviceCandidate> &advised, const ApplyState &state);

}  // namespace rubberduck::core::index
