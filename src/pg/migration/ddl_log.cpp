#include "pg/migration/ddl_log.hpp"

#include "core/migration/lock_modes.h"
#include "core/migration/migration_analyzer.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/functions/srf.hpp"
#include "pg/guc/migration_directives.hpp"
#include "pg/shmem/shmem_registry.hpp"

extern "C" {
#include "commands/dbcommands.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
}

namespace rubberduck::pg::migration {

namespace cm = core::migration;

namespace {

constexpr const char *kTranche = "rubberduck_ddl_log";

struct DdlRing {
    LWLock *lock;
    uint64_t next_seq;
    uint64_t drained_seq;  // every seq <= drained_seq is in rubberduck.ddl_log (or was lost)
    DdlEntry ring[kDdlRingSize];
};

DdlRing *ring = nullptr;

void request() {
    RequestAddinShmemSpace(MAXALIGN(sizeof(DdlRing)));
    RequestNamedLWLockTranche(kTranche, 1);
}

void startup() {
    bool found = false;
    ring = static_cast<DdlRing *>(ShmemInitStruct("rubberduck ddl log", sizeof(DdlRing), &found));
    if (found) return;
    std::memset(ring, 0, sizeof(DdlRing));
    ring->lock = &(GetNamedLWLockTranche(kTranche))->lock;
    ring->next_seq = 1;
}

const char *guard_mode_name(uint8_t m) {
    switch (static_cast<MigrationGuardMode>(m)) {
        case MigrationGuardMode::Off:
            return "off";
        case MigrationGuardMode::Warn:
            return "warn";
        case MigrationGuardMode::Enforce:
            return "enforce";
    }
    return "warn";
}

const char *severity_text(int8_t s) {
    return s < 0 ? "none" : cm::severity_name(static_cast<cm::Severity>(s));
}

const char *lock_text(int8_t l) {
    return l <= 0 ? nullptr : cm::lock_mode_name(static_cast<cm::LockMode>(l));
}

// rules "a,b" -> text[] datum
Datum rules_array(const char *rules) {
    const char *items[32];
    char buf[kDdlRulesLen];
    strlcpy(buf, rules, sizeof buf);
    int n = 0;
    char *save = nullptr;
    for (char *tok = strtok_r(buf, ",", &save); tok && n < 32; tok = strtok_r(nullptr, ",", &save))
        items[n++] = tok;
    return text_array_datum(items, n);
}

}  // namespace

const char *ddl_outcome_name(DdlOutcome o) {
    switch (o) {
        case DdlOutcome::Ok:
            return "ok";
        case DdlOutcome::Failed:
            return "failed";
        case DdlOutcome::Blocked:
            return "blocked";
        case DdlOutcome::Allowed:
            return "allowed";
    }
    return "ok";
}

void register_ddl_log() {
    register_shmem_client({"ddl_log", request, startup});
}

bool ddl_log_ready() {
    return ring != nullptr;
}

uint64_t ddl_log_append(DdlEntry &e) {
    if (!ring) return 0;
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    e.seq = ring->next_seq++;
    ring->ring[(e.seq - 1) % kDdlRingSize] = e;
    LWLockRelease(ring->lock);
    return e.seq;
}

DdlEntry *ddl_log_snapshot(int *count) {
    *count = 0;
    if (!ring) return nullptr;
    auto *out = static_cast<DdlEntry *>(palloc(sizeof(DdlEntry) * kDdlRingSize));
    LWLockAcquire(ring->lock, LW_SHARED);
    uint64_t next = ring->next_seq;
    uint64_t first = next > static_cast<uint64_t>(kDdlRingSize) ? next - kDdlRingSize : 1;
    for (uint64_t s = first; s < next; ++s) out[(*count)++] = ring->ring[(s - 1) % kDdlRingSize];
    LWLockRelease(ring->lock);
    return out;
}

int drain_ddl_log(uint64_t *lost) {
    *lost = 0;
    if (!ring) return 0;
    if (SPI_execute("SELECT pg_catalog.to_regclass('rubberduck.ddl_log') IS NOT NULL", true, 1) !=
            SPI_OK_SELECT ||
        SPI_processed != 1)
        return 0;
    bool isnull = false;
    if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull))) return 0;

    auto *batch = static_cast<DdlEntry *>(palloc(sizeof(DdlEntry) * kDdlRingSize));
    int n = 0;
    LWLockAcquire(ring->lock, LW_SHARED);
    uint64_t next = ring->next_seq, drained = ring->drained_seq;
    uint64_t first = drained + 1;
    if (next > static_cast<uint64_t>(kDdlRingSize) && first < next - kDdlRingSize) {
        *lost = next - kDdlRingSize - first;
        first = next - kDdlRingSize;
    }
    for (uint64_t s = first; s < next; ++s) batch[n++] = ring->ring[(s - 1) % kDdlRingSize];
    LWLockRelease(ring->lock);
    if (n == 0 && *lost == 0) return 0;

    Oid types[17] = {TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID,   TEXTOID,   INT4OID,      TEXTOID,
                     TEXTOID,        TEXTOID,        TEXTOID,   TEXTOID,   TEXTARRAYOID, TEXTOID,
                     TEXTOID,        INT4OID,        FLOAT8OID, FLOAT8OID, BOOLOID};
    SPIPlanPtr plan = SPI_prepare(
        "INSERT INTO rubberduck.ddl_log (at, finished_at, database, username, pid, command_tag, relation, "
        "statement, "
        "guard_mode, outcome, rules, max_severity, lock_mode, lock_timeout_applied_ms, est_duration_ms, "
        "duration_ms, "
        "in_transaction) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        17, types);
    if (!plan) elog(ERROR, "rubberduck: could not prepare the ddl_log insert");
    for (int i = 0; i < n; ++i) {
        const DdlEntry &e = batch[i];
        Datum v[17];
        char nulls[17];
        memset(nulls, ' ', sizeof nulls);
        v[0] = TimestampTzGetDatum(e.at);
        v[1] = TimestampTzGetDatum(e.finished_at);
        if (e.finished_at == 0) nulls[1] = 'n';
        char *db = get_database_name(e.database);
        v[2] = CStringGetTextDatum(db ? db : "?");
        char *user = GetUserNameFromId(e.userid, true);
        v[3] = CStringGetTextDatum(user ? user : "?");
        v[4] = Int32GetDatum(e.pid);
        v[5] = CStringGetTextDatum(e.command_tag);
        v[6] = CStringGetTextDatum(e.relation);
        if (!e.relation[0]) nulls[6] = 'n';
        v[7] = CStringGetTextDatum(e.statement);
        v[8] = CStringGetTextDatum(guard_mode_name(e.guard_mode));
        v[9] = CStringGetTextDatum(ddl_outcome_name(e.outcome));
        v[10] = rules_array(e.rules);
        v[11] = CStringGetTextDatum(severity_text(e.max_severity));
        const char *lock = lock_text(e.lock_mode);
        v[12] = CStringGetTextDatum(lock ? lock : "");
        if (!lock) nulls[12] = 'n';
        v[13] = Int32GetDatum(e.lock_timeout_applied_ms);
        if (!e.lock_timeout_applied_ms) nulls[13] = 'n';
        v[14] = Float8GetDatum(e.est_duration_ms);
        v[15] = Float8GetDatum(e.duration_ms);
        v[16] = BoolGetDatum(e.in_transaction);
        if (SPI_execute_plan(plan, v, nulls, false, 0) != SPI_OK_INSERT)
            elog(ERROR, "rubberduck: could not insert into rubberduck.ddl_log");
    }
    uint64_t last = n > 0 ? batch[n - 1].seq : first - 1;
    // The cursor moves now; if the cycle's transaction aborts later these rows are lost (at most one batch),
    // never duplicated by a concurrent drain (only the migration agent drains).
    LWLockAcquire(ring->lock, LW_EXCLUSIVE);
    if (last > ring->drained_seq) ring->drained_seq = last;
    LWLockRelease(ring->lock);
    pfree(batch);
    return n;
}

}  // namespace rubberduck::pg::migration

using namespace rubberduck::pg;
using namespace rubberduck::pg::migration;

extern "C" {
PG_FUNCTION_INFO_V1(rubberduck_ddl_ring);
}

RD_EXPORT Datum rubberduck_ddl_ring(PG_FUNCTION_ARGS) {
    SrfRows srf = begin_srf(fcinfo);
    if (!ddl_log_ready()) {
        warn_not_preloaded();
        return (Datum)0;
    }
    int count = 0;
    DdlEntry *entries = ddl_log_snapshot(&count);
    for (int i = 0; i < count; ++i) {
        const DdlEntry &e = entries[i];
        Datum v[18];
        bool nulls[18] = {false};
        v[0] = Int64GetDatum(static_cast<int64>(e.seq));
        v[1] = TimestampTzGetDatum(e.at);
        timestamp_or_null(e.finished_at, v[2], nulls[2]);
        char *db = get_database_name(e.database);
        text_or_null(db, v[3], nulls[3]);
        char *user = GetUserNameFromId(e.userid, true);
        text_or_null(user, v[4], nulls[4]);
        v[5] = Int32GetDatum(e.pid);
        v[6] = text_datum(e.command_tag);
        text_or_null(e.relation, v[7], nulls[7]);
        v[8] = text_datum(e.statement);
        v[9] = text_datum(guard_mode_name(e.guard_mode));
        v[10] = text_datum(ddl_outcome_name(e.outcome));
        v[11] = rules_array(e.rules);
        v[12] = text_datum(severity_text(e.max_severity));
        text_or_null(lock_text(e.lock_mode), v[13], nulls[13]);
        v[14] = Int32GetDatum(e.lock_timeout_applied_ms);
        nulls[14] = e.lock_timeout_applied_ms == 0;
        v[15] = Float8GetDatum(e.est_duration_ms);
        v[16] = Float8GetDatum(e.duration_ms);
        v[17] = BoolGetDatum(e.in_transaction);
        put_row(srf, v, nulls);
    }
    return (Datum)0;
}
