// Whole-relation statements: CREATE TABLE/VIEW, RENAME, DROP TABLE/VIEW, TRUNCATE, VACUUM (FULL), ANALYZE,
// CLUSTER.
#include <algorithm>

#include "core/migration/rules.h"

namespace rubberduck::core::migration::detail {

namespace {

std::string list(const std::vector<std::string> &v) {
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
    return out;
}

void create_table(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    if (TrackedRelation *existing = ctx.state.lookup(s.relation)) {
        if (s.if_not_exists) {
            ctx.note(*existing, "IF NOT EXISTS: the table already exists, nothing happens");
        } else {
            ctx.add(existing->display(), "relation_already_exists", Severity::Error,
                    "relation " + existing->display() + " already exists: PostgreSQL rejects CREATE TABLE.",
                    "CREATE TABLE IF NOT EXISTS ...  -- or pick another name");
        }
        return;
    }
    TrackedRelation &rel = ctx.state.create(s.relation);
    ctx.effect(rel).ms = ctx.metadata_ms();
    ctx.note(rel, "new table: nobody else can use it before the migration commits");
    std::vector<std::string> pk_cols;
    for (const auto &c : s.table_constraints)
        if (c.kind == ConstraintKind::PrimaryKey) pk_cols = c.columns;
    for (const auto &d : s.columns) {
        bool pk = d.is_primary_key || (pk_cols.size() == 1 && pk_cols[0] == d.name);
        check_column_type(ctx, rel.display(), d.name, d.type, pk);
        ColumnFacts col;
        col.name = d.name;
        col.type = d.type;
        col.not_null = d.not_null || pk;
        rel.columns.push_back(col);
        if (d.is_primary_key) {
            ConstraintFacts k;
            k.name = rel.name.name + "_pkey";
            k.kind = ConstraintKind::PrimaryKey;
            k.columns = {d.name};
            rel.constraints.push_back(k);
            rel.indexes.push_back({k.name, k.columns, true, true, true, 0});
        }
    }
    for (const auto &c : s.table_constraints) {
        ConstraintFacts k;
        k.name = c.name.empty()
                     ? rel.name.name + (c.kind == ConstraintKind::PrimaryKey ? "_pkey" : "_constraint")
                     : c.name;
        k.kind = c.kind;
        k.columns = c.columns;
        k.validated = true;  // constraints of a new table are checked as rows arrive
        k.expression = c.expression;
        k.referenced = c.referenced;
        rel.constraints.push_back(k);
        if (c.kind == ConstraintKind::PrimaryKey || c.kind == ConstraintKind::Unique)
            rel.indexes.push_back({k.name, c.columns, true, c.kind == ConstraintKind::PrimaryKey, true, 0});
    }
}

void create_view(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    TrackedRelation *existing = ctx.state.lookup(s.relation);
    if (existing && !s.or_replace) {
        ctx.add(existing->display(), "relation_already_exists", Severity::Error,
                "relation " + existing->display() + " already exists: PostgreSQL rejects CREATE VIEW.");
        return;
    }
    TrackedRelation &view = existing ? *existing : ctx.state.create(s.relation);
    view.is_view = true;
    ctx.effect(view).ms = ctx.metadata_ms();
    for (const auto &r : s.relations)
        if (TrackedRelation *t = ctx.state.lookup(r)) {
            if (std::find(t->dependent_views.begin(), t->dependent_views.end(), view.display()) ==
                t->dependent_views.end())
                t->dependent_views.push_back(view.display());
        }
}

void rename_table(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    if (s.rename_index) {
        if (TrackedRelation *owner = ctx.state.index_owner(s.relation)) {
            ctx.note(*owner, "renaming an index takes SHARE UPDATE EXCLUSIVE: reads and writes continue");
            for (auto &i : owner->indexes)
                if (i.name == s.relation.name) i.name = s.new_name;
        }
        return;
    }
    TrackedRelation *rel = ctx.state.lookup(s.relation);
    if (!rel) return;
    RelationName renamed{rel->name.schema, s.new_name};
    if (TrackedRelation *clash = ctx.state.lookup(renamed)) {
        ctx.add(clash->display(), "relation_already_exists", Severity::Error,
                "relation " + clash->display() + " already exists: PostgreSQL rejects the rename.");
        return;
    }
    ctx.effect(*rel).ms = ctx.metadata_ms();
    if (rel->existing()) {
        std::string kind = rel->is_view ? "VIEW" : "TABLE";
        ctx.add(rel->display(), "rename_table", Severity::Warning,
                "Renaming " + rel->display() + " to " + s.new_name +
                    " breaks every running query and deployed code that still uses the old name.",
                rel->is_view
                    ? ""
                    : "BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE " + quote_rel(rel->name) +
                          " RENAME TO " + quote_ident(s.new_name) + ";\nCREATE VIEW " + quote_rel(rel->name) +
                          " AS SELECT * FROM " + quote_rel(renamed) +
                          ";  -- old name keeps working (simple views are updatable)\nCOMMIT;\n-- drop the "
                          "view once no code uses the old name");
    } else {
        ctx.note(*rel, "created by this migration");
    }
    rel->name = renamed;
}

void drop_relations(RuleContext &ctx, bool views) {
    const StatementDescription &s = ctx.stmt;
    for (const auto &name : s.relations) {
        TrackedRelation *rel = ctx.state.lookup(name);
        if (!rel) continue;
        ctx.effect(*rel).ms = ctx.metadata_ms();
        if (!views && rel->existing()) {
            std::string msg = "DROP TABLE destroys " + rel->display() + " and its " +
                              format_rows(ctx.rows(*rel)) + " rows; nothing but a backup brings them back.";
            if (!rel->dependent_views.empty())
                msg += s.cascade
                           ? " CASCADE also drops dependent view(s): " + list(rel->dependent_views) + "."
                           : " It fails while view(s) " + list(rel->dependent_views) +
                                 " depend on it (CASCADE would drop them).";
            ctx.add(
                rel->display(), "drop_table", ctx.rows(*rel) > 0 ? Severity::Danger : Severity::Warning, msg,
                "-- keep the data until you are sure: rename it away first, drop it in a later "
                "release\nALTER "
                "TABLE " +
                    quote_rel(rel->name) + " RENAME TO " + quote_ident(rel->name.name + "_deprecated") + ";");
        } else {
            ctx.note(*rel, rel->existing() ? "dropping a view loses no data" : "created by this migration");
        }
        rel->dropped = true;
    }
}

void truncate(RuleContext &ctx) {
    for (const auto &name : ctx.stmt.relations) {
        TrackedRelation *rel = ctx.state.lookup(name);
        if (!rel) continue;
        ctx.effect(*rel).ms = ctx.metadata_ms();
        if (ctx.populated(*rel)) {
            ctx.add(rel->display(), "truncate", Severity::Danger,
                    "TRUNCATE deletes all " + format_rows(ctx.rows(*rel)) + " rows of " + rel->display() +
                        " under ACCESS EXCLUSIVE" +
                        (ctx.stmt.cascade ? ", and CASCADE empties every table "
                                            "referencing it"
                                          : "") +
                        ".");
        } else {
            ctx.note(*rel, "the table is empty");
        }
        rel->rows = 0;
        rel->bytes = 0;
    }
}

void rewrite_maintenance(RuleContext &ctx, const std::string &rule, const std::string &what,
                         const std::string &plain) {
    const StatementDescription &s = ctx.stmt;
    std::vector<RelationName> targets = s.relations;
    if (s.kind == StatementKind::Cluster && !s.relation.empty()) targets = {s.relation};
    if (targets.empty()) {
        ctx.add(
            "", rule, Severity::Danger,
            what +
                " without a table rewrites every table it covers under ACCESS EXCLUSIVE, one after another.",
            plain.empty() ? "" : plain + ";");
        return;
    }
    for (const auto &name : targets) {
        TrackedRelation *rel = ctx.state.lookup(name);
        if (!rel) continue;
        RelationEffect &e = ctx.effect(*rel);
        e.rewrites = true;
        e.ms = ctx.rewrite_ms(*rel);
        if (!ctx.populated(*rel)) {
            ctx.note(*rel, "the table is empty");
            continue;
        }
        Severity sev =
            std::max(Severity::Warning,
                     ctx.scaled(*rel, e.ms) >= Severity::Warning ? Severity::Danger : Severity::Warning);
        ctx.add(rel->display(), rule, sev,
                what + " rewrites " + rel->display() +
                    " under ACCESS EXCLUSIVE (blocks reads and writes) for ~" + format_ms(e.ms) +
                    " and needs free disk space for a full copy.",
                (plain.empty() ? "" : plain + " " + quote_rel(rel->name) + ";  -- no exclusive lock\n") +
                    "-- to compact or reorder online, use the pg_repack extension: pg_repack --table=" +
                    rel->display() + (s.kind == StatementKind::Cluster ? " --order-by=<columns>" : ""));
    }
}

void vacuum(RuleContext &ctx, bool analyze_only) {
    const StatementDescription &s = ctx.stmt;
    if (!analyze_only && ctx.state.session.in_tx)
        ctx.add(s.relations.empty() ? "" : s.relations[0].display(), "vacuum_in_transaction", Severity::Error,
                "VACUUM cannot run inside a transaction block: PostgreSQL rejects it.", "COMMIT;\n" + s.text);
    if (!analyze_only && s.vacuum_full) {
        rewrite_maintenance(ctx, "vacuum_full", "VACUUM FULL", "VACUUM (ANALYZE)");
        return;
    }
    for (const auto &name : s.relations) {
        TrackedRelation *rel = ctx.state.lookup(name);
        if (!rel) continue;
        RelationEffect &e = ctx.effect(*rel);
        e.scans = !analyze_only;
        e.ms = analyze_only ? ctx.metadata_ms() * 100 : ctx.scan_ms(*rel);
        ctx.note(*rel, analyze_only ? "samples the table; reads and writes continue"
                                    : "reclaims space for reuse; reads and writes continue");
    }
}

}  // namespace

void analyze_table_statement(RuleContext &ctx) {
    switch (ctx.stmt.kind) {
        case StatementKind::CreateTable:
            create_table(ctx);
            break;
        case StatementKind::CreateView:
            create_view(ctx);
            break;
        case StatementKind::RenameTable:
            rename_table(ctx);
            break;
        case StatementKind::DropTable:
            drop_relations(ctx, false);
            break;
        case StatementKind::DropView:
            drop_relations(ctx, true);
            break;
        case StatementKind::Truncate:
            truncate(ctx);
            break;
        case StatementKind::Vacuum:
            vacuum(ctx, false);
            break;
        case StatementKind::Analyze:
            vacuum(ctx, true);
            break;
        case StatementKind::Cluster:
            rewrite_maintenance(ctx, "cluster", "CLUSTER", "");
            break;
        default:
            break;
    }
}

}  // namespace rubberduck::core::migration::detail
