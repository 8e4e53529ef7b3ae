// Query statistics in shared memory. Locking protocol: see query_stats_table.hpp (top).
#include "pg/shmem/query_stats_table.hpp"

#include <algorithm>

#include "pg/boundary/cpp_guard.hpp"
#include "pg/guc/directives.hpp"
#include "pg/persist/state_file.hpp"
#include "pg/shmem/shmem_registry.hpp"

extern "C" {
#include "utils/hsearch.h"
}

namespace rubberduck::pg {
namespace {

constexpr const char *kTranche = "rubberduck_queries";
constexpr double kUsageDecay = 0.99;
constexpr double kEvictFraction = 0.05;
constexpr int kEvictMin = 10;

QueryStatsShared *shared = nullptr;
HTAB *stats_hash = nullptr;
HTAB *pred_hash = nullptr;
ExecRing *rings = nullptr;

int stats_capacity() {
    return directives.max_queries;
}
int pred_capacity() {
    return directives.max_queries * 2;
}

Size rings_offset() {
    return MAXALIGN(sizeof(QueryStatsShared));
}

Size fixed_size() {
    return add_size(rings_offset(), mul_size(MaxBackends, MAXALIGN(sizeof(ExecRing))));
}

void request() {
    Size size = fixed_size();
    size = add_size(size, hash_estimate_size(stats_capacity(), sizeof(QueryEntry)));
    size = add_size(size, hash_estimate_size(pred_capacity(), sizeof(PredEntry)));
    RequestAddinShmemSpace(size);
    RequestNamedLWLockTranche(kTranche, 4);
}

void startup() {
    bool found = false;
    shared = static_cast<QueryStatsShared *>(ShmemInitStruct("rubberduck query stats", fixed_size(), &found));
    rings = reinterpret_cast<ExecRing *>(reinterpret_cast<char *>(shared) + rings_offset());
    if (!found) {
        std::memset(shared, 0, fixed_size());
        LWLockPadded *locks = GetNamedLWLockTranche(kTranche);
        shared->stats_lock = &locks[0].lock;
        shared->pred_lock = &locks[1].lock;
        shared->exemplar_lock = &locks[2].lock;
        shared->insight_lock = &locks[3].lock;
        shared->ring_count = MaxBackends;
        shared->stats_reset = GetCurrentTimestamp();
        for (int i = 0; i < MaxBackends; ++i) {
            auto *r = reinterpret_cast<ExecRing *>(reinterpret_cast<char *>(rings) +
                                                   i * MAXALIGN(sizeof(ExecRing)));
            SpinLockInit(&r->mutex);
        }
    }
    HASHCTL info;
    std::memset(&info, 0, sizeof info);
    info.keysize = sizeof(QueryKey);
    info.entrysize = sizeof(QueryEntry);
    stats_hash = ShmemInitHash("rubberduck query stats hash", stats_capacity(), stats_capacity(), &info,
                               HASH_ELEM | HASH_BLOBS);
    std::memset(&info, 0, sizeof info);
    info.keysize = sizeof(PredKey);
    info.entrysize = sizeof(PredEntry);
    pred_hash = ShmemInitHash("rubberduck predicate hash", pred_capacity(), pred_capacity(), &info,
                              HASH_ELEM | HASH_BLOBS);
}

int cmp_usage(const void *a, const void *b) {
    double ua = (*static_cast<QueryEntry *const *>(a))->c.usage;
    double ub = (*static_cast<QueryEntry *const *>(b))->c.usage;
    return ua < ub ? -1 : (ua > ub ? 1 : 0);
}
int cmp_pred_usage(const void *a, const void *b) {
    double ua = (*static_cast<PredEntry *const *>(a))->usage;
    double ub = (*static_cast<PredEntry *const *>(b))->usage;
    return ua < ub ? -1 : (ua > ub ? 1 : 0);
}

// Caller holds stats_lock exclusively. Decays every entry's usage and removes the least used 5 % (at least
// kEvictMin). palloc may ERROR (out of memory): the LWLock is released by error recovery.
void evict_queries() {
    long n = hash_get_num_entries(stats_hash);
    if (n <= 0) return;
    auto **all = static_cast<QueryEntry **>(palloc(n * sizeof(QueryEntry *)));
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, stats_hash);
    long i = 0;
    while (auto *e = static_cast<QueryEntry *>(hash_seq_search(&seq))) {
        if (i < n) all[i++] = e;
        // Entries never executed (created at parse analysis) decay faster, as in pg_stat_statements.
        e->c.usage *= e->c.calls == 0 ? kUsageDecay * kUsageDecay : kUsageDecay;
    }
    qsort(all, i, sizeof(QueryEntry *), cmp_usage);
    long victims = std::max<long>(kEvictMin, static_cast<long>(i * kEvictFraction));
    victims = std::min(victims, i);
    for (long k = 0; k < victims; ++k) hash_search(stats_hash, &all[k]->key, HASH_REMOVE, nullptr);
    shared->evictions += victims;
    pfree(all);
}

void evict_predicates() {
    long n = hash_get_num_entries(pred_hash);
    if (n <= 0) return;
    auto **all = static_cast<PredEntry **>(palloc(n * sizeof(PredEntry *)));
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, pred_hash);
    long i = 0;
    while (auto *e = static_cast<PredEntry *>(hash_seq_search(&seq))) {
        if (i < n) all[i++] = e;
        e->usage *= kUsageDecay;
    }
    qsort(all, i, sizeof(PredEntry *), cmp_pred_usage);
    long victims = std::min(i, std::max<long>(kEvictMin, static_cast<long>(i * kEvictFraction)));
    for (long k = 0; k < victims; ++k) hash_search(pred_hash, &all[k]->key, HASH_REMOVE, nullptr);
    shared->pred_evictions += victims;
    pfree(all);
}

void init_entry(QueryEntry *e, const char *text, int len, bool text_known) {
    SpinLockInit(&e->mutex);
    std::memset(&e->c, 0, sizeof e->c);
    e->c.first_seen = e->c.last_seen = GetCurrentStatementStartTimestamp();
    e->c.usage = 1.0;
    len = std::max(0, std::min(len, kQueryTextLen - 1));
    if (text && len > 0) std::memcpy(e->text, text, len);
    e->text[len] = '\0';
    e->text_len = len;
    e->text_pending = !text_known;
}

// ---- lasting state: entries with their texts, predicates, exemplars -----------------------------------
constexpr uint32_t kSectionVersion = 1;

void save(core::ByteWriter &out) {
    // Copy under the locks (PG regime), encode after.
    int nq = 0, np = 0, ne = 0;
    QueryEntry *q = nullptr;
    PredEntry *p = nullptr;
    Exemplar *ex = nullptr;
    if (IsUnderPostmaster) {
        q = snapshot_queries(&nq);
        p = snapshot_predicates(&np);
        ex = snapshot_exemplars(&ne);
    } else {  // the postmaster's shutdown dump: alone, no PGPROC, no locks
        long n = hash_get_num_entries(stats_hash);
        q = static_cast<QueryEntry *>(palloc(std::max<long>(n, 1) * sizeof(QueryEntry)));
        HASH_SEQ_STATUS seq;
        hash_seq_init(&seq, stats_hash);
        while (auto *e = static_cast<QueryEntry *>(hash_seq_search(&seq)))
            if (nq < n) q[nq++] = *e;
        long m = hash_get_num_entries(pred_hash);
        p = static_cast<PredEntry *>(palloc(std::max<long>(m, 1) * sizeof(PredEntry)));
        hash_seq_init(&seq, pred_hash);
        while (auto *e = static_cast<PredEntry *>(hash_seq_search(&seq)))
            if (np < m) p[np++] = *e;
        ex = static_cast<Exemplar *>(palloc(sizeof(Exemplar) * kExemplarSlots));
        for (const auto &e : shared->exemplars)
            if (e.queryid != 0) ex[ne++] = e;
    }
    out.put<uint32_t>(sizeof(QueryEntry));
    out.put<uint32_t>(sizeof(PredEntry));
    out.put<uint32_t>(sizeof(Exemplar));
    out.put<int64_t>(shared->stats_reset);
    out.put<uint32_t>(nq);
    for (int i = 0; i < nq; ++i) out.put_bytes(&q[i], sizeof(QueryEntry));
    out.put<uint32_t>(np);
    for (int i = 0; i < np; ++i) out.put_bytes(&p[i], sizeof(PredEntry));
    out.put<uint32_t>(ne);
    for (int i = 0; i < ne; ++i) out.put_bytes(&ex[i], sizeof(Exemplar));
    pfree(q);
    pfree(p);
    pfree(ex);
}

// Postmaster, before any backend: no locks. Entries beyond the current capacity are dropped.
void load(uint32_t version, core::ByteReader &in) {
    if (version != kSectionVersion) throw std::invalid_argument("unsupported query stats section version");
    if (in.get<uint32_t>() != sizeof(QueryEntry) || in.get<uint32_t>() != sizeof(PredEntry) ||
        in.get<uint32_t>() != sizeof(Exemplar))
        throw std::invalid_argument("query stats layout changed");
    shared->stats_reset = in.get<int64_t>();
    uint32_t nq = in.get<uint32_t>();
    for (uint32_t i = 0; i < nq; ++i) {
        QueryEntry e;
        in.get_bytes(&e, sizeof e);
        if (i >= static_cast<uint32_t>(stats_capacity())) continue;
        bool found = false;
        auto *slot = static_cast<QueryEntry *>(hash_search(stats_hash, &e.key, HASH_ENTER_NULL, &found));
        if (!slot) continue;
        slot->c = e.c;
        SpinLockInit(&slot->mutex);
        slot->text_len = std::max(0, std::min(e.text_len, kQueryTextLen - 1));
        std::memcpy(slot->text, e.text, kQueryTextLen);
        slot->text[slot->text_len] = '\0';
        slot->text_pending = e.text_pending;
    }
    uint32_t np = in.get<uint32_t>();
    for (uint32_t i = 0; i < np; ++i) {
        PredEntry e;
        in.get_bytes(&e, sizeof e);
        if (i >= static_cast<uint32_t>(pred_capacity())) continue;
        bool found = false;
        auto *slot = static_cast<PredEntry *>(hash_search(pred_hash, &e.key, HASH_ENTER_NULL, &found));
        if (!slot) continue;
        *slot = e;
        SpinLockInit(&slot->mutex);
    }
    uint32_t ne = in.get<uint32_t>();
    double min_ms = 0;
    for (uint32_t i = 0; i < ne; ++i) {
        Exemplar e;
        in.get_bytes(&e, sizeof e);
        if (i >= static_cast<uint32_t>(kExemplarSlots)) continue;
        e.text[kExemplarTextLen - 1] = '\0';
        e.params[kExemplarParamsLen - 1] = '\0';
        e.nparams = std::max(0, std::min(e.nparams, kExemplarMaxParams));
        for (int k = 0; k < e.nparams; ++k)
            if (e.param_offsets[k] >= kExemplarParamsLen) e.param_offsets[k] = -1;
        shared->exemplars[i] = e;
        min_ms = i == 0 ? e.exec_ms : std::min(min_ms, e.exec_ms);
    }
    shared->exemplar_min_ms = ne >= static_cast<uint32_t>(kExemplarSlots) ? min_ms : 0.0;
}

}  // namespace

void register_query_stats() {
    register_shmem_client({"query_stats", request, startup});
    register_shmem_state_section({"queries", kSectionVersion, save, load});
}

QueryStatsShared *query_stats_shared() {
    return shared;
}
HTAB *query_stats_hash() {
    return stats_hash;
}
HTAB *predicate_hash() {
    return pred_hash;
}
int query_stats_capacity() {
    return stats_capacity();
}
int predicate_capacity() {
    return pred_capacity();
}

ExecRing *exec_ring(int index) {
    if (!shared || index < 0 || index >= shared->ring_count) return nullptr;
    return reinterpret_cast<ExecRing *>(reinterpret_cast<char *>(rings) + index * MAXALIGN(sizeof(ExecRing)));
}

QueryEntry *query_entry_find_or_create(const QueryKey &key, const char *normalized, int len,
                                       bool text_known) {
    LWLockAcquire(shared->stats_lock, LW_EXCLUSIVE);
    bool found = false;
    auto *e = static_cast<QueryEntry *>(hash_search(stats_hash, &key, HASH_FIND, nullptr));
    if (!e) {
        if (hash_get_num_entries(stats_hash) >= stats_capacity()) evict_queries();
        e = static_cast<QueryEntry *>(hash_search(stats_hash, &key, HASH_ENTER_NULL, &found));
        if (e && !found) init_entry(e, normalized, len, text_known);
    } else if (e->text_pending && text_known) {
        len = std::max(0, std::min(len, kQueryTextLen - 1));  // keep the counters, fill the text in
        if (normalized && len > 0) std::memcpy(e->text, normalized, len);
        e->text[len] = '\0';
        e->text_len = len;
        e->text_pending = false;
    }
    LWLockRelease(shared->stats_lock);
    return e;  // only valid while no exclusive holder can remove it: callers re-find under shared
}

void query_entry_set_text(const QueryKey &key, const char *normalized, int len) {
    LWLockAcquire(shared->stats_lock, LW_EXCLUSIVE);
    auto *e = static_cast<QueryEntry *>(hash_search(stats_hash, &key, HASH_FIND, nullptr));
    if (e && e->text_pending) {
        len = std::max(0, std::min(len, kQueryTextLen - 1));
        std::memcpy(e->text, normalized, len);
        e->text[len] = '\0';
        e->text_len = len;
        e->text_pending = false;
    }
    LWLockRelease(shared->stats_lock);
}

void predicate_add(const PredKey &key, double selectivity, double examined, double returned, bool used_index,
                   bool has_limit) {
    LWLockAcquire(shared->pred_lock, LW_SHARED);
    auto *e = static_cast<PredEntry *>(hash_search(pred_hash, &key, HASH_FIND, nullptr));
    if (!e) {
        LWLockRelease(shared->pred_lock);
        LWLockAcquire(shared->pred_lock, LW_EXCLUSIVE);
        bool found = false;
        e = static_cast<PredEntry *>(hash_search(pred_hash, &key, HASH_FIND, nullptr));
        if (!e) {
            if (hash_get_num_entries(pred_hash) >= pred_capacity()) evict_predicates();
            e = static_cast<PredEntry *>(hash_search(pred_hash, &key, HASH_ENTER_NULL, &found));
            if (!e) {
                LWLockRelease(shared->pred_lock);
                return;
            }
            if (!found) {
                std::memset(reinterpret_cast<char *>(e) + sizeof(PredKey), 0,
                            sizeof(PredEntry) - sizeof(PredKey));
                SpinLockInit(&e->mutex);
            }
        }
    }
    TimestampTz now = GetCurrentStatementStartTimestamp();
    SpinLockAcquire(&e->mutex);
    e->executions++;
    if (selectivity >= 0.0) {
        e->sum_selectivity += selectivity;
        e->selectivity_count++;
    }
    e->rows_examined += examined;
    e->rows_returned += returned;
    if (used_index) e->index_executions++;
    if (has_limit) e->limit_executions++;
    e->last_seen = now;
    e->usage += 1.0;
    SpinLockRelease(&e->mutex);
    LWLockRelease(shared->pred_lock);
}

QueryEntry *snapshot_queries(int *count) {
    *count = 0;
    if (!shared) return nullptr;
    LWLockAcquire(shared->stats_lock, LW_SHARED);
    long n = hash_get_num_entries(stats_hash);
    auto *out = static_cast<QueryEntry *>(
        palloc_extended(std::max<long>(n, 1) * sizeof(QueryEntry), MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM));
    if (!out) {
        LWLockRelease(shared->stats_lock);
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory copying query statistics")));
    }
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, stats_hash);
    int i = 0;
    while (auto *e = static_cast<QueryEntry *>(hash_seq_search(&seq))) {
        if (i >= n) {
            hash_seq_term(&seq);
            break;
        }
        QueryEntry &d = out[i++];
        d.key = e->key;
        SpinLockAcquire(&e->mutex);
        d.c = e->c;
        SpinLockRelease(&e->mutex);
        d.text_pending = e->text_pending;
        d.text_len = e->text_len;
        std::memcpy(d.text, e->text, e->text_len + 1);
    }
    LWLockRelease(shared->stats_lock);
    *count = i;
    return out;
}

PredEntry *snapshot_predicates(int *count) {
    *count = 0;
    if (!shared) return nullptr;
    LWLockAcquire(shared->pred_lock, LW_SHARED);
    long n = hash_get_num_entries(pred_hash);
    auto *out = static_cast<PredEntry *>(
        palloc_extended(std::max<long>(n, 1) * sizeof(PredEntry), MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM));
    if (!out) {
        LWLockRelease(shared->pred_lock);
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory copying predicates")));
    }
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, pred_hash);
    int i = 0;
    while (auto *e = static_cast<PredEntry *>(hash_seq_search(&seq))) {
        if (i >= n) {
            hash_seq_term(&seq);
            break;
        }
        SpinLockAcquire(&e->mutex);
        out[i++] = *e;
        SpinLockRelease(&e->mutex);
    }
    LWLockRelease(shared->pred_lock);
    *count = i;
    return out;
}

Exemplar *snapshot_exemplars(int *count) {
    *count = 0;
    if (!shared) return nullptr;
    auto *out = static_cast<Exemplar *>(palloc(sizeof(Exemplar) * kExemplarSlots));
    int n = 0;
    LWLockAcquire(shared->exemplar_lock, LW_SHARED);
    for (const auto &e : shared->exemplars)
        if (e.queryid != 0) out[n++] = e;
    LWLockRelease(shared->exemplar_lock);
    *count = n;
    return out;
}

QueryInsight *snapshot_insights(int *count) {
    *count = 0;
    if (!shared) return nullptr;
    auto *out = static_cast<QueryInsight *>(palloc(sizeof(QueryInsight) * kMaxInsights));
    LWLockAcquire(shared->insight_lock, LW_SHARED);
    int n = shared->insight_count;
    std::memcpy(out, shared->insights, sizeof(QueryInsight) * n);
    LWLockRelease(shared->insight_lock);
    *count = n;
    return out;
}

void publish_insights(const QueryInsight *items, int count) {
    if (!shared) return;
    count = std::min(count, kMaxInsights);
    LWLockAcquire(shared->insight_lock, LW_EXCLUSIVE);
    std::memcpy(shared->insights, items, sizeof(QueryInsight) * count);
    shared->insight_count = count;
    LWLockRelease(shared->insight_lock);
}

void reset_query_stats() {
    if (!shared) return;
    LWLockAcquire(shared->stats_lock, LW_EXCLUSIVE);
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, stats_hash);
    while (auto *e = static_cast<QueryEntry *>(hash_seq_search(&seq)))
        hash_search(stats_hash, &e->key, HASH_REMOVE, nullptr);
    shared->evictions = 0;
    shared->stats_reset = GetCurrentTimestamp();
    shared->reset_generation++;
    LWLockRelease(shared->stats_lock);

    LWLockAcquire(shared->pred_lock, LW_EXCLUSIVE);
    hash_seq_init(&seq, pred_hash);
    while (auto *e = static_cast<PredEntry *>(hash_seq_search(&seq)))
        hash_search(pred_hash, &e->key, HASH_REMOVE, nullptr);
    shared->pred_evictions = 0;
    LWLockRelease(shared->pred_lock);

    LWLockAcquire(shared->exemplar_lock, LW_EXCLUSIVE);
    std::memset(shared->exemplars, 0, sizeof shared->exemplars);
    shared->exemplar_min_ms = 0;
    LWLockRelease(shared->exemplar_lock);

    LWLockAcquire(shared->insight_lock, LW_EXCLUSIVE);
    shared->insight_count = 0;
    LWLockRelease(shared->insight_lock);

    for (int i = 0; i < shared->ring_count; ++i) {
        ExecRing *r = exec_ring(i);
        SpinLockAcquire(&r->mutex);
        r->drained = r->head;
        SpinLockRelease(&r->mutex);
    }
}

}  // namespace rubberduck::pg
