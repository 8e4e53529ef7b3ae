#include "core/query/query_baseline.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace rubberduck::core::query {

namespace {

constexpr char kMagic[4] = {'R', 'D', 'Q', 'B'};
constexpr std::size_t kHeaderBytes = 12, kTrailerBytes = 8;

uint64_t fnv1a64(const uint8_t *p, std::size_t n) {
    uint64_t h = 0xCBF29CE484222325ULL;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;
    return h;
}

void put_u64(std::vector<uint8_t> &out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put_f64(std::vector<uint8_t> &out, double d) {
    uint64_t v;
    std::memcpy(&v, &d, sizeof v);
    put_u64(out, v);
}
uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}
double get_f64(const uint8_t *p) {
    const uint64_t v = get_u64(p);
    double d;
    std::memcpy(&d, &v, sizeof d);
    return d;
}

[[noreturn]] void corrupt(const std::string &what) {
    throw std::invalid_argument("query baseline state: " + what + "; discard it and start learning afresh");
}

}  // namespace

QueryBaseline::QueryBaseline(BaselineConfig config) : config_(config) {
    if (!(config_.alpha > 0.0 && config_.alpha <= 1.0))
        throw std::invalid_argument("baseline: alpha must be in (0, 1]");
    if (config_.max_entries < 1) throw std::invalid_argument("baseline: max_entries must be >= 1");
    if (!(config_.z_threshold > 0.0) || !(config_.min_ratio >= 1.0))
        throw std::invalid_argument("baseline: z_threshold must be > 0 and min_ratio >= 1");
}

bool QueryBaseline::update(uint64_t queryid, const LatencyMoments &w, int64_t now_us) {
    if (!std::isfinite(w.mean_ms) || w.mean_ms < 0.0 || !std::isfinite(w.variance_ms2) ||
        w.variance_ms2 < 0.0)
        throw std::invalid_argument("baseline: window mean and variance must be finite and >= 0");
    if (w.count == 0 || w.count < config_.min_window_calls) return false;
    auto it = entries_.find(queryid);
    if (it == entries_.end()) {
        if (entries_.size() >= config_.max_entries) evict_least_recent();
        it = entries_.emplace(queryid, BaselineEntry{}).first;
        it->second.queryid = queryid;
    }
    BaselineEntry &e = it->second;
    e.latency.update_window(w.mean_ms, w.variance_ms2, config_.alpha);
    e.calls += w.count;
    e.last_update_us = now_us;
    return true;
}

BaselineComparison QueryBaseline::compare(uint64_t queryid, const LatencyMoments &w) const {
    BaselineComparison c;
    const BaselineEntry *e = find(queryid);
    if (e == nullptr || e->latency.updates < config_.warmup_updates || w.count == 0 ||
        !std::isfinite(w.mean_ms))
        return c;
    c.known = true;
    c.baseline_mean_ms = e->latency.mean;
    c.baseline_stddev_ms = e->latency.stddev();
    c.ratio = c.baseline_mean_ms > 0.0 ? w.mean_ms / c.baseline_mean_ms : (w.mean_ms > 0.0 ? INFINITY : 1.0);
    const double se = c.baseline_stddev_ms / std::sqrt(static_cast<double>(w.count));
    const double diff = w.mean_ms - c.baseline_mean_ms;
    c.z = se > 0.0 ? diff / se : (diff > 0.0 ? INFINITY : (diff < 0.0 ? -INFINITY : 0.0));
    c.slower_than_usual = c.z > config_.z_threshold && c.ratio >= config_.min_ratio;
    return c;
}

const BaselineEntry *QueryBaseline::find(uint64_t queryid) const {
    const auto it = entries_.find(queryid);
    return it == entries_.end() ? nullptr : &it->second;
}

std::size_t QueryBaseline::memory_bytes() const noexcept {
    // Node + bucket overhead of unordered_map, roughly.
    return sizeof(*this) + entries_.size() * (sizeof(BaselineEntry) + 4 * sizeof(void *)) +
           entries_.bucket_count() * sizeof(void *);
}

void QueryBaseline::evict_least_recent() {
    if (entries_.empty()) return;
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto &a, const auto &b) {
        return a.second.last_update_us != b.second.last_update_us
                   ? a.second.last_update_us < b.second.last_update_us
                   : a.first < b.first;
    });
    entries_.erase(oldest);
}

std::vector<uint8_t> QueryBaseline::encode() const {
    // Sorted by queryid so the same state always gives the same bytes.
    std::vector<const BaselineEntry *> sorted;
    sorted.reserve(entries_.size());
    for (const auto &kv : entries_) sorted.push_back(&kv.second);
    std::sort(sorted.begin(), sorted.end(), [](auto a, auto b) { return a->queryid < b->queryid; });

    std::vector<uint8_t> out;
    out.reserve(kHeaderBytes + sorted.size() * kEntryBytes + kTrailerBytes);
    for (char ch : kMagic) out.push_back(static_cast<uint8_t>(ch));
    out.push_back(static_cast<uint8_t>(kVersion & 0xff));
    out.push_back(static_cast<uint8_t>(kVersion >> 8));
    out.push_back(0);
    out.push_back(0);
    const uint32_t n = static_cast<uint32_t>(sorted.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
    for (const BaselineEntry *e : sorted) {
        put_u64(out, e->queryid);
        put_f64(out, e->latency.mean);
        put_f64(out, e->latency.variance);
        put_u64(out, e->latency.updates);
        put_u64(out, e->calls);
        put_u64(out, static_cast<uint64_t>(e->last_update_us));
    }
    put_u64(out, fnv1a64(out.data(), out.size()));
    return out;
}

QueryBaseline QueryBaseline::decode(const uint8_t *data, std::size_t size, BaselineConfig config) {
    QueryBaseline b(config);
    if (data == nullptr && size > 0) corrupt("null buffer");
    if (size < kHeaderBytes + kTrailerBytes) corrupt("truncated header (" + std::to_string(size) + " bytes)");
    if (std::memcmp(data, kMagic, 4) != 0) corrupt("bad magic, not a query baseline");
    const uint16_t version = static_cast<uint16_t>(data[4] | (data[5] << 8));
    if (version == 0 || version > kVersion)
        corrupt("unsupported version " + std::to_string(version) + " (this build reads up to " +
                std::to_string(kVersion) + ")");
    if (data[6] != 0 || data[7] != 0) corrupt("reserved header bytes are not zero");
    const uint32_t n = static_cast<uint32_t>(data[8]) | (static_cast<uint32_t>(data[9]) << 8) |
                       (static_cast<uint32_t>(data[10]) << 16) | (static_cast<uint32_t>(data[11]) << 24);
    const std::size_t body = size - kHeaderBytes - kTrailerBytes;
    if (body % kEntryBytes != 0 || body / kEntryBytes != n)
        corrupt("entry count " + std::to_string(n) + " does not match the " + std::to_string(body) +
                "-byte body");
    if (get_u64(data + size - kTrailerBytes) != fnv1a64(data, size - kTrailerBytes))
        corrupt("checksum mismatch");

    std::vector<BaselineEntry> entries;
    entries.reserve(n);
    std::unordered_set<uint64_t> seen;
    for (uint32_t i = 0; i < n; ++i) {
        const uint8_t *p = data + kHeaderBytes + static_cast<std::size_t>(i) * kEntryBytes;
        BaselineEntry e;
        e.queryid = get_u64(p);
        e.latency.mean = get_f64(p + 8);
        e.latency.variance = get_f64(p + 16);
        e.latency.updates = get_u64(p + 24);
        e.calls = get_u64(p + 32);
        e.last_update_us = static_cast<int64_t>(get_u64(p + 40));
        if (!std::isfinite(e.latency.mean) || e.latency.mean < 0.0 || !std::isfinite(e.latency.variance) ||
            e.latency.variance < 0.0 || e.latency.updates == 0)
            corrupt("entry " + std::to_string(i) + " has invalid numbers");
        if (!seen.insert(e.queryid).second) corrupt("duplicate queryid " + std::to_string(e.queryid));
        entries.push_back(e);
    }
    if (entries.size() > config.max_entries) {
        std::sort(entries.begin(), entries.end(), [](const BaselineEntry &a, const BaselineEntry &b) {
            return a.last_update_us > b.last_update_us;
        });
        entries.resize(config.max_entries);
    }
    for (const auto &e : entries) b.entries_.emplace(e.queryid, e);
    return b;
}

}  // namespace rubberduck::core::query
