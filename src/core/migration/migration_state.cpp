// The migration's evolving schema view and the per-statement rule context (see rules.h).
#include <algorithm>
#include <cmath>

#include "core/migration/rules.h"

namespace rubberduck::core::migration::detail {

ColumnFacts *TrackedRelation::column(const std::string &n) {
    for (auto &c : columns)
        if (c.name == n) return &c;
    return nullptr;
}

ConstraintFacts *TrackedRelation::constraint(const std::string &n) {
    for (auto &c : constraints)
        if (c.name == n) return &c;
    return nullptr;
}

const ConstraintFacts *TrackedRelation::primary_key() const {
    for (const auto &c : constraints)
        if (c.kind == ConstraintKind::PrimaryKey) return &c;
    return nullptr;
}

bool TrackedRelation::column_added_here(const std::string &n) const {
    return std::find(added_columns.begin(), added_columns.end(), n) != added_columns.end();
}

std::string TrackedRelation::batch_key() const {
    const ConstraintFacts *pk = primary_key();
    if (pk && pk->columns.size() == 1) return pk->columns[0];
    for (const auto &i : indexes)
        if (i.primary && i.columns.size() == 1) return i.columns[0];
    return "ctid";
}

double SessionState::lock_timeout() const {
    if (lock_timeout_local_ms) return *lock_timeout_local_ms;
    return lock_timeout_ms.value_or(0);
}

double SessionState::statement_timeout() const {
    if (statement_timeout_local_ms) return *statement_timeout_local_ms;
    return statement_timeout_ms.value_or(0);
}

void SessionState::end_transaction() {
    in_tx = false;
    tx_begin_no = 0;
    tx_ms = 0;
    lock_timeout_local_ms.reset();
    statement_timeout_local_ms.reset();
    tx_ddl_stmt = 0;
    tx_ddl_relation.clear();
    tx_backfill_stmt = 0;
    tx_backfill_ms = 0;
    tx_backfill_reported = false;
}

TrackedRelation *MigrationState::find_tracked(const RelationName &name) {
    // Newest first: a table dropped and created again is the new one.
    for (auto it = relations_.rbegin(); it != relations_.rend(); ++it)
        if (it->name.matches(name)) return &*it;
    return nullptr;
}

TrackedRelation *MigrationState::lookup(const RelationName &name) {
    if (name.empty()) return nullptr;
    if (TrackedRelation *t = find_tracked(name)) return t->dropped ? nullptr : t;
    const RelationFacts *f = facts_.find(name);
    if (!f) return nullptr;
    // Already loaded and since renamed away or dropped: the old name no longer exists.
    for (const auto &r : relations_)
        if (r.origin && r.origin->schema == f->name.schema && r.origin->name == f->name.name) return nullptr;
    TrackedRelation t;
    t.name = f->name;
    t.origin = f->name;
    t.is_view = f->is_view;
    // reltuples = -1 (never vacuumed or analysed): estimate from the heap size at ~100 bytes a row.
    t.rows = f->rows >= 0 ? f->rows : f->bytes / 100.0;
    t.bytes = f->bytes;
    t.columns_known = !f->columns.empty();
    t.columns = f->columns;
    t.indexes = f->indexes;
    t.constraints = f->constraints;
    t.dependent_views = f->dependent_views;
    relations_.push_back(std::move(t));
    return &relations_.back();
}

TrackedRelation &MigrationState::create(const RelationName &name) {
    TrackedRelation t;
    t.name = name;
    t.created_in_migration = true;
    t.columns_known = true;
    relations_.push_back(std::move(t));
    return relations_.back();
}

TrackedRelation *MigrationState::index_owner(const RelationName &index_name) {
    // Relations already tracked carry the migration's index changes; then the catalog.
    for (auto it = relations_.rbegin(); it != relations_.rend(); ++it) {
        if (it->dropped) continue;
        if (!index_name.schema.empty() && !it->name.schema.empty() && it->name.schema != index_name.schema)
            continue;
        for (const auto &i : it->indexes)
            if (i.name == index_name.name) return &*it;
    }
    auto owner = facts_.find_index(index_name);
    if (!owner.first) return nullptr;
    TrackedRelation *t = lookup(owner.first->name);
    if (!t) return nullptr;
    // Tracked with the index already dropped by this migration?
    for (const auto &i : t->indexes)
        if (i.name == index_name.name) return t;
    return nullptr;
}

RelationEffect &RuleContext::effect(TrackedRelation *rel, const std::string &display) {
    for (auto &e : effects)
        if ((rel && e.rel == rel) || (!rel && !e.rel && e.display == display)) return e;
    RelationEffect e;
    e.rel = rel;
    e.display = display;
    effects.push_back(e);
    return effects.back();
}

void RuleContext::lock(TrackedRelation *rel, const std::string &display, LockMode mode) {
    RelationEffect &e = effect(rel, display);
    e.lock = strongest(e.lock, std::optional<LockMode>(mode));
}

void RuleContext::add(const std::string &relation, const std::string &rule, Severity sev,
                      const std::string &message, const std::string &alternative) {
    findings.push_back({relation, rule, sev, message, alternative});
}

bool RuleContext::has_finding(const std::string &rule) const {
    return std::any_of(findings.begin(), findings.end(),
                       [&](const PendingFinding &f) { return f.rule == rule; });
}

std::optional<LockMode> RuleContext::effective_lock(const TrackedRelation &rel) {
    std::optional<LockMode> own;
    for (const auto &e : effects)
        if (e.rel == &rel) own = e.lock;
    return strongest(rel.held, own);
}

Severity RuleContext::scaled(double ms, std::optional<LockMode> lock) const {
    if (!lock || !blocks_writes(*lock)) return Severity::Info;
    if (ms >= opt.danger_lock_ms) return Severity::Danger;
    if (ms >= opt.warning_lock_ms) return Severity::Warning;
    return Severity::Info;
}

double RuleContext::rows(const TrackedRelation &rel) const {
    return std::max(0.0, rel.rows);
}

double RuleContext::rewrite_ms(const TrackedRelation &rel) const {
    const ServerThroughput &t = facts.throughput;
    double ms = 1000.0 * (rows(rel) / t.rewrite_rows_per_s + rel.bytes / t.rewrite_bytes_per_s);
    for (size_t i = 0; i < rel.indexes.size(); ++i) ms += 1000.0 * rows(rel) / t.index_build_rows_per_s;
    return ms + metadata_ms();
}

double RuleContext::scan_ms(const TrackedRelation &rel) const {
    const ServerThroughput &t = facts.throughput;
    return 1000.0 * (rows(rel) / t.scan_rows_per_s + rel.bytes / t.scan_bytes_per_s) + metadata_ms();
}

double RuleContext::index_build_ms(const TrackedRelation &rel) const {
    const ServerThroughput &t = facts.throughput;
    return 1000.0 * (rows(rel) / t.index_build_rows_per_s + rel.bytes / t.scan_bytes_per_s) + metadata_ms();
}

double RuleContext::fk_validate_ms(const TrackedRelation &rel) const {
    const ServerThroughput &t = facts.throughput;
    return 1000.0 * (rows(rel) / t.fk_validate_rows_per_s + rel.bytes / t.scan_bytes_per_s) + metadata_ms();
}

double RuleContext::dml_ms(double n) const {
    return 1000.0 * std::max(0.0, n) / facts.throughput.dml_rows_per_s;
}

}  // namespace rubberduck::core::migration::detail
