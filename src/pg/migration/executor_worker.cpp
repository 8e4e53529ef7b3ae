// The migration executor: a short-lived dynamic background worker ("rubberduck migration executor") that
//   mode 1 (ledger): writes one ledger row in its own transaction — how a synchronous migrate() that failed
//          leaves a 'failed' row behind although its own transaction aborts (the row arrives through a DSM
//          segment; the caller waits for the worker to exit);
//   mode 2 (execute): runs a queued migration (status pending; up, or down for a queued rollback) outside any
//          transaction block, started by the migration agent's skill: consecutive transactional statements as
//          one transaction each (lock_timeout, retries, integrity checks as in migrate()), statements that
//          refuse a transaction block (CREATE INDEX CONCURRENTLY, ...) one by one as top-level statements the
//          way pg_cron runs its jobs (cpp-in-postgres.md R47), with the INVALID index a failed concurrent
//          build leaves behind dropped before a retry or the failure is recorded.
// Why a worker and not the agent itself: the agent's skills run inside the cycle's transaction, and a caller
// of migrate() must never wait for a concurrent build from inside its own transaction (the build waits for
// that transaction's snapshot: pg_background #64).
#include <string>
#include <vector>

#include "core/migration/execution.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/migration/executor.hpp"
#include "pg/shmem/signal_bus.hpp"
#include "pg/workers/agent_process.hpp"
#include "pg/workers/toplevel_statement.hpp"

extern "C" {
#include "access/xact.h"
#include "parser/analyze.h"
#include "utils/acl.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/portal.h"
#include "utils/ps_status.h"
}

namespace rubberduck::pg::migration {

namespace cm = core::migration;

namespace {

constexpr int kModeLedger = 1;
constexpr int kModeExecute = 2;

struct WorkerArgs {
    int32 mode;
    Oid dboid;
    Oid roleoid;
    uint32 dsm_handle;
    char version[64];
};
static_assert(sizeof(WorkerArgs) <= BGW_EXTRALEN, "worker arguments must fit bgw_extra");

struct LedgerMessage {
    int32 status;  // 0 = not done, 1 = written
    char json[FLEXIBLE_ARRAY_MEMBER];
};

bool start_worker(const WorkerArgs &args, BackgroundWorkerHandle **handle, bool notify_me) {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "rubberduck_agents");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "rubberduck_migration_worker_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "rubberduck migration executor");
    snprintf(worker.bgw_type, BGW_MAXLEN, "rubberduck migration executor");
    worker.bgw_main_arg = Int32GetDatum(args.mode);
    worker.bgw_notify_pid = notify_me ? MyProcPid : 0;
    memcpy(worker.bgw_extra, &args, sizeof args);
    return RegisterDynamicBackgroundWorker(&worker, handle);
}

}  // namespace

bool record_ledger_out_of_band(const char *row_json) {
    size_t len = strlen(row_json);
    dsm_segment *seg = dsm_create(offsetof(LedgerMessage, json) + len + 1, 0);
    auto *msg = static_cast<LedgerMessage *>(dsm_segment_address(seg));
    msg->status = 0;
    memcpy(msg->json, row_json, len + 1);
    WorkerArgs args;
    memset(&args, 0, sizeof args);
    args.mode = kModeLedger;
    args.dboid = MyDatabaseId;
    args.roleoid =
        InvalidOid;  // the bootstrap superuser: it only writes the row this (admin) caller computed
    args.dsm_handle = dsm_segment_handle(seg);
    BackgroundWorkerHandle *handle = nullptr;
    bool ok = start_worker(args, &handle, true);
    if (ok) {
        pid_t pid;
        if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED)
            (void)WaitForBackgroundWorkerShutdown(handle);
        ok = msg->status == 1;
    }
    dsm_detach(seg);
    return ok;
}

bool launch_executor(const char *version, Oid dboid, const char *role, int *pid_out) {
    WorkerArgs args;
    memset(&args, 0, sizeof args);
    args.mode = kModeExecute;
    args.dboid = dboid;
    args.roleoid = role ? get_role_oid(role, true) : InvalidOid;
    if (role && !OidIsValid(args.roleoid)) return false;
    strlcpy(args.version, version, sizeof args.version);
    BackgroundWorkerHandle *handle = nullptr;
    if (!start_worker(args, &handle, true)) return false;
    pid_t pid = 0;
    if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED) return false;
    if (pid_out) *pid_out = pid;
    return true;
}

namespace {

MemoryContext worker_context = nullptr;

// The queued migration, copied into worker_context (survives the transactions).
struct Job {
    char *version;
    char *requested;  // "up" | "down"
    char *sql;        // up_sql or down_sql
    char *options_json;
    char *search_path;
    MigPlan plan;
    int nseg;
    int *seg_first, *seg_last;
    bool *seg_top;
};

void spi_run(const char *sql, int nargs, Oid *types, Datum *values, bool ro) {
    (void)ro;  // fresh snapshot for every query (see executor.cpp spi_exec)
    int rc = SPI_execute_with_args(sql, nargs, types, values, nullptr, false, 0);
    if (rc < 0)
        elog(ERROR, "rubberduck_agents: SPI_execute failed (%s) for: %s", SPI_result_code_string(rc), sql);
}

void begin_txn() {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    SPI_connect();
    PushActiveSnapshot(GetTransactionSnapshot());
}

void commit_txn() {
    PopActiveSnapshot();
    SPI_finish();
    CommitTransactionCommand();
}

// Claims the pending row; false when there is nothing to do.
bool claim(const char *version, Job *job) {
    begin_txn();
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(version)};
    spi_run(
        "UPDATE rubberduck.migrations SET status = 'running', started_at = clock_timestamp(), "
        "executor_pid = pg_catalog.pg_backend_pid(), error = NULL "
        "WHERE version = $1 AND status = 'pending' "
        "RETURNING requested, CASE requested WHEN 'up' THEN up_sql ELSE down_sql END, options::text, "
        "coalesce(progress->>'search_path', '\"$user\", public')",
        1, types, values, false);
    bool found = SPI_processed == 1;
    if (found) {
        MemoryContext old = MemoryContextSwitchTo(worker_context);
        job->version = pstrdup(version);
        job->requested = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
        job->sql = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
        job->options_json = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
        job->search_path = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
        MemoryContextSwitchTo(old);
    }
    commit_txn();
    if (!found) return false;
    MemoryContext old = MemoryContextSwitchTo(worker_context);
    plan_migration(job->sql ? job->sql : "", &job->plan);
    // Segments from the core's planner: consecutive transactional statements together, top-level ones alone.
    std::vector<cm::Segment> *segs = nullptr;
    cpp_guard([&] {
        std::vector<cm::PlannedStatement> st;
        for (int i = 0; i < job->plan.n; ++i)
            st.push_back({i + 1, job->plan.stmts[i].sql, job->plan.stmts[i].top_level,
                          job->plan.stmts[i].txn_control});
        segs = new std::vector<cm::Segment>(cm::plan_segments(st));
    });
    job->nseg = static_cast<int>(segs->size());
    job->seg_first = static_cast<int *>(palloc0(sizeof(int) * (job->nseg + 1)));
    job->seg_last = static_cast<int *>(palloc0(sizeof(int) * (job->nseg + 1)));
    job->seg_top = static_cast<bool *>(palloc0(sizeof(bool) * (job->nseg + 1)));
    for (int s = 0; s < job->nseg; ++s) {
        const auto &seg = (*segs)[s];
        job->seg_first[s] = seg.statements.front().statement_no - 1;
        job->seg_last[s] = seg.statements.back().statement_no;
        job->seg_top[s] = seg.top_level;
    }
    delete segs;
    MemoryContextSwitchTo(old);
    return true;
}

char *invalid_indexes_snapshot() {
    begin_txn();
    spi_run(
        "SELECT coalesce(array_agg(indexrelid), '{}')::text FROM pg_catalog.pg_index WHERE NOT indisvalid", 0,
        nullptr, nullptr, true);
    char *v =
        MemoryContextStrdup(worker_context, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
    commit_txn();
    return v;
}

// Drops INVALID indexes that appeared since `before` (a failed concurrent build's leftover).
void drop_invalid_leftovers(const char *before, StringInfo dropped) {
    begin_txn();
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(before)};
    spi_run(
        "SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %s', indexrelid::regclass) FROM "
        "pg_catalog.pg_index "
        "WHERE NOT indisvalid AND NOT (indexrelid = ANY ($1::oid[]))",
        1, types, values, true);
    int n = static_cast<int>(SPI_processed);
    char **stmts = static_cast<char **>(MemoryContextAllocZero(worker_context, sizeof(char *) * (n + 1)));
    for (int i = 0; i < n; ++i)
        stmts[i] = MemoryContextStrdup(worker_context,
                                       SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
    commit_txn();
    for (int i = 0; i < n; ++i) {
        StartTransactionCommand();
        exec_toplevel(stmts[i], worker_context, CURSOR_OPT_PARALLEL_OK);
        CommitTransactionCommand();
        appendStringInfo(dropped, "%s%s", dropped->len ? "; " : "", stmts[i]);
    }
}

void set_session(const char *name, const char *value) {
    SetConfigOption(name, value, PGC_SUSET, PGC_S_SESSION);
}

void record_progress(const Job *job, int done) {
    Oid types[2] = {TEXTOID, INT4OID};
    Datum values[2] = {CStringGetTextDatum(job->version), Int32GetDatum(done)};
    spi_run(
        "UPDATE rubberduck.migrations SET progress = progress || jsonb_build_object('statements_done', $2) "
        "WHERE version = $1",
        2, types, values, false);
}

void record_failure(const Job *job, const char *error, int attempts) {
    begin_txn();
    Oid types[3] = {TEXTOID, TEXTOID, INT4OID};
    Datum values[3] = {CStringGetTextDatum(job->version), CStringGetTextDatum(error),
                       Int32GetDatum(attempts)};
    spi_run(
        "UPDATE rubberduck.migrations SET status = CASE WHEN requested = 'down' THEN 'failed' ELSE 'failed' "
        "END, "
        "error = CASE WHEN requested = 'down' THEN 'rollback failed: ' ELSE '' END || $2, "
        "finished_at = clock_timestamp(), executor_pid = NULL, "
        "progress = progress || jsonb_build_object('attempts', $3) WHERE version = $1",
        3, types, values, false);
    commit_txn();
    ereport(LOG, (errmsg("rubberduck_agents: migration \"%s\" failed: %s", job->version, error)));
}

char *copy_error(ErrorData *e) {
    MemoryContext old = MemoryContextSwitchTo(worker_context);
    char *s = e->detail ? psprintf("%s: %s", e->message, e->detail) : pstrdup(e->message);
    if (e->context) s = psprintf("%s (%s)", s, e->context);
    MemoryContextSwitchTo(old);
    return s;
}

// One transactional segment in its own transaction. Returns NULL on success or the error (sqlstate out).
char *run_segment_txn(const Job *job, int s, int *done, int *sqlstate, double *elapsed) {
    MemoryContext old = CurrentMemoryContext;
    char *volatile error = nullptr;
    PG_TRY();
    {
        begin_txn();
        MigOptions opts;
        read_options(job->options_json, &opts);
        if (strcmp(job->requested, "down") == 0) {
            opts.expect_any = true;
            opts.allow_not_valid = true;
        }
        StringInfoData text;
        initStringInfo(&text);
        for (int i = job->seg_first[s]; i < job->seg_last[s]; ++i)
            if (!job->plan.stmts[i].txn_control) appendStringInfo(&text, "%s;\n", job->plan.stmts[i].sql);
        MigAnalysis analysis;
        normalize_expected_tables(&opts, job->search_path);
        analyze_for_execution(text.data, &opts, job->search_path, &analysis);
        SegmentReport report;
        run_transactional_statements(&job->plan, job->seg_first[s], job->seg_last[s], &analysis, &opts,
                                     job->search_path, &report);
        *done += report.statements;
        *elapsed += report.elapsed_ms;
        record_progress(job, *done);
        commit_txn();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(worker_context);
        ErrorData *e = CopyErrorData();
        FlushErrorState();
        AbortCurrentTransaction();
        *sqlstate = e->sqlerrcode;
        error = copy_error(e);
        FreeErrorData(e);
    }
    PG_END_TRY();
    MemoryContextSwitchTo(old);
    return error;
}

// One top-level statement. Returns NULL on success or the error.
char *run_toplevel_stmt(const Job *job, int i, int lock_timeout_ms, int *sqlstate, double *elapsed) {
    MemoryContext old = CurrentMemoryContext;
    char *volatile error = nullptr;
    char *invalid_before = invalid_indexes_snapshot();
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%dms", lock_timeout_ms);
    TimestampTz start = GetCurrentTimestamp();
    PG_TRY();
    {
        set_session("lock_timeout", timeout);
        set_session("search_path", job->search_path);
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        exec_toplevel(job->plan.stmts[i].sql, worker_context, CURSOR_OPT_PARALLEL_OK);
        CommitTransactionCommand();
        set_session("search_path", "pg_catalog, pg_temp");
        *elapsed += ms_since(start);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(worker_context);
        ErrorData *e = CopyErrorData();
        FlushErrorState();
        AbortCurrentTransaction();
        set_session("search_path", "pg_catalog, pg_temp");
        *sqlstate = e->sqlerrcode;
        error = psprintf("statement %d: %s", job->plan.stmts[i].no, copy_error(e));
        FreeErrorData(e);
    }
    PG_END_TRY();
    if (error) {
        // A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind: drop it now.
        set_session("lock_timeout", "60s");
        StringInfoData dropped;
        initStringInfo(&dropped);
        PG_TRY();
        { drop_invalid_leftovers(invalid_before, &dropped); }
        PG_CATCH();
        {
            MemoryContextSwitchTo(worker_context);
            ErrorData *e = CopyErrorData();
            FlushErrorState();
            AbortCurrentTransaction();
            error = psprintf("%s; cleaning up the INVALID index failed too: %s", error, e->message);
            FreeErrorData(e);
        }
        PG_END_TRY();
        if (dropped.len) error = psprintf("%s (cleaned up: %s)", error, dropped.data);
    }
    MemoryContextSwitchTo(old);
    return error;
}

int job_lock_timeout(const Job *job, int *retries) {
    begin_txn();
    MigOptions opts;
    read_options(job->options_json, &opts);
    commit_txn();
    *retries = opts.lock_retries;
    return opts.lock_timeout_ms;
}

void finish_job(const Job *job, int done, double elapsed, int attempts) {
    begin_txn();
    bool up = strcmp(job->requested, "up") == 0;
    char *watch = pstrdup("{}");
    if (up) {
        MigOptions opts;
        read_options(job->options_json, &opts);
        MigAnalysis analysis;
        analyze_for_execution(job->sql, &opts, job->search_path, &analysis);
        watch = watch_baseline_json(&analysis, &opts);
    }
    Oid types[5] = {TEXTOID, FLOAT8OID, TEXTOID, INT4OID, INT4OID};
    Datum values[5] = {CStringGetTextDatum(job->version), Float8GetDatum(elapsed), CStringGetTextDatum(watch),
                       Int32GetDatum(done), Int32GetDatum(attempts)};
    if (up)
        spi_run(
            "UPDATE rubberduck.migrations SET status = 'applied', finished_at = clock_timestamp(), "
            "actual_ms = $2, watch = $3::jsonb, executor_pid = NULL, "
            "progress = progress || jsonb_build_object('statements_done', $4, 'attempts', $5) WHERE version "
            "= $1",
            5, types, values, false);
    else
        spi_run(
            "UPDATE rubberduck.migrations SET status = 'rolled_back', rolled_back_at = clock_timestamp(), "
            "executor_pid = NULL, watch = watch || '{\"state\": \"stopped\"}' WHERE version = $1",
            5, types, values, false);
    commit_txn();
    if (!up) {
        char payload[256];
        snprintf(payload, sizeof payload, "{\"version\": \"%s\", \"by\": \"executor\"}", job->version);
        (void)publish_signal(kMigrationAgentIndex, kSignalBroadcast, "migration_rolled_back", payload);
    }
    ereport(LOG, (errmsg("rubberduck_agents: migration \"%s\" %s (%d statements, %.1f ms)", job->version,
                         up ? "applied" : "rolled back", done, elapsed)));
}

void execute_job(const char *version) {
    Job job{};
    if (!claim(version, &job)) return;
    int retries = 0;
    int lock_timeout_ms = job_lock_timeout(&job, &retries);
    cm::RetryPolicy policy;
    policy.retries = retries;
    int done = 0, total_attempts = 0;
    double elapsed = 0;
    for (int s = 0; s < job.nseg; ++s) {
        for (int attempt = 1;; ++attempt) {
            total_attempts++;
            int sqlstate = 0;
            char *error = job.seg_top[s] ? run_toplevel_stmt(&job, job.seg_first[s], lock_timeout_ms,
                                                             &sqlstate, &elapsed)
                                         : run_segment_txn(&job, s, &done, &sqlstate, &elapsed);
            if (!error) {
                if (job.seg_top[s]) {
                    done++;
                    begin_txn();
                    record_progress(&job, done);
                    commit_txn();
                }
                break;
            }
            bool retry = false;
            const char *state = unpack_sql_state(sqlstate);
            cpp_guard([&] { retry = cm::should_retry(policy, attempt, state); });
            if (!retry) {
                if (done > 0)
                    error = psprintf("%s; %d statement%s before it stay applied", error, done,
                                     done == 1 ? "" : "s");
                record_failure(&job, error, total_attempts);
                return;
            }
            int wait = 0;
            double unit = static_cast<double>(random() % 1000) / 999.0;
            cpp_guard([&] { wait = cm::backoff_delay_ms(policy, attempt, unit); });
            ereport(LOG,
                    (errmsg("rubberduck_agents: migration \"%s\" attempt %d failed (%s); retrying in %d ms",
                            job.version, attempt, error, wait)));
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait,
                            PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
            CHECK_FOR_INTERRUPTS();
        }
    }
    finish_job(&job, done, elapsed, total_attempts);
}

void ledger_job(uint32 handle) {
    dsm_segment *seg = dsm_attach(handle);
    if (!seg) return;
    auto *msg = static_cast<LedgerMessage *>(dsm_segment_address(seg));
    // The caller waits for us: never wait long on a row lock it may hold itself (e.g. an uncommitted
    // rollback_migration() of the same version earlier in its transaction); fail and let it warn instead.
    set_session("lock_timeout", "5s");
    begin_txn();
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(msg->json)};
    spi_run("SELECT rubberduck._migration_record($1::jsonb)", 1, types, values, false);
    commit_txn();
    msg->status = 1;
    dsm_detach(seg);
}

}  // namespace

void register_migration_exec() {
    define_migration_exec_directives();
}

}  // namespace rubberduck::pg::migration

using namespace rubberduck::pg;
using namespace rubberduck::pg::migration;

RD_EXPORT void rubberduck_migration_worker_main(Datum) {
    WorkerArgs args;
    memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof args);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    in_agent_process = true;  // our hooks skip the executor's statements
    BackgroundWorkerInitializeConnectionByOid(args.dboid, args.roleoid, 0);
    pgstat_report_appname("rubberduck migration executor");
    worker_context =
        AllocSetContextCreate(TopMemoryContext, "rubberduck migration executor", ALLOCSET_DEFAULT_SIZES);
    set_session("search_path", "pg_catalog, pg_temp");
    if (args.mode == kModeLedger)
        ledger_job(args.dsm_handle);
    else if (args.mode == kModeExecute)
        execute_job(args.version);
    proc_exit(0);
}
