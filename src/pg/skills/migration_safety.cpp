// Skill migration_safety (agent migration): what the migration agent does each cycle for guarded execution.
//   1. R44: a ledger row left 'running' by an executor worker that no longer exists is marked failed;
//   2. the oldest pending migration (options.async, statements that refuse a transaction block, or a queued
//      rollback) is handed to a migration executor worker, one at a time, in queue order — the user asked for
//      it, so this happens in every mode;
//   3. post-migration watch: once a watched migration's window has passed, the mean latency of the queries on
//      the migrated tables since the migration (pg_stat_statements deltas) is compared with their mean
//      before; above rubberduck.migration_max_regression the down_sql is run (autonomous mode, or when the
//      migration asked for the watch itself in options.watch) — ledger rolled_back with the measured reason,
//      action audited, signal migration_rolled_back; otherwise the action is only proposed. A watch that
//      passes (and every applied migration without a watch) is announced with signal migration_finished.
#include <string>
#include <vector>

#include "core/migration/execution.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/migration/executor.hpp"
#include "pg/skills/skill.hpp"

extern "C" {
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace rubberduck::pg {

namespace cm = core::migration;
using namespace rubberduck::pg::migration;

namespace {

pid_t last_executor_pid = 0;

void spi(const char *sql, int nargs, Oid *types, Datum *values, bool ro) {
    (void)ro;  // fresh snapshot for every query
    int rc = SPI_execute_with_args(sql, nargs, types, values, nullptr, false, 0);
    if (rc < 0)
        elog(ERROR, "rubberduck_agents: SPI_execute failed (%s) for: %s", SPI_result_code_string(rc), sql);
}

char *val(int row, int col) {
    return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

void publish(const char *kind, const char *payload) {
    (void)publish_signal(kMigrationAgentIndex, kSignalBroadcast, kind, payload);
}

int mark_crashed_executors() {
    spi("UPDATE rubberduck.migrations SET status = 'failed', finished_at = now(), "
        "error = format('the executor worker (pid %s) exited before finishing', executor_pid), executor_pid "
        "= NULL "
        "WHERE status = 'running' AND (executor_pid IS NULL OR NOT EXISTS "
        "  (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = executor_pid)) "
        "AND started_at < now() - interval '2 seconds'",
        0, nullptr, nullptr, false);
    return static_cast<int>(SPI_processed);
}

// Returns a note when a worker was started.
bool start_pending(char *note, size_t cap) {
    if (last_executor_pid > 0 && kill(last_executor_pid, 0) == 0) return false;  // one at a time
    last_executor_pid = 0;
    spi("SELECT 1 FROM rubberduck.migrations WHERE status = 'running'", 0, nullptr, nullptr, true);
    if (SPI_processed > 0) return false;
    spi("SELECT version, applied_by FROM rubberduck.migrations WHERE status = 'pending' ORDER BY queued_at, "
        "version "
        "LIMIT 1",
        0, nullptr, nullptr, true);
    if (SPI_processed == 0) return false;
    char *version = val(0, 1);
    char *role = val(0, 2);
    {
        // The executor connects as the role that queued the migration: it must be able to log in, or the
        // worker would die at connection and the row would be retried forever.
        Oid types[1] = {TEXTOID};
        Datum values[1] = {CStringGetTextDatum(role)};
        spi("SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = $1", 1, types, values, true);
        if (SPI_processed == 0 || strcmp(val(0, 1), "t") != 0) {
            Oid t2[2] = {TEXTOID, TEXTOID};
            Datum v2[2] = {CStringGetTextDatum(version), CStringGetTextDatum(role)};
            spi("UPDATE rubberduck.migrations SET status = 'failed', finished_at = now(), "
                "error = format('role %s that queued it does not exist or cannot log in: the executor "
                "connects as "
                "that role', $2) WHERE version = $1",
                2, t2, v2, false);
            snprintf(note, cap, "migration %s failed: role %s cannot log in", version, role);
            return false;
        }
    }
    int pid = 0;
    if (!launch_executor(version, MyDatabaseId, role, &pid)) {
        snprintf(note, cap, "could not start a migration executor for %s (max_worker_processes?)", version);
        return false;
    }
    last_executor_pid = pid;
    snprintf(note, cap, "started the migration executor (pid %d) for %s", pid, version);
    return true;
}

struct WatchRow {
    char *version;
    char *down_sql;
    char *options_json;
    char *search_path;
    char *pgss_schema;
    char *baseline_json;
    double max_regression;
    bool consent;     // options.watch given explicitly
    bool final_call;  // five windows have passed: judge with what there is
};

void judge_watch(const WatchRow &w, bool may_act, char *note, size_t cap) {
    // Current figures for the baseline's queries.
    char *q = psprintf(
        "SELECT b.key, (b.value->>0)::float8, (b.value->>1)::float8, coalesce(s.calls, 0), coalesce(s.total, "
        "0) "
        "FROM jsonb_each($1::jsonb) b LEFT JOIN (SELECT queryid::text AS q, sum(calls)::float8 AS calls, "
        "sum(total_exec_time)::float8 AS total FROM %s.pg_stat_statements WHERE dbid = %u GROUP BY queryid) "
        "s "
        "ON s.q = b.key",
        quote_identifier(w.pgss_schema), MyDatabaseId);
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(w.baseline_json)};
    spi(q, 1, types, values, true);
    int n = static_cast<int>(SPI_processed);
    double *num = static_cast<double *>(palloc0(sizeof(double) * 4 * (n + 1)));
    char **ids = static_cast<char **>(palloc0(sizeof(char *) * (n + 1)));
    for (int i = 0; i < n; ++i) {
        ids[i] = val(i, 1);
        for (int c = 0; c < 4; ++c) num[4 * i + c] = strtod(val(i, c + 2), nullptr);
    }
    cm::WatchVerdict verdict = cm::WatchVerdict::Insufficient;
    double ratio = 0, before_ms = 0, after_ms = 0, calls = 0;
    char reason[512] = {0};
    cpp_guard([&] {
        std::vector<cm::QueryLatencySample> samples;
        for (int i = 0; i < n; ++i)
            samples.push_back({ids[i], num[4 * i], num[4 * i + 1], num[4 * i + 2], num[4 * i + 3]});
        auto r = cm::judge_regression(samples, w.max_regression, migration_exec_directives.watch_min_calls,
                                      migration_exec_directives.watch_min_delta_ms);
        verdict = r.verdict;
        ratio = r.ratio;
        before_ms = r.before_mean_ms;
        after_ms = r.after_mean_ms;
        calls = r.after_calls;
        copy_message(reason, sizeof reason, r.reason.c_str());
    });

    Oid t6[6] = {TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, FLOAT8OID, FLOAT8OID};
    Datum v6[6] = {CStringGetTextDatum(w.version), CStringGetTextDatum(cm::watch_verdict_name(verdict)),
                   CStringGetTextDatum(reason),    Float8GetDatum(ratio),
                   Float8GetDatum(before_ms),      Float8GetDatum(after_ms)};
    const char *verdict_sql =
        "jsonb_build_object('verdict', $2, 'reason', $3, 'ratio', round($4::numeric, 3), "
        "'before_mean_ms', round($5::numeric, 3), 'after_mean_ms', round($6::numeric, 3), 'judged_at', "
        "now())";
    if (verdict == cm::WatchVerdict::Insufficient && !w.final_call) {
        // Not enough calls yet: keep watching (up to 5 windows) rather than declare a pass on no evidence.
        snprintf(note, cap, "migration %s: %s; still watching", w.version, reason);
        return;
    }
    if (verdict != cm::WatchVerdict::Regressed) {
        spi(psprintf("UPDATE rubberduck.migrations SET watch = watch || %s || "
                     "jsonb_build_object('state', 'passed', 'announced', true) WHERE version = $1",
                     verdict_sql),
            6, t6, v6, false);
        spi("SELECT jsonb_build_object('version', $1, 'watch', $2, 'ratio', round($4::numeric, 3))::text", 6,
            t6, v6, true);
        publish("migration_finished", val(0, 1));
        snprintf(note, cap, "migration %s passed its watch (%s)", w.version, cm::watch_verdict_name(verdict));
        return;
    }

    // Regressed.
    Oid ta[5] = {TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, TEXTOID};
    Datum va[5] = {CStringGetTextDatum(w.version), CStringGetTextDatum(w.down_sql ? w.down_sql : ""),
                   CStringGetTextDatum(reason), Float8GetDatum(before_ms),
                   CStringGetTextDatum(may_act ? (w.down_sql ? "applied" : "failed") : "proposed")};
    spi("SELECT rubberduck.record_action('migration', 'migration_safety', 'rollback_migration', $1, "
        "nullif($2, ''), $3, $5, $4, '{}')",
        5, ta, va, false);
    char *action_id = val(0, 1);
    if (!may_act || !w.down_sql) {
        spi(psprintf("UPDATE rubberduck.migrations SET watch = watch || %s || jsonb_build_object('state', "
                     "'regressed', 'announced', true, 'action', %s) WHERE version = $1",
                     verdict_sql, action_id),
            6, t6, v6, false);
        snprintf(
            note, cap, "migration %s regressed (%.2fx); %s", w.version, ratio,
            w.down_sql ? "rollback proposed (mode is not autonomous)" : "it has no down_sql to roll back");
        return;
    }
    MigPlan plan;
    plan_migration(w.down_sql, &plan);
    if (plan_needs_top_level(&plan)) {
        spi(psprintf(
                "UPDATE rubberduck.migrations SET status = 'pending', requested = 'down', queued_at = now(), "
                "rollback_reason = $3, watch = watch || %s || jsonb_build_object('state', 'regressed', "
                "'action', %s) WHERE version = $1",
                verdict_sql, action_id),
            6, t6, v6, false);
        snprintf(note, cap, "migration %s regressed (%.2fx): rollback queued for the executor", w.version,
                 ratio);
        return;
    }
    int attempts = 0;
    char *error = run_down_sql(w.down_sql, w.options_json, w.search_path, &attempts);
    Oid tu[3] = {INT8OID, TEXTOID, FLOAT8OID};
    Datum vu[3] = {Int64GetDatum(strtoll(action_id, nullptr, 10)),
                   CStringGetTextDatum(error ? "failed" : "applied"), Float8GetDatum(after_ms)};
    spi("SELECT rubberduck.update_action($1, $2, $3)", 3, tu, vu, false);
    if (error) {
        Datum ve[6] = {CStringGetTextDatum(w.version),
                       CStringGetTextDatum("regressed"),
                       CStringGetTextDatum(psprintf("%s; automatic rollback failed: %s", reason, error)),
                       Float8GetDatum(ratio),
                       Float8GetDatum(before_ms),
                       Float8GetDatum(after_ms)};
        spi(psprintf("UPDATE rubberduck.migrations SET watch = watch || %s || jsonb_build_object('state', "
                     "'regressed', 'announced', true) WHERE version = $1",
                     verdict_sql),
            6, t6, ve, false);
        snprintf(note, cap, "migration %s regressed but its rollback failed: %s", w.version, error);
        return;
    }
    spi(psprintf(
            "UPDATE rubberduck.migrations SET status = 'rolled_back', rolled_back_at = clock_timestamp(), "
            "rollback_reason = 'automatic: ' || $3, watch = watch || %s || jsonb_build_object('state', "
            "'regressed', 'announced', true, 'action', %s) WHERE version = $1",
            verdict_sql, action_id),
        6, t6, v6, false);
    spi("SELECT jsonb_build_object('version', $1, 'reason', $3, 'ratio', round($4::numeric, 3), "
        "'before_mean_ms', round($5::numeric, 3), 'after_mean_ms', round($6::numeric, 3))::text",
        6, t6, v6, true);
    publish("migration_rolled_back", val(0, 1));
    ereport(LOG,
            (errmsg("rubberduck_agents: migration \"%s\" rolled back automatically: %s", w.version, reason)));
    snprintf(note, cap, "migration %s rolled back: %.2fx slower", w.version, ratio);
}

void run_watches(bool autonomous, char *note, size_t cap) {
    spi("SELECT version, down_sql, options::text, coalesce(progress->>'search_path', '\"$user\", public'), "
        "watch->>'pgss_schema', coalesce(watch->'baseline', '{}')::text, "
        "coalesce((watch->>'max_regression')::float8, 1.5), options ? 'watch', "
        "(watch->>'until')::timestamptz + 4 * ((watch->>'window_ms')::float8 * interval '1 millisecond') <= "
        "now() "
        "FROM rubberduck.migrations WHERE status = 'applied' AND watch->>'state' = 'watching' "
        "AND (watch->>'until')::timestamptz <= now() "
        "AND pg_catalog.current_setting('shared_preload_libraries') ~ 'pg_stat_statements' ORDER BY "
        "finished_at",
        0, nullptr, nullptr, true);
    int n = static_cast<int>(SPI_processed);
    WatchRow *rows = static_cast<WatchRow *>(palloc0(sizeof(WatchRow) * (n + 1)));
    for (int i = 0; i < n; ++i) {
        rows[i].version = val(i, 1);
        rows[i].down_sql = val(i, 2);
        rows[i].options_json = val(i, 3);
        rows[i].search_path = val(i, 4);
        rows[i].pgss_schema = val(i, 5);
        rows[i].baseline_json = val(i, 6);
        rows[i].max_regression = strtod(val(i, 7), nullptr);
        rows[i].consent = strcmp(val(i, 8), "t") == 0;
        rows[i].final_call = strcmp(val(i, 9), "t") == 0;
    }
    for (int i = 0; i < n; ++i) {
        if (!rows[i].pgss_schema) continue;
        judge_watch(rows[i], autonomous || rows[i].consent, note, cap);
    }
    // Applied migrations without a watch (off / skipped) are announced once.
    spi("UPDATE rubberduck.migrations SET watch = watch || '{\"announced\": true}' "
        "WHERE status = 'applied' AND coalesce(watch->>'state', 'off') NOT IN ('watching', 'passed', "
        "'regressed') "
        "AND NOT coalesce((watch->>'announced')::boolean, false) "
        "RETURNING jsonb_build_object('version', version, 'watch', coalesce(watch->>'state', 'off'))::text",
        0, nullptr, nullptr, false);
    int m = static_cast<int>(SPI_processed);
    char **payloads = static_cast<char **>(palloc0(sizeof(char *) * (m + 1)));
    for (int i = 0; i < m; ++i) payloads[i] = val(i, 1);
    for (int i = 0; i < m; ++i) publish("migration_finished", payloads[i]);
}

}  // namespace

void run_migration_execution(CycleContext &ctx, core::runtime::Mode mode, SkillOutcome &outcome) {
    if (ctx.read_only) {
        set_text(outcome.note, sizeof outcome.note, "hot standby: migrations are not run");
        return;
    }
    char note[kNoteLen] = {0};
    int crashed = mark_crashed_executors();
    if (crashed > 0)
        snprintf(note, sizeof note, "%d migration(s) marked failed: their executor died", crashed);
    start_pending(note, sizeof note);
    run_watches(mode == core::runtime::Mode::Autonomous, note, sizeof note);
    set_text(outcome.note, sizeof outcome.note, note[0] ? note : "no migration to run or watch");
}

}  // namespace rubberduck::pg
