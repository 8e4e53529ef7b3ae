// Pure decisions of guarded migration execution (rubberduck.migrate): lock-retry schedule, how a migration is
// cut into transactional segments and top-level statements, which integrity checks run and how their results
// are judged, and whether the post-migration watch saw a latency regression. The adapter
// (src/pg/migration/executor*.cpp) gathers the facts and runs the SQL; everything decided here is
// unit-tested.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/migration/lock_modes.h"

namespace rubberduck::core::migration {

// ---- lock-retry schedule -------------------------------------------------------------------------------
struct RetryPolicy {
    int retries = 5;          // attempts after the first one (rubberduck.migration_lock_retries)
    int base_delay_ms = 200;  // wait before the first retry
    int max_delay_ms = 10000;
    double factor = 2.0;
};

// SQLSTATEs worth retrying: 55P03 lock_not_available (lock_timeout) and 40P01 deadlock_detected.
bool is_retryable_sqlstate(std::string_view sqlstate);
// Wait before retry number `retry` (1-based): base * factor^(retry-1), capped at max, then "equal jitter":
// half fixed, half scaled by unit_random in [0,1] (the adapter passes a random draw; tests pass fixed ones).
int backoff_delay_ms(const RetryPolicy &policy, int retry, double unit_random);
// true when attempt number `attempt` (1-based, the one that just failed with `sqlstate`) may be retried.
bool should_retry(const RetryPolicy &policy, int attempt, std::string_view sqlstate);

// ---- segments ------------------------------------------------------------------------------------------
// A statement of the migration as the adapter's parser saw it.
struct PlannedStatement {
    int statement_no = 0;  // 1-based
    std::string sql;
    bool top_level_only = false;       // refuses a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...)
    bool transaction_control = false;  // BEGIN / COMMIT / END / START TRANSACTION: dropped
};
// Consecutive transactional statements form one segment (one transaction, all or nothing); each
// top-level-only statement is a segment of its own.
struct Segment {
    bool top_level = false;
    std::vector<PlannedStatement> statements;
};
std::vector<Segment> plan_segments(const std::vector<PlannedStatement> &statements);
bool needs_top_level(const std::vector<Segment> &segments);

// ---- integrity
// ---------------------------------------------------------------------------------------------
std::string quote_ident(std::string_view ident);  // always double-quoted, quotes doubled
std::string qualified(std::string_view schema, std::string_view name);

struct ForeignKeyInfo {
    std::string name;
    std::string child_schema, child_table;
    std::string parent_schema, parent_table;
    std::vector<std::string> child_columns, parent_columns;  // same length, in key order
    bool validated = true;
};
// SQL counting child rows whose key (all columns non-null: MATCH SIMPLE) has no parent row. Throws
// std::invalid_argument when the column lists are empty or differ in length.
std::string orphan_count_sql(const ForeignKeyInfo &fk);

// How the row count of a touched table is compared before/after the migration. Exact count(*) only while the
// migration holds a lock that blocks writers (so nobody else changes the count) and the table is small
// enough for a count under that lock to be cheap; otherwise the migration's own inserted-minus-deleted tuples
// in this transaction (pg_stat_get_xact_tuples_inserted/deleted).
enum class RowCountMethod { Exact, TransactionDelta };
constexpr double kExactCountMaxRows = 1e6;
RowCountMethod choose_row_count_method(double reltuples, std::optional<LockMode> held);

struct RowCountObservation {
    std::string relation;
    RowCountMethod method = RowCountMethod::Exact;
    int64_t before = 0;  // exact: rows; delta: inserted-deleted so far in the transaction
    int64_t after = 0;
};
// One message per table whose row count changed and is not listed in expect_row_changes (or all tables
// allowed when expect_any is true).
std::vector<std::string> row_count_violations(const std::vector<RowCountObservation> &rows,
                                              const std::vector<std::string> &expect_row_changes,
                                              bool expect_any);

// ---- post-migration watch ------------------------------------------------------------------------------
struct QueryLatencySample {
    std::string queryid;
    double calls_before = 0;     // cumulative calls when the migration was applied
    double total_ms_before = 0;  // cumulative execution time then
    double calls_now = 0;
    double total_ms_now = 0;
};
enum class WatchVerdict { Insufficient, Ok, Regressed };
struct RegressionResult {
    WatchVerdict verdict = WatchVerdict::Insufficient;
    double ratio = 0;           // after / before, call-weighted
    double before_mean_ms = 0;  // what the calls since the migration would have cost before, per call
    double after_mean_ms = 0;   // what they cost, per call
    double after_calls = 0;
    int queries = 0;
    std::string reason;  // one sentence with the figures
};
// Compares, for each query seen before the migration, its mean latency since the migration with its mean
// before; the ratio is weighted by calls since the migration. Queries whose counters went backwards (stats
// reset) or that had no calls before are skipped. Insufficient below min_calls calls since the migration.
// A regression also needs the mean to have grown by at least min_delta_ms per call: sub-millisecond queries
// swing by several times under unrelated load, and rolling a migration back over 0.1 ms is noise, not safety.
RegressionResult judge_regression(const std::vector<QueryLatencySample> &samples, double max_ratio,
                                  double min_calls, double min_delta_ms = 0);
const char *watch_verdict_name(WatchVerdict v);  // "insufficient" | "ok" | "regressed"

}  // namespace rubberduck::core::migration
