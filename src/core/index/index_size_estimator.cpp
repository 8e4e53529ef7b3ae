#include "core/index/index_size_estimator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
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

SizeEstimate estimate_gin(const IndexDef &def, const RelationStats &rel, double rows,
                          const SizeEstimatorOptions &o) {
    SizeEstimate e;
    double entries = 0;
    for (const auto &k : def.keys) {
        const ColumnStats *c = rel.find_column(k.column);
        if (!c) e.approximate = true;
        double width = c ? std::max(1.0, c->avg_width) : 8.0;
        double nonnull = rows * (1.0 - (c ? std::clamp(c->null_frac, 0.0, 1.0) : 0.0));
        double per_row;
        if (k.opclass.find("trgm") != std::string::npos) {
            per_row = std::max(1.0, width - 1) + 2;  // characters + padding trigrams
        } else {
            per_row = std::max(1.0, width / 10.0);  // arrays / jsonb: roughly one key per 10 stored bytes
        }
        entries += nonnull * per_row;
    }
    e.index_tuples = rows;
    e.leaf_pages = static_cast<int64_t>(std::ceil(entries * o.gin_bytes_per_entry / o.block_size));
    e.pages = e.leaf_pages + 2;  // metapage + root
    e.bytes = e.pages * o.block_size;
    return e;
}

}  // namespace

double distinct_values(const ColumnStats &column, double rows) {
    if (column.n_distinct > 0) return std::min(column.n_distinct, std::max(rows, 1.0));
    if (column.n_distinct < 0) return std::max(1.0, -column.n_distinct * rows);
    return std::max(rows, 1.0);
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
