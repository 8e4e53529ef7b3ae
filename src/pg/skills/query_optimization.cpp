// The query_optimization skill (query_optimizer agent, issue #3): each cycle it
//  1. copies the statement table out of shared memory (under the locks) and drains the per-backend execution
//     rings (PG regime);
//  2. in C++ (cpp_guard): aggregates per queryid, learns a latency baseline per query (QueryBaseline, EWMA of
//     each window since the last cycle), classifies (slow, seq_scan_heavy, low_hit_ratio, temp_spill,
//     high_variance), tests plan changes for regressions (Welch t-test, detect_plan_regression), feeds the
//     N+1 detector and collects its findings; flags n_plus_one and regressed stay until the statement's plan
//     changes again (regressed) or the stats are reset;
//  3. publishes the flags and suggestions per queryid to shared memory for rubberduck.query_insights, and a
//     plan_regression signal per newly regressed (queryid, plan) (PG regime).
// Baselines and sticky flags are process-local and survive restarts in the agent state section
// "query_optimization".
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/common/json_writer.h"
#include "core/query/n_plus_one_detector.h"
#include "core/query/plan_regression_detector.h"
#include "core/query/query_baseline.h"
#include "core/query/slow_query_classifier.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/functions/reset_registry.hpp"
#include "pg/guc/directives.hpp"
#include "pg/guc/query_directives.hpp"
#include "pg/hooks/query_hooks.hpp"
#include "pg/persist/state_file.hpp"
#include "pg/query/rewrite_shape.hpp"
#include "pg/shmem/query_stats_table.hpp"
#include "pg/skills/query_optimization.hpp"

namespace rubberduck::pg {
namespace {

namespace cq = core::query;
namespace rt = core::runtime;

constexpr int kMaxRegressionEvents = 32;
constexpr int kMaxNotes = 200;

struct Sticky {
    // n_plus_one
    uint64_t n1_count = 0;        // calls in the largest run seen
    uint64_t n1_occurrences = 0;  // runs seen
    std::string n1_suggestion;
    // regressed
    uint64_t regressed_fp = 0;  // the slow plan; cleared when the plan changes again
    uint64_t checked_fp = 0;    // last plan tested (with checked_prev_fp), to publish a signal only once
    double ratio = 1.0;
    double p_value = 1.0;
    std::string regression_text;
};

struct Previous {  // cumulative moments at the previous cycle, for the window
    uint64_t calls = 0;
    double mean = 0.0;
    double m2 = 0.0;
};

struct Learned {
    std::unique_ptr<cq::QueryBaseline> baseline;
    std::unique_ptr<cq::NPlusOneDetector> n1;
    uint32_t n1_threshold = 0;
    std::unordered_map<uint64_t, Sticky> sticky;
    std::unordered_map<uint64_t, Previous> previous;
    uint64_t reset_generation = 0;
    bool generation_known = false;
};

Learned *learned = nullptr;  // deliberately leaked (R14); only in the query_optimizer agent

Learned &state() {
    if (!learned) {
        learned = new Learned;
        learned->baseline = std::make_unique<cq::QueryBaseline>();
    }
    return *learned;
}

void ensure_detector(Learned &l) {
    auto threshold = static_cast<uint32_t>(std::max(2, query_directives.n_plus_one_threshold));
    if (l.n1 && l.n1_threshold == threshold) return;
    cq::NPlusOneConfig cfg;
    cfg.min_executions = threshold;
    cfg.max_gap_us = 1'000'000;
    cfg.idle_close_us = 1'000'000;
    l.n1 = std::make_unique<cq::NPlusOneDetector>(cfg);
    l.n1_threshold = threshold;
}

struct RegressionEvent {
    uint64_t queryid;
    double ratio;
    double p_value;
    double mean_before;
    double mean_after;
    uint64_t samples_before;
    uint64_t samples_after;
};

struct Observed {
    RingEntry entry;
};

void append_line(char *dst, size_t cap, const std::string &line) {
    size_t used = strlen(dst);
    if (used + line.size() + 2 > cap) return;
    if (used > 0) dst[used++] = '\n';
    std::memcpy(dst + used, line.c_str(), line.size());
    dst[used + line.size()] = '\0';
}

// The C++ part of a cycle: inputs are POD copies, outputs go to caller-provided (palloc'd) arrays.
void learn(const QueryEntry *entries, int n, const RingEntry *ring, int nring, uint64_t generation,
           int64_t now_us, QueryInsight *out, int *nout, RegressionEvent *events, int *nevents, char *note,
           size_t note_cap) {
    Learned &l = state();
    if (l.generation_known && generation != l.reset_generation) {  // reset('queries'): forget everything
        l.baseline = std::make_unique<cq::QueryBaseline>();
        l.sticky.clear();
        l.previous.clear();
        l.n1.reset();
    }
    l.generation_known = true;
    l.reset_generation = generation;
    ensure_detector(l);

    // Aggregate per queryid over users and databases.
    struct Agg {
        uint64_t queryid;
        core::stats::Welford exec{};
        core::stats::LatencyHistogram hist{};
        double total_ms = 0;
        uint64_t hit = 0, read = 0, temp_written = 0;
        double scan_rows = 0, seq_rows = 0;
        int64_t sampled = 0;
        const QueryEntry *main = nullptr;  // the entry with most calls: its plan moments are tested
    };
    std::unordered_map<uint64_t, std::size_t> index;
    std::vector<Agg> aggs;
    aggs.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        const QueryEntry &e = entries[i];
        if (e.c.calls == 0) continue;
        auto [it, fresh] = index.emplace(e.key.queryid, aggs.size());
        if (fresh) {
            aggs.emplace_back();
            aggs.back().queryid = e.key.queryid;
            aggs.back().hist.clear();
        }
        Agg &a = aggs[it->second];
        a.exec.merge(e.c.exec);
        a.hist.merge(e.c.hist);
        a.total_ms += e.c.total_ms;
        a.hit += static_cast<uint64_t>(e.c.shared_blks_hit);
        a.read += static_cast<uint64_t>(e.c.shared_blks_read);
        a.temp_written += static_cast<uint64_t>(e.c.temp_blks_written);
        a.scan_rows += e.c.sampled_scan_rows;
        a.seq_rows += e.c.sampled_seq_rows;
        a.sampled += e.c.sampled_calls;
        if (!a.main || e.c.calls > a.main->c.calls) a.main = &e;
    }

    // Baselines: learn the window since the previous cycle.
    std::unordered_map<uint64_t, Previous> next_previous;
    int learned_windows = 0;
    for (const Agg &a : aggs) {
        Previous cur{a.exec.n, a.exec.mean, a.exec.m2};
        next_previous[a.queryid] = cur;
        auto it = l.previous.find(a.queryid);
        Previous prev = it != l.previous.end() ? it->second : Previous{};
        if (cur.calls < prev.calls) prev = Previous{};  // the entry was evicted or reset in between
        uint64_t dn = cur.calls - prev.calls;
        if (dn == 0) continue;
        double sum = cur.mean * cur.calls - prev.mean * prev.calls;
        double wmean = sum / static_cast<double>(dn);
        // Sum of squares about zero is additive: S = m2 + n * mean^2.
        double s_cur = cur.m2 + cur.calls * cur.mean * cur.mean,
               s_prev = prev.m2 + prev.calls * prev.mean * prev.mean;
        double wvar =
            dn > 1 ? std::max(0.0, (s_cur - s_prev - dn * wmean * wmean) / static_cast<double>(dn - 1)) : 0.0;
        if (!std::isfinite(wmean) || !std::isfinite(wvar) || wmean < 0) continue;
        if (l.baseline->update(a.queryid, cq::LatencyMoments{dn, wmean, wvar}, now_us)) ++learned_windows;
    }
    l.previous.swap(next_previous);

    // Classification of the cumulative picture.
    std::vector<cq::QueryStatsSnapshot> snaps;
    snaps.reserve(aggs.size());
    for (const Agg &a : aggs) {
        cq::QueryStatsSnapshot s;
        s.queryid = a.queryid;
        s.calls = a.exec.n;
        s.total_ms = a.total_ms;
        s.mean_ms = a.exec.mean;
        s.stddev_ms = a.exec.stddev();
        s.p95_ms = a.exec.n > 0 ? a.hist.quantile(0.95) : -1.0;
        s.seq_scan_share = a.scan_rows > 0 ? a.seq_rows / a.scan_rows : -1.0;
        s.seq_scan_rows_per_call = a.sampled > 0 ? a.seq_rows / static_cast<double>(a.sampled) : 0.0;
        s.shared_blks_hit = a.hit;
        s.shared_blks_read = a.read;
        s.temp_blks_written = a.temp_written;
        snaps.push_back(s);
    }
    cq::ClassifierConfig ccfg;
    ccfg.slow_query_ms = query_directives.slow_query_ms;
    ccfg.top_n_by_total = static_cast<std::size_t>(std::max(0, query_directives.slow_query_top_n));
    std::vector<cq::QueryClassification> classes = cq::classify_queries(snaps, ccfg);

    // Plan regressions: the entry's previous and current plan moments.
    cq::RegressionConfig rcfg;
    rcfg.alpha = query_directives.regression_alpha;
    int nev = 0;
    for (const Agg &a : aggs) {
        const QueryCounters &c = a.main->c;
        Sticky *st = nullptr;
        auto sit = l.sticky.find(a.queryid);
        if (sit != l.sticky.end()) st = &sit->second;
        if (st && st->regressed_fp != 0 && st->regressed_fp != c.plan_fp) {  // the plan changed again
            st->regressed_fp = 0;
            st->regression_text.clear();
        }
        if (c.prev_plan_fp == 0 || c.prev_plan.n < 2 || c.cur_plan.n < 2) continue;
        if (st && st->checked_fp == c.plan_fp && st->regressed_fp == c.plan_fp) continue;
        cq::LatencyMoments before{c.prev_plan.n, c.prev_plan.mean, c.prev_plan.variance()};
        cq::LatencyMoments after{c.cur_plan.n, c.cur_plan.mean, c.cur_plan.variance()};
        cq::RegressionVerdict v = cq::detect_plan_regression(before, after, rcfg);
        if (!v.regressed) continue;
        Sticky &s = l.sticky[a.queryid];
        s.regressed_fp = c.plan_fp;
        s.checked_fp = c.plan_fp;
        s.ratio = v.ratio;
        s.p_value = v.p_value;
        s.regression_text = "Plan regression: " + v.explanation +
                            " Compare the plans (EXPLAIN) and check for a dropped index or stale statistics "
                            "(ANALYZE).";
        if (nev < kMaxRegressionEvents)
            events[nev++] = {a.queryid,     v.ratio,      v.p_value,  before.mean_ms,
                             after.mean_ms, before.count, after.count};
    }
    *nevents = nev;

    // N+1: drained executions, oldest first per backend.
    for (int i = 0; i < nring; ++i) {
        const RingEntry &r = ring[i];
        cq::ExecutionObservation o;
        o.backend_id = r.pid;
        o.transaction_id = r.lxid;
        o.queryid = r.queryid;
        o.timestamp_us = r.timestamp_us;
        o.rows = r.rows;
        o.nesting_level = r.nesting_level;
        o.command = static_cast<cq::CommandKind>(r.command);
        l.n1->observe(o);
    }
    for (const auto &f : l.n1->collect(now_us)) {
        Sticky &s = l.sticky[f.queryid];
        s.n1_count = std::max(s.n1_count, f.count);
        s.n1_occurrences += f.occurrences;
        s.n1_suggestion = f.suggestion;
    }

    // Publish flags and suggestions, most expensive first, bounded.
    std::vector<std::size_t> order(aggs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t x, std::size_t y) { return aggs[x].total_ms > aggs[y].total_ms; });
    int count = 0, flagged = 0;
    for (std::size_t idx : order) {
        if (count >= kMaxInsights) break;
        const Agg &a = aggs[idx];
        const cq::QueryClassification &cl = classes[idx];
        QueryInsight qi;
        std::memset(&qi, 0, sizeof qi);
        qi.queryid = a.queryid;
        static const char *names[] = {"slow", "seq_scan_heavy", "low_hit_ratio", "temp_spill",
                                      "high_variance"};
        for (std::size_t k = 0; k < cl.flags.size(); ++k) {
            for (int b = 0; b < 5; ++b)
                if (cl.flags[k] == names[b]) qi.flags |= 1u << b;
            if (k < cl.suggestions.size())
                append_line(qi.suggestions, sizeof qi.suggestions, cl.suggestions[k]);
        }
        auto sit = l.sticky.find(a.queryid);
        if (sit != l.sticky.end()) {
            const Sticky &s = sit->second;
            if (s.n1_count > 0) {
                qi.flags |= kFlagNPlusOne;
                append_line(qi.suggestions, sizeof qi.suggestions,
                            "N+1: executed " + std::to_string(s.n1_count) + " times in one loop (" +
                                std::to_string(s.n1_occurrences) + " loop(s) seen). " + s.n1_suggestion);
            }
            if (s.regressed_fp != 0) {
                qi.flags |= kFlagRegressed;
                append_line(qi.suggestions, sizeof qi.suggestions, s.regression_text);
            }
        }
        if (qi.flags == 0) continue;
        out[count++] = qi;
        ++flagged;
    }
    *nout = count;
    // Forget sticky state of statements no longer in the table (evicted): bounded by max_queries.
    for (auto it = l.sticky.begin(); it != l.sticky.end();) {
        if (index.count(it->first) == 0 && l.previous.count(it->first) == 0)
            it = l.sticky.erase(it);
        else
            ++it;
    }
    snprintf(note, note_cap,
             "%d statements, %d flagged, %d baselines (%d learned this cycle), %d executions drained",
             static_cast<int>(aggs.size()), flagged, static_cast<int>(l.baseline->size()), learned_windows,
             nring);
}

// Rewrite hints for observed statements (query_insights.suggestions): the most expensive statements of this
// database, parsed once per queryid (their normalised text, $n for constants) and cached for the agent's
// life.
constexpr int kHintedPerCycle = 50;
constexpr size_t kHintCacheMax = 4096;
auto *hint_cache = new std::unordered_map<uint64_t, std::vector<std::string>>();  // leaked on purpose (R14)

void attach_rewrite_hints(const QueryEntry *entries, int n, QueryInsight *out, int *nout) {
    std::vector<int> order;
    cpp_guard([&] {
        for (int i = 0; i < n; ++i)
            if (entries[i].key.dbid == MyDatabaseId && !entries[i].text_pending && entries[i].text_len > 0 &&
                entries[i].text_len < kQueryTextLen - 1)
                order.push_back(i);
        std::sort(order.begin(), order.end(),
                  [&](int x, int y) { return entries[x].c.total_ms > entries[y].c.total_ms; });
        if (order.size() > static_cast<size_t>(kHintedPerCycle)) order.resize(kHintedPerCycle);
        if (hint_cache->size() > kHintCacheMax) hint_cache->clear();
    });
    // Parse analysis takes AccessShareLock on the tables: never wait behind a migration's exclusive lock (a
    // statement that cannot be analysed now is tried again next cycle). Reverts at the end of the cycle.
    (void)set_config_option("lock_timeout", "200", PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0,
                            false);
    for (int i : order) {
        const QueryEntry &e = entries[i];
        if (hint_cache->count(e.key.queryid)) continue;
        // PG regime: parse analysis runs in an internal subtransaction; a text that no longer parses gives
        // none.
        std::string error;
        std::vector<core::query::RewriteHint> hints = hints_for_query_text(e.text, &error);
        if (!error.empty() && error.find("lock timeout") != std::string::npos) continue;  // retry next cycle
        cpp_guard([&] {
            std::vector<std::string> lines;
            for (const auto &h : hints)
                lines.push_back(h.rule + ": " + h.message +
                                (h.suggested_sql.empty() ? "" : " " + h.suggested_sql));
            (*hint_cache)[e.key.queryid] = std::move(lines);
        });
    }
    cpp_guard([&] {
        for (int i : order) {
            auto it = hint_cache->find(entries[i].key.queryid);
            if (it == hint_cache->end() || it->second.empty()) continue;
            QueryInsight *qi = nullptr;
            for (int k = 0; k < *nout && !qi; ++k)
                if (out[k].queryid == entries[i].key.queryid) qi = &out[k];
            if (!qi) {
                if (*nout >= kMaxInsights) continue;
                qi = &out[(*nout)++];
                std::memset(qi, 0, sizeof *qi);
                qi->queryid = entries[i].key.queryid;
            }
            for (const auto &line : it->second) {
                if (std::strstr(qi->suggestions, line.c_str())) continue;  // another user's entry, same text
                append_line(qi->suggestions, sizeof qi->suggestions, line);
            }
        }
    });
}

void run_query_optimization(CycleContext &ctx, rt::Mode mode, SkillOutcome &outcome) {
    (void)mode;
    QueryStatsShared *qs = query_stats_shared();
    if (!qs) {
        set_text(outcome.note, sizeof outcome.note, "query statistics are not in shared memory");
        return;
    }
    int n = 0;
    QueryEntry *entries = snapshot_queries(&n);
    LWLockAcquire(qs->stats_lock, LW_SHARED);
    uint64_t generation = qs->reset_generation;
    LWLockRelease(qs->stats_lock);

    // Drain the rings (each under its spinlock: a handful of copies).
    int cap = qs->ring_count * kRingSize;
    auto *ring =
        static_cast<RingEntry *>(palloc_extended(sizeof(RingEntry) * std::max(cap, 1), MCXT_ALLOC_HUGE));
    int nring = 0;
    for (int i = 0; i < qs->ring_count; ++i) {
        ExecRing *r = exec_ring(i);
        SpinLockAcquire(&r->mutex);
        uint64_t from = std::max(r->drained, r->head > kRingSize ? r->head - kRingSize : 0);
        for (uint64_t k = from; k < r->head; ++k) ring[nring++] = r->slots[k % kRingSize];
        r->drained = r->head;
        SpinLockRelease(&r->mutex);
    }
    int64_t now_us = static_cast<int64_t>(GetCurrentTimestamp());  // the rings' clock: TimestampTz µs

    auto *out = static_cast<QueryInsight *>(palloc(sizeof(QueryInsight) * kMaxInsights));
    auto *events = static_cast<RegressionEvent *>(palloc(sizeof(RegressionEvent) * kMaxRegressionEvents));
    int nout = 0, nevents = 0;
    char note[kNoteLen] = {0};
    cpp_guard([&] {
        learn(entries, n, ring, nring, generation, now_us, out, &nout, events, &nevents, note, sizeof note);
    });
    attach_rewrite_hints(entries, n, out, &nout);
    publish_insights(out, nout);
    for (int i = 0; i < nevents; ++i) {
        const RegressionEvent &ev = events[i];
        char json[512];
        snprintf(json, sizeof json,
                 "{\"queryid\": %lld, \"ratio\": %.4g, \"p\": %.4g, \"mean_ms_before\": %.6g, "
                 "\"mean_ms_after\": %.6g, \"samples_before\": %llu, \"samples_after\": %llu}",
                 static_cast<long long>(ev.queryid), ev.ratio, ev.p_value, ev.mean_before, ev.mean_after,
                 static_cast<unsigned long long>(ev.samples_before),
                 static_cast<unsigned long long>(ev.samples_after));
        publish_signal(static_cast<int>(ctx.agent), kSignalBroadcast, "plan_regression", json);
    }
    set_text(outcome.note, sizeof outcome.note, note);
}

// ---- lasting learning: baselines and sticky flags ------------------------------------------------------
constexpr uint32_t kSectionVersion = 1;

void save(core::ByteWriter &out) {
    if (!learned) {
        out.put<uint32_t>(0);
        out.put<uint32_t>(0);
        return;
    }
    std::vector<uint8_t> b = learned->baseline->encode();
    out.put<uint32_t>(static_cast<uint32_t>(b.size()));
    out.put_bytes(b.data(), b.size());
    out.put<uint32_t>(static_cast<uint32_t>(learned->sticky.size()));
    for (const auto &[qid, s] : learned->sticky) {
        out.put(qid);
        out.put(s.n1_count);
        out.put(s.n1_occurrences);
        out.put_string(s.n1_suggestion);
        out.put(s.regressed_fp);
        out.put(s.checked_fp);
        out.put(s.ratio);
        out.put(s.p_value);
        out.put_string(s.regression_text);
    }
}

void load(uint32_t version, core::ByteReader &in) {
    if (version != kSectionVersion)
        throw std::invalid_argument("unsupported query_optimization section version");
    Learned &l = state();
    uint32_t blen = in.get<uint32_t>();
    if (blen > 0) {
        const unsigned char *p = in.peek(blen);
        l.baseline = std::make_unique<cq::QueryBaseline>(cq::QueryBaseline::decode(p, blen));
        in.skip(blen);
    }
    uint32_t ns = in.get<uint32_t>();
    std::unordered_map<uint64_t, Sticky> sticky;
    for (uint32_t i = 0; i < ns && i < 1000000; ++i) {
        uint64_t qid = in.get<uint64_t>();
        Sticky s;
        s.n1_count = in.get<uint64_t>();
        s.n1_occurrences = in.get<uint64_t>();
        s.n1_suggestion = in.get_string(4096);
        s.regressed_fp = in.get<uint64_t>();
        s.checked_fp = in.get<uint64_t>();
        s.ratio = in.get<double>();
        s.p_value = in.get<double>();
        s.regression_text = in.get_string(4096);
        sticky[qid] = std::move(s);
    }
    l.sticky.swap(sticky);
}

}  // namespace

SkillRun query_optimization_runner() {
    return run_query_optimization;
}

void register_query_optimizer() {
    register_query_stats();
    define_query_directives();
    install_query_hooks();
    register_reset_target("queries", reset_query_stats);
    register_agent_state_section(rt::AgentId::QueryOptimizer,
                                 {"query_optimization", kSectionVersion, save, load});
}

}  // namespace rubberduck::pg
