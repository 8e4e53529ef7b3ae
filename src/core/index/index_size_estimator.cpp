#include "core/index/index_size_estimator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

namespace rubberduck::core::index {

namespace {

constexpr int kPageHeader = 24;       // SizeOfPageHeaderData
constexpr int kBtreeSpecial = 16;     // MAXALIGN(sizeof(BTPageOpaqueData))
constexpr int kItemId = 4;            // sizeof(ItemIdData)
constexpr int kIndexTupleHeader = 8;  // sizeof(IndexTupleData)
constexpr int kNullBitmap = 4;        // IndexAttributeBitMapData (INDEX_MAX_KEYS / 8)
constexpr int kHeapTid = 6;           // sizeof(ItemPointerData)
constexpr int kInnerFillfactor = 70;  // BTREE_NONLEAF_FILLFACTOR

int64_t maxalign(double n) {
    return static_cast<int64_t>(std::ceil(n / 8.0)) * 8;
}

struct TypeLayout {
    double width;
    int align;
    bool varlena;
    bool dedup_safe;  // btree deduplication needs an "equalimage" opclass
};

std::string base_type(const std::string &type_name) {
    std::string t;
    for (unsigned char c : type_name) t += static_cast<char>(std::tolower(c));
    bool array = t.find("[]") != std::string::npos;
    auto paren = t.find('(');
    if (paren != std::string::npos) {
        // "character varying(20)" → "character varying"; keep text after ')' ("timestamp(3) with time zone").
        auto close = t.find(')', paren);
        t = t.substr(0, paren) + (close == std::string::npos ? "" : t.substr(close + 1));
    }
    while (!t.empty() && t.back() == ' ') t.pop_back();
    return array ? t + "[]" : t;
}

TypeLayout layout_of(const ColumnStats *col, bool *approximate) {
    if (!col) {
        *approximate = true;
        return {8, 8, false, true};
    }
    std::string t = base_type(col->type_name);
    if (t == "smallint" || t == "int2") return {2, 2, false, true};
    if (t == "integer" || t == "int" || t == "int4" || t == "date" || t == "oid") return {4, 4, false, true};
    if (t == "real" || t == "float4") return {4, 4, false, false};
    if (t == "bigint" || t == "int8" || t == "timestamp" || t == "timestamptz" ||
        t == "timestamp without time zone" || t == "timestamp with time zone" || t == "time" ||
        t == "time without time zone" || t == "money") {
        return {8, 8, false, true};
    }
    if (t == "double precision" || t == "float8") return {8, 8, false, false};
    if (t == "interval") return {16, 8, false, true};
    if (t == "time with time zone" || t == "timetz") return {12, 8, false, true};
    if (t == "boolean" || t == "bool" || t == "\"char\"") return {1, 1, false, true};
    if (t == "uuid") return {16, 1, false, true};
    if (t == "macaddr") return {6, 4, false, true};
    // Variable length: pg_stats.avg_width already counts the varlena header; values under 127 bytes are
    // stored with a 1-byte header and no alignment padding.
    double w = std::max(1.0, std::round(col->avg_width));
    bool dedup_safe = !(t == "numeric" || t == "decimal" || t == "jsonb" || t == "json" ||
                        t.find("[]") != std::string::npos);
    return {w, w < 127 ? 1 : 4, true, dedup_safe};
}

struct KeyColumn {
    TypeLayout layout;
    double null_frac;
    const ColumnStats *stats;
};

std::vector<KeyColumn> resolve(const std::vector<std::string> &names, const RelationStats &rel,
                               bool *approximate) {
    std::vector<KeyColumn> out;
    for (const auto &n : names) {
        const ColumnStats *c = rel.find_column(n);
        out.push_back({layout_of(c, approximate), c ? std::clamp(c->null_frac, 0.0, 1.0) : 0.0, c});
    }
    return out;
}

// Data bytes after the tuple header; `present` scales each width by its probability of being non-NULL.
double data_width(const std::vector<KeyColumn> &cols, double header, bool expected_nulls) {
    double off = header;
    for (const auto &c : cols) {
        double w = c.layout.width * (expected_nulls ? (1.0 - c.null_frac) : 1.0);
        if (w <= 0) continue;
        off = std::ceil(off / c.layout.align) * c.layout.align + w;
    }
    return off;
}

// Expected MAXALIGNed tuple size: tuples without NULLs use the plain header, tuples with a NULL carry the
// bitmap.
double tuple_size(const std::vector<KeyColumn> &cols) {
    double p_no_null = 1.0;
    for (const auto &c : cols) p_no_null *= (1.0 - c.null_frac);
    double plain = static_cast<double>(maxalign(data_width(cols, kIndexTupleHeader, false)));
    if (p_no_null >= 1.0) return plain;
    double with_null =
        static_cast<double>(maxalign(data_width(cols, maxalign(kIndexTupleHeader + kNullBitmap), true)));
    return p_no_null * plain + (1.0 - p_no_null) * with_null;
}

std::vector<std::string> key_columns(const IndexDef &def) {
    std::vector<std::string> out;
    for (const auto &k : def.keys) out.push_back(k.column);
    return out;
}

SizeEstimate estimate_btree(const IndexDef &def, const RelationStats &rel, double rows,
                            const SizeEstimatorOptions &o) {
    SizeEstimate e;
    e.index_tuples = rows;
    const double bs = o.block_size;
    const double usable = bs - kPageHeader - kBtreeSpecial;
    const double leaf_free = std::floor(bs * (100 - o.btree_leaf_fillfactor) / 100.0);
    const double inner_free = std::floor(bs * (100 - kInnerFillfactor) / 100.0);

    auto keys = resolve(key_columns(def), rel, &e.approximate);
    auto all = keys;
    auto inc = resolve(def.include, rel, &e.approximate);
    all.insert(all.end(), inc.begin(), inc.end());

    if (rows < 1) {  // an empty btree is just its metapage
        e.pages = 1;
        e.bytes = static_cast<int64_t>(bs);
        return e;
    }

    // Distinct keys: product of per-column distinct counts, capped by the rows.
    double distinct = 1;
    bool dedup_types = true;
    for (const auto &k : keys) {
        distinct *= k.stats ? distinct_values(*k.stats, rel.reltuples) : rows;
        dedup_types = dedup_types && k.layout.dedup_safe;
        distinct = std::min(distinct, rows);
    }
    distinct = std::max(1.0, std::min(distinct, rows));
    const double dups_per_key = rows / distinct;

    const double leaf_tuple = tuple_size(all);
    double pivot = static_cast<double>(maxalign(data_width(keys, kIndexTupleHeader, false)));
    if (dups_per_key >= 2 && !def.unique) pivot += 8;  // pivots keep a heap TID to split runs of equal keys
    const double pivot_item = pivot + kItemId;

    double items;
    double item_for_packing;
    bool dedup = !def.unique && def.include.empty() && dedup_types && dups_per_key >= 2;
    const double max_posting = std::floor(bs * 10 / 100 / 8) * 8 - kItemId;  // nbtsort.c build limit: 812
    const double key_size = leaf_tuple;
    const double tids_per_posting = std::floor((max_posting - key_size) / kHeapTid);
    if (dedup && tids_per_posting >= 2) {
        const double r = std::max(2.0, std::round(dups_per_key));
        const double full = std::ceil(r / tids_per_posting);
        const double last_tids = r - (full - 1) * tids_per_posting;
        const double full_size =
            static_cast<double>(maxalign(key_size + kHeapTid * tids_per_posting)) + kItemId;
        const double last_size =
            (last_tids < 2 ? key_size : static_cast<double>(maxalign(key_size + kHeapTid * last_tids))) +
            kItemId;
        items = distinct * full;
        // Pages fill with the full-size postings when a key needs several; otherwise all items are alike.
        item_for_packing = full > 1 ? full_size : last_size;
    } else {
        items = rows;
        item_for_packing = leaf_tuple + kItemId;
    }

    auto per_page = [&](double item, double free_target) {
        double n = std::floor((usable - pivot_item - free_target) / item) + 1;
        n = std::min(n, std::floor((usable - pivot_item) / item));
        return std::max(1.0, n);
    };
    const double leaf_per_page = per_page(item_for_packing, leaf_free);
    const double inner_per_page = std::max(2.0, per_page(pivot_item, inner_free));

    double level_pages = std::ceil(items / leaf_per_page);
    e.leaf_pages = static_cast<int64_t>(level_pages);
    double total = 1 + level_pages;  // metapage + leaves
    while (level_pages > 1) {
        level_pages = std::ceil(level_pages / inner_per_page);
        total += level_pages;
        ++e.height;
    }
    e.pages = static_cast<int64_t>(total);
    e.bytes = e.pages * o.block_size;
    return e;
}

SizeEstimate estimate_hash(const IndexDef &def, const RelationStats &rel, double rows,
                           const SizeEstimatorOptions &o) {
    SizeEstimate e;
    const ColumnStats *c = rel.find_column(def.keys.front().column);
    if (!c) e.approximate = true;
    const double tuples = rows * (1.0 - (c ? std::clamp(c->null_frac, 0.0, 1.0) : 0.0));
    e.index_tuples = tuples;
    const double item =
        kIndexTupleHeader + 8 + kItemId;  // MAXALIGN(header) + MAXALIGN(uint32 hash) + line ptr
    const double ffactor = std::max(10.0, std::floor(o.block_size * o.hash_fillfactor / 100.0 / item));
    const double want = tuples / ffactor;
    double buckets;
    if (want <= 2) {
        buckets = 2;
    } else {
        // Splitpoint groups below 2^10 buckets double; larger groups are allocated in four phases.
        int group = static_cast<int>(std::ceil(std::log2(want)));
        if (group < 10) {
            buckets = std::pow(2.0, group);
        } else {
            double base = std::pow(2.0, group - 1);
            double step = base / 4;
            buckets = base + step * std::ceil((want - base) / step);
        }
    }
    const double page_capacity = std::floor((o.block_size - kPageHeader - 16) / item);
    const double per_bucket = tuples / buckets;
    const double overflow =
        per_bucket > page_capacity ? buckets * (std::ceil(per_bucket / page_capacity) - 1) : 0;
    e.leaf_pages = static_cast<int64_t>(buckets + overflow);
    e.pages = e.leaf_pages + 2;  // + metapage + bitmap page
    e.bytes = e.pages * o.block_size;
    return e;
}

SizeEstimate estimate_brin(const IndexDef &def, const RelationStats &rel, const SizeEstimatorOptions &o) {
    SizeEstimate e;
    e.index_tuples = rel.reltuples;
    auto keys = resolve(key_columns(def), rel, &e.approximate);
    double summary = 8;  // BrinTuple header, then min and max per key (minmax opclass)
    for (const auto &k : keys) {
        summary = std::ceil(summary / k.layout.align) * k.layout.align + 2 * k.layout.width;
    }
    const double item = static_cast<double>(maxalign(summary)) + kItemId;
    const double ranges = std::max(1.0, std::ceil(std::max(0.0, rel.relpages) / o.brin_pages_per_range));
    const double revmap_per_page = std::floor((o.block_size - kPageHeader - 8) / 6.0);  // 1360 ItemPointers
    const double revmap_pages = std::ceil(ranges / revmap_per_page);
    const double regular_pages = std::max(1.0, std::ceil(ranges * item / (o.block_size - kPageHeader - 8)));
    e.leaf_pages = static_cast<int64_t>(regular_pages);
    e.pages = static_cast<int64_t>(1 + revmap_pages + regular_pages);
    e.bytes = e.pages * o.block_size;
    return e;
}

// ---- trigram GIN model (see the header) ----

constexpr double kGinEntryFill = 0.75;

// Bytes of one varbyte-encoded TID delta, expected over exponential gaps of mean `gap` rows at `rpp` rows per
// heap page: 1 byte within a page; crossing a page the delta is ~(pages << 11): 2 bytes below 8 pages, 3
// below 1024, 4 beyond.
double delta_bytes(double gap, double rpp) {
    gap = std::max(gap, 1.0);
    rpp = std::max(rpp, 1.0);
    double cross = (gap / rpp) * (1.0 - std::exp(-rpp / gap));
    return 1.0 + cross + std::exp(-8.0 * rpp / gap) + std::exp(-1024.0 * rpp / gap);
}

struct KeyClass {
    double keys;   // keys in this class
    double items;  // rows (TIDs) per key
};

struct GinLayout {
    double entry_bytes = 0;  // entry tuples incl. line pointers
    double data_pages = 0;   // posting tree pages
};

// Adds `keys` keys of `n` TIDs each to the layout.
void add_keys(GinLayout &g, double keys, double n, double heap_rows, double rpp, double bs) {
    if (keys <= 0 || n <= 0) return;
    n = std::max(1.0, n);
    const double b = delta_bytes(heap_rows / n, rpp);
    const double max_item = std::floor((bs - 40 - 8) / 3 / 8) * 8;  // GinMaxItemSize: 2712 at 8 kB
    const double inline_tuple = static_cast<double>(maxalign(12 + 8 + (n - 1) * b));
    if (inline_tuple <= max_item) {
        g.entry_bytes += keys * (inline_tuple + kItemId);
        return;
    }
    const double leaf_space = bs - kPageHeader - 8 - 8;      // GinDataPageMaxDataSize: 8152
    const double data = n * b + 8 * std::ceil(n * b / 256);  // segment headers (~256-byte segments)
    double leaves = std::ceil(data / leaf_space);
    double inner = 0;
    for (double level = leaves; level > 1;) {
        level = std::ceil(level / std::floor(leaf_space / 12));  // PostingItem: 12 bytes
        inner += level;
    }
    g.entry_bytes += keys * (16 + kItemId);
    g.data_pages += keys * (leaves + inner);
}

// Keys and rows per key of a trigram GIN index over `nonnull_rows` values, from sample values (see header).
// Returns false when the sample has no usable text.
bool trigram_classes(const std::vector<SizeEstimatorOptions::SampleValue> &sample, double nonnull_rows,
                     std::vector<KeyClass> *out, double *per_row) {
    struct Seen {
        double common_weight = 0;  // row fraction from MCV values
        int count = 0;             // histogram values holding the key
    };
    std::map<std::string, Seen> keys;
    std::set<std::string> alphabet;
    double total_w = 0, trigram_w = 0, hist_w = 0;
    int hist_n = 0;
    for (const auto &v : sample) {
        if (!(v.weight > 0) || !std::isfinite(v.weight)) continue;
        auto tri = trigrams_of(v.text);
        total_w += v.weight;
        trigram_w += v.weight * static_cast<double>(tri.size());
        if (!v.common) {
            hist_w += v.weight;
            ++hist_n;
        }
        for (const auto &t : tri) {
            Seen &k = keys[t];
            if (v.common)
                k.common_weight += v.weight;
            else
                k.count += 1;
            for (size_t i = 0; i < t.size();) {  // the alphabet: word characters (UTF-8 units)
                unsigned char c = static_cast<unsigned char>(t[i]);
                size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                if (c != ' ') alphabet.insert(t.substr(i, len));
                i += len;
            }
        }
    }
    if (total_w <= 0 || keys.empty()) return false;
    *per_row = trigram_w / total_w;
    // Word-start, word-edge and interior trigrams (2, 1, 0 blanks) are different populations (a word has one
    // start but many interior trigrams), so the sample counts are smoothed per population:
    const double w_hist = hist_n > 0 ? hist_w / hist_n : 0;
    const double a = static_cast<double>(alphabet.size());
    out->clear();
    double mass = 0;
    for (int blanks = 0; blanks <= 2; ++blanks) {
        auto in_group = [&](const std::string &t) {
            return static_cast<int>(std::count(t.begin(), t.end(), ' ')) == blanks;
        };
        // f[r] = keys of the population seen in exactly r histogram values.
        std::map<int, double> f;
        double seen = 0;
        for (const auto &[key, k] : keys) {
            if (!in_group(key)) continue;
            seen += 1;
            if (k.count > 0) f[k.count] += 1;
        }
        auto fr = [&](int r) {
            auto it = f.find(r);
            return it == f.end() ? 0.0 : it->second;
        };
        // Keys the sample missed (Chao1), capped by what the alphabet can form.
        const double f1 = fr(1), f2 = fr(2);
        double f0 = 0;
        if (hist_n > 0 && f1 > 0) f0 = f2 > 0 ? f1 * f1 / (2 * f2) : f1 * (f1 - 1) / 2;
        const double cap = blanks == 0 ? a * a * a : blanks == 1 ? 2 * a * a : 2 * a;
        f0 = std::clamp(cap - seen, 0.0, f0);
        // Empirical Bayes (Poisson counts, gamma-distributed key rates fitted by moments over the seen and
        // unseen keys): a key seen r times expects (r + α)/(1 + α/μ). Near-uniform keys (random codes) shrink
        // to the mean μ; skewed ones (words) keep their counts.
        const double nkeys = seen + f0;
        double sum = 0, sum2 = 0;
        for (const auto &[r, n] : f) {
            sum += r * n;
            sum2 += static_cast<double>(r) * r * n;
        }
        const double mu = nkeys > 0 ? sum / nkeys : 0;
        const double var = nkeys > 0 ? sum2 / nkeys - mu * mu : 0;
        const double alpha = mu > 0 ? mu * mu / std::max(var - mu, 1e-3 * mu * mu) : 0;
        auto expected = [&](double r) { return mu > 0 ? (r + alpha) / (1 + alpha / mu) : r; };
        for (const auto &[key, k] : keys) {
            if (!in_group(key)) continue;
            const double p = k.common_weight + (k.count > 0 || mu > 0 ? expected(k.count) : 0) * w_hist;
            if (p > 0) out->push_back({1, p});
            mass += p;
        }
        if (f0 > 0 && expected(0) > 0) {
            out->push_back({f0, expected(0) * w_hist});
            mass += f0 * expected(0) * w_hist;
        }
    }
    if (!(mass > 0)) return false;
    // Scale so the keys hold all the trigrams the rows have (nonnull_rows × per_row TIDs).
    const double total = nonnull_rows * *per_row;
    for (auto &kc : *out) kc.items = kc.items / mass * total;
    // A key has at least one row: merge tiny classes' keys when the table is small.
    for (auto &kc : *out) {
        if (kc.items < 1) {
            kc.keys *= kc.items;
            kc.items = 1;
        }
    }
    return true;
}

SizeEstimate estimate_gin(const IndexDef &def, const RelationStats &rel, double rows,
                          const SizeEstimatorOptions &o) {
    SizeEstimate e;
    e.index_tuples = rows;
    double entries = 0;  // rough rule (non-trigram keys, trigram keys without a sample)
    GinLayout g;
    bool layout_used = false;
    const double bs = o.block_size;
    const double heap_rows = std::max(rel.reltuples, rows);
    const double rpp = rel.relpages > 0 ? std::max(1.0, rel.reltuples / rel.relpages) : 50.0;
    for (const auto &k : def.keys) {
        const ColumnStats *c = rel.find_column(k.column);
        if (!c) e.approximate = true;
        double width = c ? std::max(1.0, c->avg_width) : 8.0;
        double nonnull = rows * (1.0 - (c ? std::clamp(c->null_frac, 0.0, 1.0) : 0.0));
        if (k.opclass.find("trgm") != std::string::npos) {
            const SizeEstimatorOptions::ColumnSample *sample = nullptr;
            for (const auto &cs : o.column_samples) {
                if (cs.column == k.column && (cs.relation_oid == 0 || cs.relation_oid == rel.oid))
                    sample = &cs;
            }
            std::vector<KeyClass> classes;
            double per_row = 0;
            if (sample && nonnull >= 1 && trigram_classes(sample->values, nonnull, &classes, &per_row)) {
                layout_used = true;
                for (const auto &kc : classes) {
                    // Rows per key vary around the class mean: Poisson (variance n) plus the sample
                    // estimate's own error (taken as 10 %); 5-point Gauss–Hermite quadrature over that spread
                    // keeps the inline / posting-tree threshold smooth.
                    const double sd = std::sqrt(kc.items + 0.01 * kc.items * kc.items);
                    const double z[5] = {-2.857, -1.356, 0, 1.356, 2.857};
                    const double w[5] = {0.01126, 0.22208, 0.53333, 0.22208, 0.01126};
                    for (int q = 0; q < 5; ++q) {
                        const double n = std::clamp(kc.items + z[q] * sd, 1.0, std::max(1.0, nonnull));
                        add_keys(g, kc.keys * w[q], n, heap_rows, rpp, bs);
                    }
                }
                continue;
            }
            e.approximate = true;
            entries += nonnull * (std::max(1.0, width - 1) + 2);  // characters + padding trigrams
        } else {
            entries += nonnull * std::max(1.0, width / 10.0);  // arrays / jsonb: ~one key per 10 stored bytes
        }
    }
    double pages = 0;
    if (layout_used) {
        const double entry_space = (bs - kPageHeader - 8) * kGinEntryFill;
        const double entry_leaves = std::max(1.0, std::ceil(g.entry_bytes / entry_space));
        double entry_inner = 0;
        for (double level = entry_leaves; level > 1;) {
            level = std::ceil(level / std::floor(entry_space / 20));
            entry_inner += level;
        }
        pages += entry_leaves + entry_inner + std::ceil(g.data_pages);
        e.leaf_pages = static_cast<int64_t>(entry_leaves + std::ceil(g.data_pages));
    }
    if (entries > 0 || !layout_used) {
        const double rough = std::ceil(entries * o.gin_bytes_per_entry / bs);
        pages += rough + (layout_used ? 0 : 1);  // + root
        e.leaf_pages += static_cast<int64_t>(rough);
    }
    e.pages = static_cast<int64_t>(pages) + 1;  // + metapage
    e.bytes = e.pages * o.block_size;
    return e;
}

}  // namespace

double distinct_values(const ColumnStats &column, double rows) {
    if (column.n_distinct > 0) return std::min(column.n_distinct, std::max(rows, 1.0));
    if (column.n_distinct < 0) return std::max(1.0, -column.n_distinct * rows);
    return std::max(rows, 1.0);
}

std::vector<std::string> trigrams_of(const std::string &value) {
    // pg_trgm (trgm_op.c generate_trgm): words are runs of alphanumeric characters, lower-cased, each padded
    // with two blanks in front and one behind; every 3 consecutive characters of a padded word is a trigram.
    std::set<std::string> out;
    std::vector<std::string> word;  // characters (UTF-8 units)
    auto flush = [&] {
        if (word.empty()) return;
        std::vector<std::string> padded{" ", " "};
        padded.insert(padded.end(), word.begin(), word.end());
        padded.push_back(" ");
        for (size_t i = 0; i + 2 < padded.size(); ++i) out.insert(padded[i] + padded[i + 1] + padded[i + 2]);
        word.clear();
    };
    size_t i = 0;
    while (i < value.size()) {
        unsigned char c = static_cast<unsigned char>(value[i]);
        size_t len = 1;
        if (c >= 0xF0)
            len = 4;
        else if (c >= 0xE0)
            len = 3;
        else if (c >= 0xC0)
            len = 2;
        if (c >= 0x80) {
            word.push_back(value.substr(i, len));
        } else if (std::isalnum(c)) {
            word.push_back(std::string(1, static_cast<char>(std::tolower(c))));
        } else {
            flush();
        }
        i += len;
    }
    flush();
    return {out.begin(), out.end()};
}

SizeEstimate estimate_index_size(const IndexDef &def, const RelationStats &rel, double predicate_selectivity,
                                 const SizeEstimatorOptions &options) {
    create_index_ddl(def);  // validates the definition
    if (!(rel.reltuples >= 0)) {
        throw std::invalid_argument("relation \"" + rel.name +
                                    "\" has negative reltuples (never analyzed): ANALYZE it or pass 0");
    }
    if (!(predicate_selectivity > 0 && predicate_selectivity <= 1)) {
        throw std::invalid_argument("partial-index selectivity must be in (0, 1], got " +
                                    std::to_string(predicate_selectivity));
    }
    if (options.block_size < 1024 || options.btree_leaf_fillfactor < 10 ||
        options.btree_leaf_fillfactor > 100 || options.hash_fillfactor < 10 ||
        options.hash_fillfactor > 100 || options.brin_pages_per_range < 1 ||
        !(options.gin_bytes_per_entry > 0)) {
        throw std::invalid_argument(
            "size estimator options out of range: fillfactors 10-100, block_size >= 1024");
    }
    const double rows = std::floor(rel.reltuples * predicate_selectivity + 0.5);
    switch (def.method) {
        case IndexMethod::kBtree:
            return estimate_btree(def, rel, rows, options);
        case IndexMethod::kHash:
            return estimate_hash(def, rel, rows, options);
        case IndexMethod::kBrin:
            return estimate_brin(def, rel, options);
        case IndexMethod::kGin:
            return estimate_gin(def, rel, rows, options);
    }
    return {};
}

}  // namespace rubberduck::core::index
