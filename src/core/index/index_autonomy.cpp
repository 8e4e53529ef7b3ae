#include "core/index/index_autonomy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace rubberduck::core::index {

const char *to_string(VerifyVerdict v) {
    switch (v) {
        case VerifyVerdict::kKeep:
            return "keep";
        case VerifyVerdict::kRevert:
            return "revert";
        case VerifyVerdict::kWait:
            return "wait";
    }
    return "wait";
}

namespace {

std::string fmt(const char *f, double a, double b = 0, double c = 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, a, b, c);
    return buf;
}

bool usable(double calls, double total) {
    return calls > 0 && std::isfinite(total) && total >= 0;
}

}  // namespace

double affected_mean_before_ms(const std::vector<VerifyQuery> &queries) {
    double calls = 0, total = 0;
    for (const auto &q : queries) {
        if (!q.affected || !usable(q.before_calls, q.before_total_ms)) continue;
        calls += q.before_calls;
        total += q.before_total_ms;
    }
    return calls > 0 ? total / calls : -1;
}

VerifyResult verify_index(const std::vector<VerifyQuery> &queries, const VerifyOptions &o,
                          int extensions_used) {
    VerifyResult r;
    // Affected statements: weight both means by the verify window's calls (the current mix), so a change in
    // the mix does not pass for a change in speed.
    double weight = 0, before = 0, after = 0, affected_after_calls = 0;
    bool any_affected = false;
    for (const auto &q : queries) {
        if (!q.affected) continue;
        any_affected = true;
        affected_after_calls += std::max(0.0, q.after_calls);
        if (!usable(q.before_calls, q.before_total_ms) || !usable(q.after_calls, q.after_total_ms)) continue;
        weight += q.after_calls;
        before += q.after_calls * (q.before_total_ms / q.before_calls);
        after += q.after_calls * (q.after_total_ms / q.after_calls);
    }
    r.affected_calls = weight;
    if (weight > 0) {
        r.before_ms = before / weight;
        r.after_ms = after / weight;
        r.improvement = r.before_ms > 0 ? 1.0 - r.after_ms / r.before_ms : 0;
    }
    // Regressions: any statement (affected or not, reads and writes) judged on enough calls in both windows.
    for (const auto &q : queries) {
        if (q.before_calls < o.min_query_calls || q.after_calls < o.min_query_calls) continue;
        if (!usable(q.before_calls, q.before_total_ms) || !usable(q.after_calls, q.after_total_ms)) continue;
        r.judged_queries++;
        double b = q.before_total_ms / q.before_calls;
        double a = q.after_total_ms / q.after_calls;
        if (b <= 0) continue;
        double ratio = a / b;
        if (ratio > 1.0 + o.regression_threshold && a - b > o.regression_floor_ms && ratio > r.worst_ratio) {
            r.worst_ratio = ratio;
            r.worst_queryid = q.queryid;
        }
    }
    if (r.worst_queryid != 0) {
        r.verdict = VerifyVerdict::kRevert;
        for (const auto &q : queries)
            if (q.queryid == r.worst_queryid && q.before_calls > 0 && q.after_calls > 0) {
                double b = q.before_total_ms / q.before_calls;
                double a = q.after_total_ms / q.after_calls;
                r.reason = "statement " + std::to_string(q.queryid) +
                           (q.write      ? " (a write)"
                            : q.affected ? " (affected)"
                                         : "") +
                           fmt(" regressed: %.3f ms -> %.3f ms per call (x%.2f)", b, a, a / b) +
                           fmt(", beyond the %.0f%% regression threshold", o.regression_threshold * 100);
                break;
            }
        return r;
    }
    bool short_of_calls = !any_affected || weight <= 0 || affected_after_calls < o.min_calls;
    if (short_of_calls) {
        std::string what = !any_affected ? "no affected statement is known"
                           : weight <= 0 ? "no affected statement ran in both windows"
                                         : fmt("only %.0f affected calls in the verify window (%.0f needed)",
                                               affected_after_calls, o.min_calls);
        if (extensions_used < o.max_extensions) {
            r.verdict = VerifyVerdict::kWait;
            r.reason = what + fmt("; extending the verify window (%.0f of %.0f extensions)",
                                  extensions_used + 1.0, static_cast<double>(o.max_extensions));
        } else {
            r.verdict = VerifyVerdict::kRevert;
            r.reason = what + fmt(" after %.0f extra windows: the benefit cannot be shown",
                                  static_cast<double>(o.max_extensions));
        }
        return r;
    }
    if (r.improvement >= o.min_improvement) {
        r.verdict = VerifyVerdict::kKeep;
        r.reason =
            fmt("affected statements %.3f ms -> %.3f ms per call (%.1f%% faster", r.before_ms, r.after_ms,
                r.improvement * 100) +
            fmt(", %.0f calls); no regression beyond %.0f%%", r.affected_calls, o.regression_threshold * 100);
    } else {
        r.verdict = VerifyVerdict::kRevert;
        r.reason = fmt("affected statements %.3f ms -> %.3f ms per call (%.1f%% faster", r.before_ms,
                       r.after_ms, r.improvement * 100) +
                   fmt("), below the %.0f%% required improvement", o.min_improvement * 100);
    }
    return r;
}

ApplyDecision choose_next_build(const std::vector<AdviceCandidate> &advised, const ApplyState &s) {
    ApplyDecision d;
    if (s.change_in_progress) {
        d.reason = "another index change is being built or verified";
        return d;
    }
    if (!s.in_maintenance_window) {
        d.reason = "outside rubberduck.indexing_maintenance_window";
        return d;
    }
    if (s.kept_indexes >= s.max_indexes) {
        d.reason = "rubberduck.indexing_max_indexes reached (" + std::to_string(s.kept_indexes) +
                   " agent-built indexes)";
        return d;
    }
    std::vector<AdviceCandidate> order = advised;
    std::stable_sort(order.begin(), order.end(), [](const AdviceCandidate &a, const AdviceCandidate &b) {
        if (a.est_improvement_pct != b.est_improvement_pct)
            return a.est_improvement_pct > b.est_improvement_pct;
        return a.id < b.id;
    });
    bool over_budget = false;
    for (const auto &c : order) {
        if (!(c.est_improvement_pct > 0)) continue;
        if (s.storage_budget_bytes >= 0 &&
            s.kept_bytes + std::max<int64_t>(0, c.est_size_bytes) > s.storage_budget_bytes) {
            over_budget = true;
            continue;
        }
        d.advice_id = c.id;
        d.reason =
            fmt("highest estimated improvement (%.1f%% of the workload's cost)", c.est_improvement_pct);
        return d;
    }
    d.reason = over_budget ? "no advised index fits rubberduck.indexing_storage_budget" : "nothing advised";
    return d;
}

}  // namespace rubberduck::core::index
