// Query statistics in shared memory (issue #3): what the hooks record and the query_optimizer agent learns
// from. Four bounded structures, all POD (R31), sized at server start:
//
//  1. The statement table: a shared hash of rubberduck.max_queries entries keyed by (queryid, userid, dbid):
//     counters (calls, Welford exec-time moments, min/max, a LatencyHistogram for p50/p95/p99, rows, buffers,
//     planning), the latest plan fingerprint with per-plan latency moments of the previous and current plan,
//     and the normalised statement text (constants replaced by $n), truncated to kQueryTextLen - 1 bytes.
//     When full, the least valuable 5 % (lowest decayed usage, pg_stat_statements style) are evicted.
//  2. The predicate table: a shared hash of 2 x max_queries entries keyed by (queryid, dbid, relation,
//     columns, operator/clause kind), filled from sampled executions; evicted the same way.
//  3. Exemplars: kExemplarSlots slots, one executable example (source text with its real constants plus bound
//     parameter values and types, and the user) of the most expensive statements.
//  4. Execution rings: one ring of kRingSize recent executions per backend (MaxBackends rings), the N+1
//     detector's raw material, drained by the agent each cycle.
//  5. Insights: flags and suggestions the agent computed per queryid (kMaxInsights), read by the view.
//
// Locking protocol (R32):
//  - stats_lock (LWLock, tranche "rubberduck_queries"): shared to look an entry up and to update its counters
//    (the counters under the entry's spinlock `mutex`), exclusive to create, evict or reset entries. The hook
//    path is: shared lookup -> spinlock -> add -> release; only a first execution takes the lock exclusively.
//    Readers (views, the agent, the state dump) copy entries out under the shared lock (each entry's counters
//    under its spinlock) and compute after releasing.
//  - pred_lock (second LWLock of the tranche): the same rules for the predicate table.
//  - exemplar_lock (third): exclusive to replace an exemplar, shared to read. The hook reads
//    exemplar_min_ms without the lock as a cheap filter (a torn or stale read only costs a lock round trip).
//  - insight_lock (fourth): the agent replaces the whole insight array under exclusive; views copy under
//    shared.
//  - Each ring has its own spinlock: its backend appends, the agent drains; both copy a few entries only.
//  No lock is ever held across a call that can ereport, except the hash insert under exclusive (ERROR
//  releases LWLocks; we never hold a spinlock there).
#pragma once

#include <cstdint>

#include "core/query/n_plus_one_detector.h"
#include "core/stats/latency_histogram.h"
#include "core/stats/welford.h"
#include "pg/postgres.hpp"

namespace rubberduck::pg {

constexpr int kQueryTextLen = 1024;  // normalised text bytes kept per statement (incl. terminator)
constexpr int kSeenPlans = 8;        // distinct plan fingerprints remembered per statement
constexpr int kExemplarSlots = 64;
constexpr int kExemplarTextLen = 2048;
constexpr int kExemplarParamsLen = 1024;
constexpr int kExemplarMaxParams = 32;
constexpr int kRingSize = 256;  // executions remembered per backend between two agent cycles
constexpr int kMaxInsights = 1024;
constexpr int kSuggestionsLen = 640;
constexpr int kPredColumns = 4;

struct QueryKey {
    Oid userid;
    Oid dbid;
    uint64_t queryid;
};

struct QueryCounters {
    int64_t calls;
    double total_ms;
    double min_ms;
    double max_ms;
    core::stats::Welford exec;  // execution time moments
    core::stats::LatencyHistogram hist;
    int64_t rows;
    int64_t shared_blks_hit;
    int64_t shared_blks_read;
    int64_t temp_blks_read;
    int64_t temp_blks_written;
    int64_t plans;
    double total_plan_ms;
    uint64_t plan_fp;       // latest plan fingerprint (0 = none yet)
    uint64_t prev_plan_fp;  // the one before it
    int64_t plan_changes;   // times the fingerprint changed
    int32_t distinct_plans;
    uint64_t seen_plans[kSeenPlans];  // ring of distinct fingerprints, for distinct_plans
    core::stats::Welford cur_plan;    // latency under plan_fp
    core::stats::Welford prev_plan;   // latency under prev_plan_fp
    int64_t sampled_calls;            // executions walked for predicates
    double sampled_scan_rows;         // rows read by all scan nodes in sampled executions
    double sampled_seq_rows;          // ... of which by sequential scans
    TimestampTz first_seen;
    TimestampTz last_seen;
    double usage;  // eviction value: +1 per execution, decayed at each eviction round
};

struct QueryEntry {
    QueryKey key;  // hash key: must be first
    slock_t mutex;
    QueryCounters c;
    bool text_pending;  // created before its text was known (no parse analysis seen yet)
    int32_t text_len;
    char text[kQueryTextLen];
};

enum class PredKind : uint8_t {
    Op = 0,         // col op value
    ArrayOp = 1,    // col op ANY(array)  (IN lists)
    IsNull = 2,     // col IS NULL
    IsNotNull = 3,  // col IS NOT NULL
    FuncOp = 4,     // f(col) op value (function or cast on the column)
    Join = 5,       // join clause column
    OrderBy = 6,    // ORDER BY column (sorted explicitly)
    GroupBy = 7,    // GROUP BY column
};

struct PredKey {
    uint64_t queryid;
    Oid dbid;
    Oid relid;
    Oid opno;    // operator (0 for IS [NOT] NULL, ORDER BY, GROUP BY)
    Oid funcid;  // function on the column (FuncOp), else 0
    int16_t attnums[kPredColumns];
    uint8_t kind;  // PredKind
    uint8_t ncols;
    uint8_t commuted;  // the column was on the right of opno (the view shows the commutator)
    uint8_t pad;
};

struct PredEntry {
    PredKey key;
    slock_t mutex;
    int64_t executions;      // sampled executions that evaluated it
    double sum_selectivity;  // sum over executions with a known selectivity
    int64_t selectivity_count;
    double rows_examined;
    double rows_returned;
    int64_t index_executions;  // executions in which an index condition served it
    int64_t limit_executions;  // executions of a statement with a LIMIT
    TimestampTz last_seen;
    double usage;
};

struct Exemplar {
    uint64_t queryid;  // 0 = free slot
    Oid dbid;
    Oid userid;
    double exec_ms;
    TimestampTz captured_at;
    int32_t nparams;
    Oid param_types[kExemplarMaxParams];
    int16_t param_offsets[kExemplarMaxParams];  // into params; -1 = NULL value
    bool text_truncated;
    char text[kExemplarTextLen];
    char params[kExemplarParamsLen];  // NUL-separated values as text
};

struct RingEntry {
    uint64_t queryid;
    uint64_t rows;
    int64_t timestamp_us;  // statement start (TimestampTz, µs)
    uint32_t lxid;         // local transaction id (MyProc->lxid)
    int32_t pid;           // the backend's pid: a ring index is reused by later backends
    int16_t nesting_level;
    uint8_t command;  // core::query::CommandKind
    uint8_t pad;
};

struct ExecRing {
    slock_t mutex;
    uint64_t head;     // entries ever appended
    uint64_t drained;  // entries the agent has read
    RingEntry slots[kRingSize];
};

enum InsightFlag : uint32_t {
    kFlagSlow = 1u << 0,
    kFlagSeqScanHeavy = 1u << 1,
    kFlagLowHitRatio = 1u << 2,
    kFlagTempSpill = 1u << 3,
    kFlagHighVariance = 1u << 4,
    kFlagNPlusOne = 1u << 5,
    kFlagRegressed = 1u << 6,
};

struct QueryInsight {
    uint64_t queryid;
    uint32_t flags;
    char suggestions[kSuggestionsLen];  // '\n'-separated
};

struct QueryStatsShared {
    LWLock *stats_lock;
    LWLock *pred_lock;
    LWLock *exemplar_lock;
    LWLock *insight_lock;
    int64_t evictions;
    int64_t pred_evictions;
    uint64_t reset_generation;  // bumped by reset('queries'): the agent forgets what it learned
    TimestampTz stats_reset;
    double exemplar_min_ms;  // cheapest exemplar kept (0 while a slot is free)
    int32_t ring_count;
    int32_t insight_count;
    Exemplar exemplars[kExemplarSlots];
    QueryInsight insights[kMaxInsights];
    // followed by ring_count ExecRing (MAXALIGNed)
};

void register_query_stats();  // from register_extension_parts (preloaded only)

QueryStatsShared *query_stats_shared();
ExecRing *exec_ring(int index);  // nullptr when out of range
HTAB *query_stats_hash();
HTAB *predicate_hash();
int query_stats_capacity();
int predicate_capacity();

// Hook side (PG regime, no C++ allocation).
QueryEntry *query_entry_find_or_create(const QueryKey &key, const char *normalized, int len, bool text_known);
// Fill the text of an entry created without one (caller holds nothing).
void query_entry_set_text(const QueryKey &key, const char *normalized, int len);
void predicate_add(const PredKey &key, double selectivity, double examined, double returned, bool used_index,
                   bool has_limit);

// Reader side: copies under the locks (palloc'd arrays in the current context).
QueryEntry *snapshot_queries(int *count);
PredEntry *snapshot_predicates(int *count);
Exemplar *snapshot_exemplars(int *count);
QueryInsight *snapshot_insights(int *count);
void publish_insights(const QueryInsight *items, int count);  // agent: replace the whole array

void reset_query_stats();  // reset target 'queries'

}  // namespace rubberduck::pg
