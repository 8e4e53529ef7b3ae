// The agent side of autonomous indexing (see index_autonomy.hpp), once per cycle of the indexing skill:
//  1. housekeeping (any mode but observe): builds whose worker died are failed, queued work whose worker is
//     not running is started again, INVALID indexes of ours are cleaned (rubberduck._index_autonomy_tick);
//  2. verification (any mode but observe, also for apply_index_advice builds): after the verify window the
//     core verdict keeps, waits or reverts — the revert is carried out (DROP INDEX CONCURRENTLY) only in
//     autonomous mode; in advise mode it is recorded as 'revert_advised' for the administrator;
//  3. autonomous mode only: pre-windows that ended are queued for building; when no change is in progress
//     and the maintenance window allows, the apply policy picks the next advised index and its pre-window
//     starts (the "before" latency is measured over as long as the verify window).
// PG regime throughout; the core decisions run under cpp_guard with POD inputs (R9, R11).
#include <string>
#include <vector>

#include "core/index/index_autonomy.h"
#include "core/index/maintenance_window.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/catalog/spi_values.hpp"
#include "pg/guc/index_directives.hpp"
#include "pg/index/index_autonomy.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/resowner.h"
}

namespace rubberduck::pg {
namespace {

namespace ci = core::index;
namespace rt = core::runtime;

constexpr int kMaxVerifyRows = 512;
constexpr int kMaxAdvised = 256;

struct VerifyRow {
    int64 queryid;
    bool affected, write;
    double before_calls, before_ms, after_calls, after_ms;
};

struct Verdict {
    int verdict;  // 0 keep, 1 revert, 2 wait
    char reason[512];
    double before_ms, after_ms;
};

void exec(const char *sql, int nargs = 0, Oid *types = nullptr, Datum *values = nullptr) {
    int rc = SPI_execute_with_args(sql, nargs, types, values, nullptr, false, 0);
    if (rc < 0) elog(ERROR, "index autonomy: query failed (%s): %s", SPI_result_code_string(rc), sql);
}

void launch_and_record(int64 action_id, const char *job, int *launched) {
    int pid = launch_index_worker(action_id, job);
    if (pid == 0) {
        ereport(LOG,
                (errmsg("rubberduck_agents: could not start an index %s worker (no background worker slot); "
                        "retrying at a later cycle",
                        job)));
        return;
    }
    (*launched)++;
    if (action_id == 0) return;
    Oid types[2] = {INT8OID, INT4OID};
    Datum values[2] = {Int64GetDatum(action_id), Int32GetDatum(pid)};
    exec("SELECT rubberduck._index_launched($1, $2)", 2, types, values);
}

int housekeeping() {
    Oid types[1] = {FLOAT8OID};
    Datum values[1] = {Float8GetDatum(static_cast<double>(index_autonomy_directives.retry_after_s))};
    exec("SELECT action_id, job FROM rubberduck._index_autonomy_tick($1)", 1, types, values);
    int n = static_cast<int>(SPI_processed);
    auto *ids = static_cast<int64 *>(palloc0(sizeof(int64) * (n + 1)));
    auto **jobs = static_cast<char **>(palloc0(sizeof(char *) * (n + 1)));
    for (int i = 0; i < n; ++i) {
        ids[i] = spi_int8(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        jobs[i] = pstrdup(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
    }
    int launched = 0;
    for (int i = 0; i < n; ++i) launch_and_record(ids[i], jobs[i], &launched);
    return launched;
}

Verdict judge(const VerifyRow *rows, int n, int extensions) {
    Verdict v{};
    cpp_guard([&] {
        std::vector<ci::VerifyQuery> qs;
        for (int i = 0; i < n; ++i) {
            ci::VerifyQuery q;
            q.queryid = rows[i].queryid;
            q.affected = rows[i].affected;
            q.write = rows[i].write;
            q.before_calls = rows[i].before_calls;
            q.before_total_ms = rows[i].before_ms;
            q.after_calls = rows[i].after_calls;
            q.after_total_ms = rows[i].after_ms;
            qs.push_back(q);
        }
        ci::VerifyOptions o;
        o.min_improvement = index_autonomy_directives.verify_min_improvement;
        o.regression_threshold = index_autonomy_directives.regression_threshold;
        o.min_calls = index_autonomy_directives.verify_min_calls;
        ci::VerifyResult r = ci::verify_index(qs, o, extensions);
        v.verdict = r.verdict == ci::VerifyVerdict::kKeep     ? 0
                    : r.verdict == ci::VerifyVerdict::kRevert ? 1
                                                              : 2;
        copy_message(v.reason, sizeof v.reason, r.reason.c_str());
        v.before_ms = r.before_ms;
        v.after_ms = r.after_ms;
    });
    return v;
}

int verify_due(bool autonomous, int *launched) {
    Oid types[1] = {FLOAT8OID};
    Datum values[1] = {Float8GetDatum(static_cast<double>(index_directives.verify_window_s))};
    exec(
        "SELECT id, coalesce((detail->>'extensions')::int, 0) FROM rubberduck.actions "
        "WHERE action = 'create_index' AND skill = 'indexing' AND status = 'applied' "
        "AND detail->>'phase' = 'verifying' AND (detail->>'built_at')::timestamptz + "
        "pg_catalog.make_interval(secs => $1 * (1 + coalesce((detail->>'extensions')::int, 0))) <= now() "
        "ORDER BY id LIMIT 4",
        1, types, values);
    int n = static_cast<int>(SPI_processed);
    auto *ids = static_cast<int64 *>(palloc0(sizeof(int64) * (n + 1)));
    auto *ext = static_cast<int *>(palloc0(sizeof(int) * (n + 1)));
    for (int i = 0; i < n; ++i) {
        ids[i] = spi_int8(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        ext[i] = spi_int4(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
    }
    for (int i = 0; i < n; ++i) {
        Oid t1[1] = {INT8OID};
        Datum v1[1] = {Int64GetDatum(ids[i])};
        exec(
            "SELECT queryid, affected, write, before_calls, before_total_ms, after_calls, after_total_ms "
            "FROM rubberduck._index_verify_rows($1) ORDER BY affected DESC, after_calls DESC LIMIT 512",
            1, t1, v1);
        int m = static_cast<int>(SPI_processed);
        auto *rows = static_cast<VerifyRow *>(palloc0(sizeof(VerifyRow) * (m + 1)));
        for (int k = 0; k < m && k < kMaxVerifyRows; ++k) {
            HeapTuple t = SPI_tuptable->vals[k];
            TupleDesc d = SPI_tuptable->tupdesc;
            rows[k] = {spi_int8(t, d, 1),   spi_bool(t, d, 2),   spi_bool(t, d, 3),  spi_float8(t, d, 4),
                       spi_float8(t, d, 5), spi_float8(t, d, 6), spi_float8(t, d, 7)};
        }
        Verdict v = judge(rows, m, ext[i]);
        const char *verdict = v.verdict == 0   ? "keep"
                              : v.verdict == 2 ? "wait"
                              : autonomous     ? "revert"
                                               : "revert_advised";
        Oid t5[5] = {INT8OID, TEXTOID, TEXTOID, FLOAT8OID, FLOAT8OID};
        Datum v5[5] = {Int64GetDatum(ids[i]), CStringGetTextDatum(verdict), CStringGetTextDatum(v.reason),
                       Float8GetDatum(v.before_ms), Float8GetDatum(v.after_ms)};
        char nulls[6] = "     ";
        if (v.before_ms < 0) nulls[3] = 'n';
        if (v.after_ms < 0) nulls[4] = 'n';
        if (SPI_execute_with_args("SELECT rubberduck._index_verdict($1, $2, $3, $4, $5)", 5, t5, v5, nulls,
                                  false, 0) < 0)
            elog(ERROR, "index autonomy: could not record the verdict");
        ereport(LOG, (errmsg("rubberduck_agents: index action " INT64_FORMAT " verdict %s: %s", ids[i],
                             verdict, v.reason)));
        if (strcmp(verdict, "revert") == 0) launch_and_record(ids[i], "drop", launched);
    }
    return n;
}

bool in_maintenance_window() {
    exec("SELECT (extract(hour FROM localtimestamp) * 60 + extract(minute FROM localtimestamp))::int4");
    int minute = spi_int4(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    const char *text = index_directives.maintenance_window ? index_directives.maintenance_window : "";
    bool inside = true;
    cpp_guard([&] { inside = ci::parse_maintenance_window(text).contains(minute); });
    return inside;
}

// Pre-windows that ended: queue the build.
int queue_measured(bool window_open, int *launched) {
    if (!window_open) return 0;
    exec(
        "SELECT id FROM rubberduck.actions WHERE action = 'create_index' AND skill = 'indexing' "
        "AND status = 'proposed' AND detail->>'phase' = 'measuring' "
        "AND (detail->>'measure_until')::timestamptz <= now() ORDER BY id");
    int n = static_cast<int>(SPI_processed);
    auto *ids = static_cast<int64 *>(palloc0(sizeof(int64) * (n + 1)));
    for (int i = 0; i < n; ++i) ids[i] = spi_int8(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
    for (int i = 0; i < n; ++i) {
        Oid types[1] = {INT8OID};
        Datum values[1] = {Int64GetDatum(ids[i])};
        exec("SELECT rubberduck._index_queue($1)", 1, types, values);
        launch_and_record(ids[i], "build", launched);
    }
    return n;
}

// Leaving autonomous mode cancels pre-windows the agent started (nothing was built yet).
void cancel_measuring() {
    exec(
        "SELECT rubberduck._index_build_failed(id, 'cancelled before the build: the indexing skill is no "
        "longer "
        "autonomous') FROM rubberduck.actions WHERE action = 'create_index' AND skill = 'indexing' "
        "AND status = 'proposed' AND detail->>'phase' = 'measuring'");
}

// The apply policy: start the pre-window of the next index to build. Returns the action id or 0.
int64 start_next(bool window_open, char *why, size_t cap) {
    exec(
        "SELECT EXISTS (SELECT 1 FROM rubberduck.actions WHERE action = 'create_index' AND skill = "
        "'indexing' "
        "AND (status = 'proposed' OR (status = 'applied' AND detail->>'phase' IN "
        "('verifying', 'drop_queued', 'dropping')))), "
        "(SELECT count(*)::int4 FROM rubberduck.actions WHERE action = 'create_index' AND skill = 'indexing' "
        "AND status IN ('applied', 'verified') AND pg_catalog.to_regclass(detail->>'index') IS NOT NULL), "
        "(SELECT coalesce(sum(pg_catalog.pg_relation_size(pg_catalog.to_regclass(detail->>'index'))), "
        "0)::int8 "
        "FROM rubberduck.actions WHERE action = 'create_index' AND skill = 'indexing' "
        "AND status IN ('applied', 'verified') AND pg_catalog.to_regclass(detail->>'index') IS NOT NULL)");
    ci::ApplyState st;
    HeapTuple t = SPI_tuptable->vals[0];
    TupleDesc d = SPI_tuptable->tupdesc;
    st.change_in_progress = spi_bool(t, d, 1);
    st.kept_indexes = spi_int4(t, d, 2);
    st.kept_bytes = spi_int8(t, d, 3);
    st.in_maintenance_window = window_open;
    st.max_indexes = index_directives.max_indexes;
    st.storage_budget_bytes = index_directives.storage_budget_mb >= 0
                                  ? static_cast<int64_t>(index_directives.storage_budget_mb) * 1024 * 1024
                                  : -1;
    exec(
        "SELECT ia.id, coalesce(ia.est_improvement_pct, 0)::float8, coalesce(ia.est_size_bytes, 0)::int8 "
        "FROM rubberduck.index_advice ia WHERE ia.status = 'advised' "
        "AND NOT EXISTS (SELECT 1 FROM rubberduck.actions a WHERE a.id = ia.action_id AND a.status = "
        "'proposed') "
        "ORDER BY ia.est_improvement_pct DESC NULLS LAST, ia.id LIMIT 256");
    int n = static_cast<int>(SPI_processed);
    auto *ids = static_cast<int64 *>(palloc0(sizeof(int64) * (n + 1)));
    auto *pct = static_cast<double *>(palloc0(sizeof(double) * (n + 1)));
    auto *size = static_cast<int64 *>(palloc0(sizeof(int64) * (n + 1)));
    for (int i = 0; i < n && i < kMaxAdvised; ++i) {
        ids[i] = spi_int8(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        pct[i] = spi_float8(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
        size[i] = spi_int8(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
    }
    int64 chosen = 0;
    cpp_guard([&] {
        std::vector<ci::AdviceCandidate> c;
        for (int i = 0; i < n && i < kMaxAdvised; ++i) c.push_back({ids[i], pct[i], size[i]});
        ci::ApplyDecision dec = ci::choose_next_build(c, st);
        chosen = dec.advice_id;
        copy_message(why, cap, dec.reason.c_str());
    });
    if (chosen == 0) return 0;
    Oid types[2] = {INT8OID, FLOAT8OID};
    Datum values[2] = {Int64GetDatum(chosen),
                       Float8GetDatum(static_cast<double>(index_directives.verify_window_s))};
    exec("SELECT rubberduck._index_begin($1, 'agent', 'measuring', $2)", 2, types, values);
    int64 action_id = spi_int8(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    ereport(LOG, (errmsg("rubberduck_agents: index advice " INT64_FORMAT
                         " chosen for an autonomous build (action " INT64_FORMAT
                         "): %s; measuring the latency before it for %d s",
                         chosen, action_id, why, index_directives.verify_window_s)));
    return action_id;
}

// rubberduck.indexing_act_on_health: one drop of an invalid or duplicate index at a time.
void health_drop(int *launched) {
    exec(
        "SELECT EXISTS (SELECT 1 FROM rubberduck.actions WHERE action = 'drop_index' AND skill = 'indexing' "
        "AND status = 'proposed')");
    if (spi_bool(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)) return;
    exec("SELECT rubberduck._index_health_begin_drop()");
    int64 id = spi_int8(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    if (id <= 0) return;
    ereport(LOG, (errmsg("rubberduck_agents: dropping an index index_health reports (action " INT64_FORMAT
                         ", rubberduck.indexing_act_on_health = on)",
                         id)));
    launch_and_record(id, "drop", launched);
}

void autonomy_body(rt::Mode mode) {
    bool autonomous = mode == rt::Mode::Autonomous;
    int launched = housekeeping();
    verify_due(autonomous, &launched);
    if (!autonomous) {
        cancel_measuring();
        return;
    }
    bool window_open = in_maintenance_window();
    queue_measured(window_open, &launched);
    char why[256] = {0};
    start_next(window_open, why, sizeof why);
    if (index_autonomy_directives.act_on_health && window_open) health_drop(&launched);
}

}  // namespace

void run_index_autonomy(CycleContext &ctx, rt::Mode mode, SkillOutcome &) {
    if (ctx.read_only || mode == rt::Mode::Observe) return;
    MemoryContext old = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(old);
    PG_TRY();
    {
        autonomy_body(mode);
        ReleaseCurrentSubTransaction();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(old);
        ErrorData *e = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        ereport(WARNING, (errmsg("rubberduck_agents: autonomous indexing step failed: %s", e->message)));
        FreeErrorData(e);
    }
    PG_END_TRY();
    MemoryContextSwitchTo(old);
    CurrentResourceOwner = owner;
}

}  // namespace rubberduck::pg
