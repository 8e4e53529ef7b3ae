// The index builder: a short-lived dynamic background worker ("rubberduck index builder") that runs one
// statement that refuses a transaction block, at top level, the way pg_cron runs its jobs (R47) — modelled on
// the migration executor (src/pg/migration/executor_worker.cpp):
//   build   : claims a queued create_index action (waits until the row that asked for it is committed: the
//             agent's cycle or an apply_index_advice() caller), runs its CREATE INDEX CONCURRENTLY with
//             rubberduck.indexing_lock_timeout / indexing_statement_timeout, records 'applied' (+ the after
//             snapshot the verification starts from) and publishes index_applied; on failure drops the
//             INVALID index the build left and records 'failed' with the error;
//   drop    : DROP INDEX CONCURRENTLY of an index a create_index action built (autonomous revert);
//   cleanup : DROP INDEX CONCURRENTLY of INVALID indexes of ours that no live builder works on.
// Why a worker: the agent's skills run inside its cycle's transaction, and a concurrent build waits for every
// older snapshot — including that of whoever waits for it (pg_background #64).
#include "pg/index/index_autonomy.hpp"
#include "pg/shmem/signal_bus.hpp"
#include "pg/workers/agent_process.hpp"
#include "pg/workers/toplevel_statement.hpp"

extern "C" {
#include "access/xact.h"
#include "parser/analyze.h"
#include "postmaster/bgworker.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/json.h"
#include "utils/portal.h"
#include "utils/ps_status.h"
}

namespace rubberduck::pg {
namespace {

constexpr int kJobBuild = 1;
constexpr int kJobDrop = 2;
constexpr int kJobCleanup = 3;
constexpr int kDataPersistenceAgentIndex = 1;  // core/runtime/agent_catalog.h AgentId::DataPersistence
constexpr int kClaimWaitMs = 60 * 1000;        // how long a builder waits for its action row to commit
constexpr int kBuildAttempts = 3;              // tries of a build that hits lock_timeout

struct IndexWorkerArgs {
    int32 job;
    Oid dboid;
    int64 action_id;
};
static_assert(sizeof(IndexWorkerArgs) <= BGW_EXTRALEN, "worker arguments must fit bgw_extra");

MemoryContext worker_context = nullptr;

void set_session(const char *name, const char *value) {
    SetConfigOption(name, value, PGC_SUSET, PGC_S_SESSION);
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

void spi_run(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls = nullptr) {
    int rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
    if (rc < 0)
        elog(ERROR, "rubberduck_agents: SPI_execute failed (%s) for: %s", SPI_result_code_string(rc), sql);
}

char *value_copy(int row, int col) {
    char *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
    return v ? MemoryContextStrdup(worker_context, v) : nullptr;
}

// The index builder runs only ever one CREATE INDEX CONCURRENTLY or DROP INDEX CONCURRENTLY: the text comes
// from a table row.
void check_index_statement(List *raw) {
    if (list_length(raw) != 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("the index builder runs exactly one statement, got %d", list_length(raw))));
    Node *stmt = linitial_node(RawStmt, raw)->stmt;
    bool allowed = (IsA(stmt, IndexStmt) && castNode(IndexStmt, stmt)->concurrent) ||
                   (IsA(stmt, DropStmt) && castNode(DropStmt, stmt)->removeType == OBJECT_INDEX &&
                    castNode(DropStmt, stmt)->concurrent);
    if (!allowed)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("the index builder only runs CREATE INDEX CONCURRENTLY or DROP INDEX CONCURRENTLY")));
}

// Runs `sql` at top level; NULL on success, else the error message (in worker_context).
char *try_toplevel(const char *sql, int *sqlstate = nullptr) {
    MemoryContext old = CurrentMemoryContext;
    char *volatile error = nullptr;
    PG_TRY();
    {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        exec_toplevel(sql, worker_context, 0, check_index_statement);
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(worker_context);
        ErrorData *e = CopyErrorData();
        FlushErrorState();
        AbortCurrentTransaction();
        error = e->detail ? psprintf("%s: %s", e->message, e->detail) : pstrdup(e->message);
        if (sqlstate) *sqlstate = e->sqlerrcode;
        FreeErrorData(e);
    }
    PG_END_TRY();
    MemoryContextSwitchTo(old);
    return error;
}

// rubberduck._index_lock_probe in its own transaction (under the session's lock_timeout); NULL or the error.
char *try_lock_probe(int64 action_id, int *sqlstate) {
    MemoryContext old = CurrentMemoryContext;
    char *volatile error = nullptr;
    PG_TRY();
    {
        begin_txn();
        Oid types[1] = {INT8OID};
        Datum values[1] = {Int64GetDatum(action_id)};
        spi_run("SELECT rubberduck._index_lock_probe($1)", 1, types, values);
        commit_txn();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(worker_context);
        ErrorData *e = CopyErrorData();
        FlushErrorState();
        AbortCurrentTransaction();
        error = pstrdup(e->message);
        *sqlstate = e->sqlerrcode;
        FreeErrorData(e);
    }
    PG_END_TRY();
    MemoryContextSwitchTo(old);
    return error;
}

void set_timeouts(bool build) {
    char v[32];
    snprintf(v, sizeof v, "%dms", index_autonomy_directives.lock_timeout_ms);
    set_session("lock_timeout", v);
    snprintf(v, sizeof v, "%dms", build ? index_autonomy_directives.statement_timeout_ms : 0);
    set_session("statement_timeout", v);
}

// Claims the action through `claim_sql` ($1 = action id); waits while the row is not committed yet.
// Returns true when claimed; the claim's columns stay in SPI-copied strings out1/out2.
bool claim(const char *claim_sql, int64 action_id, char **out1, char **out2) {
    TimestampTz start = GetCurrentTimestamp();
    for (;;) {
        begin_txn();
        Oid types[1] = {INT8OID};
        Datum values[1] = {Int64GetDatum(action_id)};
        spi_run(claim_sql, 1, types, values);
        char *state = value_copy(0, SPI_tuptable->tupdesc->natts);
        *out1 = value_copy(0, 1);
        *out2 = SPI_tuptable->tupdesc->natts > 2 ? value_copy(0, 2) : nullptr;
        commit_txn();
        if (state && strcmp(state, "claimed") == 0) return true;
        if (state && strcmp(state, "done") == 0) return false;
        if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(), kClaimWaitMs)) {
            ereport(LOG, (errmsg("rubberduck_agents: index action " INT64_FORMAT
                                 " was not committed within %d s; the agent will start it again",
                                 action_id, kClaimWaitMs / 1000)));
            return false;
        }
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 200, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}

bool index_is_invalid(const char *index) {
    begin_txn();
    Oid types[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(index)};
    spi_run(
        "SELECT NOT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid = pg_catalog.to_regclass($1)",
        1, types, values);
    bool invalid = false;
    if (SPI_processed == 1) {
        bool isnull;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        invalid = !isnull && DatumGetBool(d);
    }
    commit_txn();
    return invalid;
}

void build_job(int64 action_id) {
    char *sql = nullptr, *index = nullptr;
    if (!claim("SELECT sql, index, state FROM rubberduck._index_build_claim($1)", action_id, &sql, &index))
        return;
    // rubberduck.indexing_lock_timeout bounds the wait for the table lock (a probe right before the build; a
    // timeout is retried twice after a pause). The build itself runs with lock_timeout = 0: its waits for
    // older transactions (VirtualXactLock) block no one and would otherwise fail it whenever any session —
    // an agent's cycle included — holds a snapshot a little longer; statement_timeout bounds them.
    char *error = nullptr;
    double ms = 0;
    for (int attempt = 1; attempt <= kBuildAttempts; ++attempt) {
        set_timeouts(true);
        int sqlstate = 0;
        TimestampTz start = GetCurrentTimestamp();
        error = try_lock_probe(action_id, &sqlstate);
        if (!error) {
            set_session("lock_timeout", "0");  // the build's waits for older transactions: statement_timeout
            error = try_toplevel(sql, &sqlstate);
        }
        ms = static_cast<double>(GetCurrentTimestamp() - start) / 1000.0;
        set_timeouts(false);
        if (!error || sqlstate != ERRCODE_LOCK_NOT_AVAILABLE || attempt == kBuildAttempts) break;
        if (index && index_is_invalid(index)) {
            set_session("lock_timeout", "60s");
            (void)try_toplevel(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", index));
            set_timeouts(false);
        }
        ereport(LOG, (errmsg("rubberduck_agents: building index %s: %s (attempt %d of %d); retrying", index,
                             error, attempt, kBuildAttempts)));
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000 * attempt,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
    if (!error) {
        begin_txn();
        Oid types[2] = {INT8OID, FLOAT8OID};
        Datum values[2] = {Int64GetDatum(action_id), Float8GetDatum(ms)};
        spi_run("SELECT rubberduck._index_build_done($1, $2)::text", 2, types, values);
        char *payload = value_copy(0, 1);
        commit_txn();
        (void)publish_signal(kDataPersistenceAgentIndex, kSignalBroadcast, "index_applied",
                             payload ? payload : "{}");
        ereport(LOG, (errmsg("rubberduck_agents: built index %s in %.0f ms (action " INT64_FORMAT ")", index,
                             ms, action_id)));
        return;
    }
    // A failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind: drop it (ours by name).
    if (index && index_is_invalid(index)) {
        set_session("lock_timeout", "60s");
        char *drop_error = try_toplevel(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", index));
        MemoryContext old = MemoryContextSwitchTo(worker_context);
        error = drop_error ? psprintf("%s; dropping the INVALID index %s failed too (%s): the agent retries",
                                      error, index, drop_error)
                           : psprintf("%s (the INVALID index %s it left was dropped)", error, index);
        MemoryContextSwitchTo(old);
        set_timeouts(false);
    }
    begin_txn();
    Oid types[2] = {INT8OID, TEXTOID};
    Datum values[2] = {Int64GetDatum(action_id), CStringGetTextDatum(error)};
    spi_run("SELECT rubberduck._index_build_failed($1, $2)", 2, types, values);
    commit_txn();
    ereport(LOG, (errmsg("rubberduck_agents: building index %s failed (action " INT64_FORMAT "): %s",
                         index ? index : "?", action_id, error)));
}

void drop_job(int64 action_id) {
    char *index = nullptr, *unused = nullptr;
    if (!claim("SELECT index, state FROM rubberduck._index_drop_claim($1)", action_id, &index, &unused))
        return;
    set_timeouts(false);
    char *error = try_toplevel(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", index));
    begin_txn();
    Oid types[2] = {INT8OID, TEXTOID};
    Datum values[2] = {Int64GetDatum(action_id), error ? CStringGetTextDatum(error) : (Datum)0};
    char nulls[3] = {' ', error ? ' ' : 'n', '\0'};
    spi_run("SELECT rubberduck._index_drop_done($1, $2)", 2, types, values, nulls);
    commit_txn();
    if (!error) {
        StringInfoData payload;
        initStringInfo(&payload);
        appendStringInfo(&payload, "{\"action_id\": " INT64_FORMAT ", \"index\": ", action_id);
        escape_json(&payload, index);
        appendStringInfoChar(&payload, '}');
        (void)publish_signal(kDataPersistenceAgentIndex, kSignalBroadcast, "index_dropped", payload.data);
    }
    ereport(LOG, (errmsg("rubberduck_agents: dropping index %s (action " INT64_FORMAT ") %s%s", index,
                         action_id, error ? "failed: " : "done", error ? error : "")));
}

void cleanup_job() {
    begin_txn();
    spi_run("SELECT index, action_id FROM rubberduck._index_invalid_leftovers() ORDER BY 1", 0, nullptr,
            nullptr);
    int n = static_cast<int>(SPI_processed);
    char **indexes = static_cast<char **>(MemoryContextAllocZero(worker_context, sizeof(char *) * (n + 1)));
    char **actions = static_cast<char **>(MemoryContextAllocZero(worker_context, sizeof(char *) * (n + 1)));
    for (int i = 0; i < n; ++i) {
        indexes[i] = value_copy(i, 1);
        actions[i] = value_copy(i, 2);
    }
    commit_txn();
    set_session("lock_timeout", "60s");
    for (int i = 0; i < n; ++i) {
        char *error = try_toplevel(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", indexes[i]));
        if (error) {
            ereport(LOG, (errmsg("rubberduck_agents: dropping the INVALID index %s failed: %s", indexes[i],
                                 error)));
            continue;
        }
        begin_txn();
        Oid types[1] = {INT8OID};
        Datum values[1] = {DirectFunctionCall1(int8in, CStringGetDatum(actions[i]))};
        spi_run(
            "UPDATE rubberduck.actions SET detail = detail || jsonb_build_object('invalid_dropped_at', "
            "now()) "
            "WHERE id = $1",
            1, types, values);
        commit_txn();
        ereport(LOG, (errmsg("rubberduck_agents: dropped the INVALID index %s left by action %s", indexes[i],
                             actions[i])));
    }
}

}  // namespace

int launch_index_worker(int64_t action_id, const char *job) {
    IndexWorkerArgs args;
    memset(&args, 0, sizeof args);
    args.job = strcmp(job, "build") == 0     ? kJobBuild
               : strcmp(job, "drop") == 0    ? kJobDrop
               : strcmp(job, "cleanup") == 0 ? kJobCleanup
                                             : 0;
    if (args.job == 0)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unknown index worker job \"%s\"", job),
                 errhint("Use build, drop or cleanup.")));
    args.dboid = MyDatabaseId;
    args.action_id = action_id;
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "rubberduck_agents");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "rubberduck_index_worker_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "rubberduck index builder");
    snprintf(worker.bgw_type, BGW_MAXLEN, "rubberduck index builder");
    worker.bgw_main_arg = Int32GetDatum(args.job);
    worker.bgw_notify_pid = MyProcPid;
    memcpy(worker.bgw_extra, &args, sizeof args);
    BackgroundWorkerHandle *handle = nullptr;
    if (!RegisterDynamicBackgroundWorker(&worker, &handle)) return 0;
    pid_t pid = 0;
    if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED) return 0;
    return static_cast<int>(pid);
}

}  // namespace rubberduck::pg

using namespace rubberduck::pg;

extern "C" {
PG_FUNCTION_INFO_V1(rubberduck_index_launch_worker);
}

// rubberduck._index_launch_worker(action_id bigint, job text) -> pid, or NULL when no worker could start.
extern "C" Datum rubberduck_index_launch_worker(PG_FUNCTION_ARGS) {
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("job must not be null")));
    int64 action_id = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT64(0);
    char *job = text_to_cstring(PG_GETARG_TEXT_PP(1));
    int pid = launch_index_worker(action_id, job);
    if (pid == 0) PG_RETURN_NULL();
    PG_RETURN_INT32(pid);
}

RD_EXPORT void rubberduck_index_worker_main(Datum) {
    IndexWorkerArgs args;
    memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof args);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    in_agent_process = true;  // our hooks skip the builder's statements
    BackgroundWorkerInitializeConnectionByOid(args.dboid, InvalidOid, 0);
    if (args.job == kJobCleanup)
        pgstat_report_appname("rubberduck index cleanup");
    else
        pgstat_report_appname(psprintf("rubberduck index action " INT64_FORMAT, args.action_id));
    worker_context =
        AllocSetContextCreate(TopMemoryContext, "rubberduck index builder", ALLOCSET_DEFAULT_SIZES);
    set_session("search_path", "pg_catalog, pg_temp");
    set_session("max_parallel_maintenance_workers", "0");
    if (args.job == kJobBuild)
        build_job(args.action_id);
    else if (args.job == kJobDrop)
        drop_job(args.action_id);
    else if (args.job == kJobCleanup)
        cleanup_job();
    proc_exit(0);
}
