// N+1 detection over the per-execution observations the hooks leave in shared memory.
//
// A *run* is a sequence of executions of one queryid by one backend where each next execution is either in
// the same (non-zero) transaction as the previous one, or starts at most max_gap_us after it. A run that
// reaches min_executions qualifying calls is an N+1 finding. A call qualifies when it returned at most
// max_rows_per_call rows (default 0..5: a lookup that finds nothing in a loop is as much N+1 as one that
// finds a row); calls returning more are ignored, so a statement that returns many rows per call is never
// flagged. Runs are keyed by backend, so a statement that is popular across many backends but executed once
// or twice per backend never forms a run.
//
// This catches a PL/pgSQL loop (nesting level > 0, one transaction, any pace) and a client loop of separate
// statements (level 0, in one explicit transaction, or autocommit transactions close in time).
// Known limit: behind a transaction-mode pooler one backend serves many clients, so a very popular statement
// arriving on one backend more often than every max_gap_us looks like a client loop; lower max_gap_us there.
//
// Bounded state: at most max_tracked open runs (idle runs are closed first, then the least recently active
// run is evicted and counted), and at most max_tracked distinct queryids in pending findings.
#pragma once
#include "core/common/no_postgres.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace rubberduck::core::query {

enum class CommandKind : uint8_t { Select = 0, Insert = 1, Update = 2, Delete = 3, Other = 4 };

// One execution, as the adapter drains it from shared memory (POD).
struct ExecutionObservation {
    int32_t backend_id = 0;       // e.g. MyProcNumber/pgprocno (stable for the backend's life)
    uint64_t transaction_id = 0;  // local transaction id (lxid is fine: always assigned); 0 if unknown
    uint64_t queryid = 0;         // 0 = not tracked; such observations are ignored
    int64_t timestamp_us = 0;     // executor end time, microseconds on any monotonic-enough clock
    uint64_t rows = 0;            // rows returned or processed by this call
    int32_t nesting_level = 0;    // 0 = top-level statement, > 0 = inside a function (PL/pgSQL ...)
    CommandKind command = CommandKind::Select;
};

struct NPlusOneConfig {
    uint32_t min_executions = 10;       // >= 2
    uint64_t max_rows_per_call = 5;     // calls returning more rows do not count
    int64_t max_gap_us = 1'000'000;     // max pause between calls of a run outside one transaction, > 0
    int64_t idle_close_us = 2'000'000;  // a run idle this long is closed by collect(), >= max_gap_us
    std::size_t max_tracked = 8192;     // open runs kept, >= 1
};

enum class NPlusOneSource : uint8_t {
    PlpgsqlLoop,              // nested (level > 0): a loop inside a function
    ClientLoopInTransaction,  // top level, all calls in one explicit transaction
    ClientLoopAutocommit,     // top level, separate transactions close in time
};
const char *to_string(NPlusOneSource s) noexcept;

struct NPlusOneFinding {
    uint64_t queryid = 0;
    int32_t backend_id = 0;       // backend of the largest run
    uint64_t count = 0;           // qualifying calls in the largest run
    uint64_t max_rows = 0;        // most rows returned by one call of that run
    int64_t window_start_us = 0;  // first and last call of that run
    int64_t window_end_us = 0;
    int32_t max_nesting_level = 0;
    NPlusOneSource source = NPlusOneSource::ClientLoopAutocommit;
    CommandKind command = CommandKind::Select;
    uint64_t occurrences = 0;  // qualifying runs of this queryid since the last collect()
    uint64_t total_calls = 0;  // qualifying calls summed over those runs
    std::string suggestion;
};

// Suggestion text for a finding (batching with = ANY($1), a join, or a prefetch; multi-row writes for DML).
std::string n_plus_one_suggestion(const NPlusOneFinding &f);

class NPlusOneDetector {
  public:
    explicit NPlusOneDetector(NPlusOneConfig config = {});  // throws std::invalid_argument on a bad config

    void observe(const ExecutionObservation &obs);
    void observe(const ExecutionObservation *obs, std::size_t n);
    void observe(const std::vector<ExecutionObservation> &obs) { observe(obs.data(), obs.size()); }

    // Closes runs idle for more than idle_close_us before now_us and returns the findings of every run closed
    // since the last call, one per queryid (the largest run, with occurrences/total_calls aggregated).
    std::vector<NPlusOneFinding> collect(int64_t now_us);
    // Closes every run (e.g. at shutdown) and returns all pending findings.
    std::vector<NPlusOneFinding> flush();

    std::size_t tracked_runs() const noexcept { return runs_.size(); }
    uint64_t evicted_runs() const noexcept { return evicted_; }
    uint64_t dropped_findings() const noexcept { return dropped_; }
    const NPlusOneConfig &config() const noexcept { return config_; }

  private:
    struct Key {
        int32_t backend_id;
        uint64_t queryid;
        bool operator==(const Key &o) const noexcept {
            return backend_id == o.backend_id && queryid == o.queryid;
        }
    };
    struct KeyHash {
        std::size_t operator()(const Key &k) const noexcept;
    };
    struct Run {
        uint64_t transaction_id;
        uint64_t count;
        uint64_t max_rows;
        int64_t first_us;
        int64_t last_us;
        int32_t max_level;
        bool crossed_transactions;  // calls in different (or unknown) transactions
        CommandKind command;
    };

    void close_run(const Key &key, const Run &run);
    void make_room(int64_t now_us);
    std::vector<NPlusOneFinding> take_pending();

    NPlusOneConfig config_;
    std::unordered_map<Key, Run, KeyHash> runs_;
    std::unordered_map<uint64_t, NPlusOneFinding> pending_;
    uint64_t evicted_ = 0;
    uint64_t dropped_ = 0;
};

}  // namespace rubberduck::core::query
