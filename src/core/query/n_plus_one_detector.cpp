#include "core/query/n_plus_one_detector.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace rubberduck::core::query {

const char *to_string(NPlusOneSource s) noexcept {
    switch (s) {
        case NPlusOneSource::PlpgsqlLoop:
            return "plpgsql_loop";
        case NPlusOneSource::ClientLoopInTransaction:
            return "client_loop_in_transaction";
        case NPlusOneSource::ClientLoopAutocommit:
            return "client_loop_autocommit";
    }
    return "unknown";
}

std::string n_plus_one_suggestion(const NPlusOneFinding &f) {
    std::string where;
    switch (f.source) {
        case NPlusOneSource::PlpgsqlLoop:
            where = "a loop inside a function (nesting level " + std::to_string(f.max_nesting_level) + ")";
            break;
        case NPlusOneSource::ClientLoopInTransaction:
            where = "a client loop inside one transaction";
            break;
        case NPlusOneSource::ClientLoopAutocommit:
            where = "a client loop of separate statements";
            break;
    }
    std::string head = "Executed " + std::to_string(f.count) + " times by one backend within " +
                       std::to_string((f.window_end_us - f.window_start_us) / 1000) + " ms from " + where +
                       ", at most " + std::to_string(f.max_rows) + " row(s) per call (N+1). ";
    std::string fix;
    switch (f.command) {
        case CommandKind::Insert:
            fix =
                "Insert all rows in one statement: INSERT ... SELECT * FROM unnest($1::type[], $2::type[]), "
                "a "
                "multi-row VALUES list, or COPY.";
            break;
        case CommandKind::Update:
        case CommandKind::Delete:
            fix =
                "Apply the change to all keys at once: ... WHERE id = ANY($1), or UPDATE ... FROM "
                "unnest($1::type[], $2::type[]) AS v(id, val) WHERE t.id = v.id.";
            break;
        case CommandKind::Select:
        case CommandKind::Other:
            fix =
                "Fetch all keys in one query with WHERE key = ANY($1) (pass an array), join the looked-up "
                "table "
                "in the query that produces the keys, or prefetch/eager-load the association in the ORM.";
            break;
    }
    if (f.source == NPlusOneSource::PlpgsqlLoop)
        fix += " In PL/pgSQL, replace the FOR loop with one set-based statement.";
    return head + fix;
}

std::size_t NPlusOneDetector::KeyHash::operator()(const Key &k) const noexcept {
    uint64_t h =
        k.queryid ^ (static_cast<uint64_t>(static_cast<uint32_t>(k.backend_id)) * 0x9E3779B97F4A7C15ULL);
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return static_cast<std::size_t>(h);
}

NPlusOneDetector::NPlusOneDetector(NPlusOneConfig config) : config_(config) {
    if (config_.min_executions < 2) throw std::invalid_argument("n_plus_one: min_executions must be >= 2");
    if (config_.max_gap_us <= 0) throw std::invalid_argument("n_plus_one: max_gap_us must be > 0");
    if (config_.idle_close_us < config_.max_gap_us)
        throw std::invalid_argument(
            "n_plus_one: idle_close_us must be >= max_gap_us, or runs close too early");
    if (config_.max_tracked < 1) throw std::invalid_argument("n_plus_one: max_tracked must be >= 1");
}

void NPlusOneDetector::observe(const ExecutionObservation *obs, std::size_t n) {
    if (n > 0 && obs == nullptr) throw std::invalid_argument("n_plus_one: null observation array");
    for (std::size_t i = 0; i < n; ++i) observe(obs[i]);
}

void NPlusOneDetector::observe(const ExecutionObservation &o) {
    if (o.queryid == 0 || o.rows > config_.max_rows_per_call) return;
    const Key key{o.backend_id, o.queryid};
    auto it = runs_.find(key);
    if (it != runs_.end()) {
        Run &r = it->second;
        const bool same_xact = o.transaction_id != 0 && o.transaction_id == r.transaction_id;
        const int64_t gap = o.timestamp_us > r.last_us ? o.timestamp_us - r.last_us : 0;  // drain may reorder
        if (same_xact || gap <= config_.max_gap_us) {
            ++r.count;
            r.max_rows = std::max(r.max_rows, o.rows);
            r.first_us = std::min(r.first_us, o.timestamp_us);
            r.last_us = std::max(r.last_us, o.timestamp_us);
            r.max_level = std::max(r.max_level, o.nesting_level);
            if (!same_xact) r.crossed_transactions = true;
            r.transaction_id = o.transaction_id;
            return;
        }
        close_run(it->first, r);
        runs_.erase(it);
    }
    if (runs_.size() >= config_.max_tracked) make_room(o.timestamp_us);
    runs_.emplace(key, Run{o.transaction_id, 1, o.rows, o.timestamp_us, o.timestamp_us, o.nesting_level,
                           o.transaction_id == 0, o.command});
}

void NPlusOneDetector::make_room(int64_t now_us) {
    // First close everything idle; only if nothing was idle evict the least recently active run.
    for (auto it = runs_.begin(); it != runs_.end();) {
        if (now_us - it->second.last_us > config_.idle_close_us) {
            close_run(it->first, it->second);
            it = runs_.erase(it);
        } else {
            ++it;
        }
    }
    if (runs_.size() < config_.max_tracked) return;
    auto oldest = std::min_element(runs_.begin(), runs_.end(), [](const auto &a, const auto &b) {
        return a.second.last_us < b.second.last_us;
    });
    close_run(oldest->first, oldest->second);
    runs_.erase(oldest);
    ++evicted_;
}

void NPlusOneDetector::close_run(const Key &key, const Run &r) {
    if (r.count < config_.min_executions) return;
    auto it = pending_.find(key.queryid);
    if (it == pending_.end()) {
        if (pending_.size() >= config_.max_tracked) {
            ++dropped_;
            return;
        }
        it = pending_.emplace(key.queryid, NPlusOneFinding{}).first;
    }
    NPlusOneFinding &f = it->second;
    ++f.occurrences;
    f.total_calls += r.count;
    if (r.count > f.count) {
        f.queryid = key.queryid;
        f.backend_id = key.backend_id;
        f.count = r.count;
        f.max_rows = r.max_rows;
        f.window_start_us = r.first_us;
        f.window_end_us = r.last_us;
        f.max_nesting_level = r.max_level;
        f.command = r.command;
        f.source = r.max_level > 0           ? NPlusOneSource::PlpgsqlLoop
                   : !r.crossed_transactions ? NPlusOneSource::ClientLoopInTransaction
                                             : NPlusOneSource::ClientLoopAutocommit;
    }
}

std::vector<NPlusOneFinding> NPlusOneDetector::take_pending() {
    std::vector<NPlusOneFinding> out;
    out.reserve(pending_.size());
    for (auto &kv : pending_) {
        kv.second.suggestion = n_plus_one_suggestion(kv.second);
        out.push_back(std::move(kv.second));
    }
    pending_.clear();
    std::sort(out.begin(), out.end(), [](const NPlusOneFinding &a, const NPlusOneFinding &b) {
        return a.total_calls != b.total_calls ? a.total_calls > b.total_calls : a.queryid < b.queryid;
    });
    return out;
}

std::vector<NPlusOneFinding> NPlusOneDetector::collect(int64_t now_us) {
    for (auto it = runs_.begin(); it != runs_.end();) {
        if (now_us - it->second.last_us > config_.idle_close_us) {
            close_run(it->first, it->second);
            it = runs_.erase(it);
        } else {
            ++it;
        }
    }
    return take_pending();
}

std::vector<NPlusOneFinding> NPlusOneDetector::flush() {
    for (const auto &kv : runs_) close_run(kv.first, kv.second);
    runs_.clear();
    return take_pending();
}

}  // namespace rubberduck::core::query
