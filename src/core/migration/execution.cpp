#include "core/migration/execution.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace rubberduck::core::migration {

bool is_retryable_sqlstate(std::string_view sqlstate) {
    return sqlstate == "55P03" || sqlstate == "40P01";
}

int backoff_delay_ms(const RetryPolicy &policy, int retry, double unit_random) {
    if (retry < 1) retry = 1;
    double d = static_cast<double>(std::max(0, policy.base_delay_ms)) *
               std::pow(std::max(1.0, policy.factor), retry - 1);
    d = std::min(d, static_cast<double>(std::max(0, policy.max_delay_ms)));
    unit_random = std::clamp(unit_random, 0.0, 1.0);
    return static_cast<int>(std::lround(d / 2 + d / 2 * unit_random));
}

bool should_retry(const RetryPolicy &policy, int attempt, std::string_view sqlstate) {
    return is_retryable_sqlstate(sqlstate) && attempt <= policy.retries;
}

std::vector<Segment> plan_segments(const std::vector<PlannedStatement> &statements) {
    std::vector<Segment> out;
    for (const auto &s : statements) {
        if (s.transaction_control) continue;
        if (s.top_level_only) {
            out.push_back(Segment{true, {s}});
        } else {
            if (out.empty() || out.back().top_level) out.push_back(Segment{false, {}});
            out.back().statements.push_back(s);
        }
    }
    return out;
}

bool needs_top_level(const std::vector<Segment> &segments) {
    return std::any_of(segments.begin(), segments.end(), [](const Segment &s) { return s.top_level; });
}

std::string quote_ident(std::string_view ident) {
    std::string out = "\"";
    for (char c : ident) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::string qualified(std::string_view schema, std::string_view name) {
    if (schema.empty()) return quote_ident(name);
    return quote_ident(schema) + "." + quote_ident(name);
}

std::string orphan_count_sql(const ForeignKeyInfo &fk) {
    if (fk.child_columns.empty() || fk.child_columns.size() != fk.parent_columns.size())
        throw std::invalid_argument("foreign key " + fk.name +
                                    ": key column lists are empty or differ in length");
    std::string not_null, join;
    for (size_t i = 0; i < fk.child_columns.size(); ++i) {
        if (i) {
            not_null += " AND ";
            join += " AND ";
        }
        not_null += "c." + quote_ident(fk.child_columns[i]) + " IS NOT NULL";
        join += "p." + quote_ident(fk.parent_columns[i]) + " = c." + quote_ident(fk.child_columns[i]);
    }
    return "SELECT count(*) FROM " + qualified(fk.child_schema, fk.child_table) + " c WHERE " + not_null +
           " AND NOT EXISTS (SELECT 1 FROM " + qualified(fk.parent_schema, fk.parent_table) + " p WHERE " +
           join + ")";
}

RowCountMethod choose_row_count_method(double reltuples, std::optional<LockMode> held) {
    if (held && blocks_writes(*held) && reltuples < kExactCountMaxRows) return RowCountMethod::Exact;
    return RowCountMethod::TransactionDelta;
}

std::vector<std::string> row_count_violations(const std::vector<RowCountObservation> &rows,
                                              const std::vector<std::string> &expect_row_changes,
                                              bool expect_any) {
    std::vector<std::string> out;
    if (expect_any) return out;
    for (const auto &r : rows) {
        if (r.before == r.after) continue;
        if (std::find(expect_row_changes.begin(), expect_row_changes.end(), r.relation) !=
            expect_row_changes.end())
            continue;
        char buf[512];
        if (r.method == RowCountMethod::Exact)
            snprintf(buf, sizeof buf, "row count of %s changed from %lld to %lld", r.relation.c_str(),
                     static_cast<long long>(r.before), static_cast<long long>(r.after));
        else
            snprintf(buf, sizeof buf, "the migration inserted minus deleted %lld rows in %s",
                     static_cast<long long>(r.after - r.before), r.relation.c_str());
        out.emplace_back(buf);
    }
    return out;
}

RegressionResult judge_regression(const std::vector<QueryLatencySample> &samples, double max_ratio,
                                  double min_calls, double min_delta_ms) {
    RegressionResult r;
    double would_have_ms = 0, took_ms = 0;
    for (const auto &s : samples) {
        if (s.calls_before <= 0 || s.calls_now < s.calls_before || s.total_ms_now < s.total_ms_before)
            continue;
        double calls = s.calls_now - s.calls_before;
        if (calls <= 0) continue;
        double before_mean = s.total_ms_before / s.calls_before;
        would_have_ms += calls * before_mean;
        took_ms += s.total_ms_now - s.total_ms_before;
        r.after_calls += calls;
        r.queries++;
    }
    char buf[512];
    if (r.after_calls < min_calls || r.after_calls <= 0) {
        snprintf(
            buf, sizeof buf,
            "%.0f calls of %d queries on the migrated tables since the migration (need %.0f): not enough to "
            "judge",
            r.after_calls, r.queries, min_calls);
        r.reason = buf;
        return r;
    }
    r.before_mean_ms = would_have_ms / r.after_calls;
    r.after_mean_ms = took_ms / r.after_calls;
    // A before-mean of zero (sub-microsecond timer resolution) cannot regress by a ratio; treat as equal.
    r.ratio = would_have_ms > 0 ? took_ms / would_have_ms : 1.0;
    bool grew_enough = r.after_mean_ms - r.before_mean_ms >= min_delta_ms;
    r.verdict = r.ratio > max_ratio && grew_enough ? WatchVerdict::Regressed : WatchVerdict::Ok;
    snprintf(
        buf, sizeof buf,
        "mean latency of %d queries on the migrated tables went from %.3f ms to %.3f ms per call (%.2fx over "
        "%.0f calls; threshold %.2fx%s)",
        r.queries, r.before_mean_ms, r.after_mean_ms, r.ratio, r.after_calls, max_ratio,
        r.ratio > max_ratio && !grew_enough ? ", but below the minimum growth per call" : "");
    r.reason = buf;
    return r;
}

const char *watch_verdict_name(WatchVerdict v) {
    switch (v) {
        case WatchVerdict::Ok:
            return "ok";
        case WatchVerdict::Regressed:
            return "regressed";
        default:
            return "insufficient";
    }
}

}  // namespace rubberduck::core::migration
