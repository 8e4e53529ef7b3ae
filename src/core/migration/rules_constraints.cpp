// ALTER TABLE constraint subcommands: ADD (FOREIGN KEY, CHECK, UNIQUE, PRIMARY KEY, EXCLUDE), VALIDATE, DROP.
#include <algorithm>

#include "core/migration/rules.h"

namespace rubberduck::core::migration::detail {

namespace {

std::string alter(const TrackedRelation &rel) {
    return "ALTER TABLE " + quote_rel(rel.name);
}

std::string generated_name(const TrackedRelation &rel, const ConstraintDef &c) {
    if (!c.name.empty()) return c.name;
    std::string cols;
    for (const auto &col : c.columns) cols += "_" + col;
    switch (c.kind) {
        case ConstraintKind::PrimaryKey:
            return rel.name.name + "_pkey";
        case ConstraintKind::Unique:
            return rel.name.name + cols + "_key";
        case ConstraintKind::ForeignKey:
            return rel.name.name + cols + "_fkey";
        default:
            return rel.name.name + cols + "_check";
    }
}

std::string not_valid_then_validate(const TrackedRelation &rel, const ConstraintDef &c,
                                    const std::string &name) {
    return alter(rel) + " ADD CONSTRAINT " + quote_ident(name) + " " + render_constraint(c) +
           " NOT VALID;  -- brief lock, no scan\n" + alter(rel) + " VALIDATE CONSTRAINT " +
           quote_ident(name) + ";  -- scans under SHARE UPDATE EXCLUSIVE: reads and writes continue";
}

void record(TrackedRelation &rel, const ConstraintDef &c, const std::string &name, bool validated) {
    ConstraintFacts f;
    f.name = name;
    f.kind = c.kind;
    f.columns = c.columns;
    f.validated = validated;
    f.expression = c.expression;
    f.referenced = c.referenced;
    rel.constraints.push_back(f);
}

void add_constraint(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    const ConstraintDef &c = cmd.constraint;
    RelationEffect &e = ctx.effect(rel);
    std::string name = generated_name(rel, c);
    bool populated = ctx.populated(rel);
    e.ms = std::max(e.ms, ctx.metadata_ms());
    switch (c.kind) {
        case ConstraintKind::ForeignKey: {
            if (!c.not_valid && populated) {
                e.scans = true;
                e.ms = std::max(e.ms, ctx.fk_validate_ms(rel));
                ctx.add(rel.display(), "add_foreign_key_without_not_valid", ctx.scaled(rel, e.ms),
                        "ADD FOREIGN KEY validates every row of " + rel.display() +
                            " while holding SHARE ROW "
                            "EXCLUSIVE on it and on " +
                            c.referenced.display() +
                            ": writes to both tables are blocked "
                            "for ~" +
                            format_ms(e.ms) + ".",
                        not_valid_then_validate(rel, c, name));
            } else if (c.not_valid) {
                ctx.note(rel, "NOT VALID: no scan; run VALIDATE CONSTRAINT in a later transaction");
            }
            record(rel, c, name, !c.not_valid);
            return;
        }
        case ConstraintKind::Check: {
            if (!c.not_valid && populated) {
                e.scans = true;
                e.ms = std::max(e.ms, ctx.scan_ms(rel));
                ctx.add(rel.display(), "add_check_without_not_valid", ctx.scaled(rel, e.ms),
                        "ADD CHECK scans every row of " + rel.display() +
                            " under ACCESS EXCLUSIVE (blocks reads and writes) for ~" + format_ms(e.ms) + ".",
                        not_valid_then_validate(rel, c, name));
            } else if (c.not_valid) {
                ctx.note(rel, "NOT VALID: no scan; run VALIDATE CONSTRAINT in a later transaction");
            }
            record(rel, c, name, !c.not_valid);
            return;
        }
        case ConstraintKind::Unique:
        case ConstraintKind::PrimaryKey: {
            bool pk = c.kind == ConstraintKind::PrimaryKey;
            if (pk) {
                for (const auto &col : c.columns)
                    if (ColumnFacts *f = rel.column(col))
                        check_column_type(ctx, rel.display(), col, f->type, true);
                if (rel.primary_key()) {
                    ctx.add(rel.display(), "change_primary_key", Severity::Error,
                            rel.display() +
                                " already has a primary key: PostgreSQL rejects a second one. Drop and "
                                "add in one ALTER TABLE, using a unique index built CONCURRENTLY.");
                } else if (rel.primary_key_dropped && rel.existing()) {
                    ctx.add(rel.display(), "change_primary_key",
                            ctx.rows(rel) > 0 ? Severity::Warning : Severity::Info,
                            "The primary key of " + rel.display() +
                                " is replaced: between the two statements the "
                                "table has none (foreign keys, logical replication and ORMs rely on it).");
                }
            }
            if (!c.using_index.empty()) {
                ctx.note(rel, "USING INDEX: attaches an existing unique index, no build" +
                                  std::string(pk ? " (columns not yet NOT NULL are scanned)" : ""));
            } else if (populated) {
                e.scans = true;
                e.ms = std::max(e.ms, ctx.index_build_ms(rel));
                std::string idx = quote_ident(name);
                ctx.add(rel.display(), "add_unique_without_index", ctx.scaled(rel, e.ms),
                        std::string("ADD ") + (pk ? "PRIMARY KEY" : "UNIQUE") +
                            " builds its index under ACCESS "
                            "EXCLUSIVE (blocks reads and writes) for ~" +
                            format_ms(e.ms) + ".",
                        "CREATE UNIQUE INDEX CONCURRENTLY " + idx + " ON " + quote_rel(rel.name) + " (" +
                            ident_list(c.columns) + ");\n" + alter(rel) + " ADD CONSTRAINT " + idx +
                            (pk ? " PRIMARY KEY" : " UNIQUE") + " USING INDEX " + idx + ";");
            }
            record(rel, c, name, true);
            if (pk) {
                rel.primary_key_dropped = false;
                for (const auto &col : c.columns)
                    if (ColumnFacts *f = rel.column(col)) f->not_null = true;
            }
            IndexFacts i;
            i.name = c.using_index.empty() ? name : c.using_index;
            i.columns = c.columns;
            i.unique = true;
            i.primary = pk;
            if (c.using_index.empty()) rel.indexes.push_back(i);
            return;
        }
        case ConstraintKind::Exclusion: {
            if (populated) {
                e.scans = true;
                e.ms = std::max(e.ms, ctx.index_build_ms(rel));
                ctx.add(rel.display(), "add_exclusion_constraint", ctx.scaled(rel, e.ms),
                        "ADD EXCLUDE builds its index and checks every row under ACCESS EXCLUSIVE (blocks "
                        "reads and "
                        "writes) for ~" +
                            format_ms(e.ms) + "; there is no NOT VALID or USING INDEX form.");
            }
            record(rel, c, name, true);
            return;
        }
        case ConstraintKind::NotNull:
        case ConstraintKind::Other:
            record(rel, c, name, true);
            return;
    }
}

void validate_constraint(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    ConstraintFacts *k = rel.constraint(cmd.name);
    RelationEffect &e = ctx.effect(rel);
    if (!k) {
        ctx.add(rel.display(), "unknown_constraint", Severity::Error,
                "constraint \"" + cmd.name + "\" of " + rel.display() +
                    " neither exists nor is added earlier in this migration.");
        return;
    }
    if (k->validated) {
        ctx.note(rel, "the constraint is already valid: nothing to scan");
        e.ms = std::max(e.ms, ctx.metadata_ms());
        return;
    }
    bool fk = k->kind == ConstraintKind::ForeignKey;
    e.scans = true;
    e.ms = std::max(e.ms, fk ? ctx.fk_validate_ms(rel) : ctx.scan_ms(rel));
    if (fk) {
        // The referenced table only gets ROW SHARE during validation.
        if (TrackedRelation *parent = ctx.state.lookup(k->referenced))
            ctx.lock(parent, parent->display(), LockMode::RowShare);
    }
    std::optional<LockMode> held = ctx.effective_lock(rel);
    Severity sev = std::max(Severity::Info, ctx.scaled(e.ms, held));
    std::string msg = "VALIDATE CONSTRAINT scans " + rel.display() + " (~" + format_ms(e.ms) +
                      ") under SHARE UPDATE EXCLUSIVE: reads and writes continue.";
    std::string alt;
    if (held && blocks_writes(*held)) {
        msg += std::string(" But this transaction already holds ") + lock_mode_name(*held) + " on " +
               rel.display() +
               ", so the scan blocks as if the constraint were added valid: COMMIT the NOT VALID "
               "constraint first.";
        alt = "COMMIT;\n" + alter(rel) + " VALIDATE CONSTRAINT " + quote_ident(cmd.name) + ";";
    }
    ctx.add(rel.display(), "validate_constraint", sev, msg, alt);
    k->validated = true;
}

void drop_constraint(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    ConstraintFacts *k = rel.constraint(cmd.name);
    RelationEffect &e = ctx.effect(rel);
    e.ms = std::max(e.ms, ctx.metadata_ms());
    if (!k) {
        if (!cmd.missing_ok)
            ctx.add(rel.display(), "unknown_constraint", Severity::Error,
                    "constraint \"" + cmd.name + "\" of " + rel.display() +
                        " neither exists nor is added earlier in this migration.");
        return;
    }
    bool swapped =
        std::any_of(ctx.stmt.alter_cmds.begin(), ctx.stmt.alter_cmds.end(), [](const AlterTableCmd &c) {
            return c.kind == AlterTableCmdKind::AddConstraint &&
                   c.constraint.kind == ConstraintKind::PrimaryKey && !c.constraint.using_index.empty();
        });
    if (k->kind == ConstraintKind::PrimaryKey && rel.existing() && swapped) {
        // The recommended swap: one ALTER TABLE, new key from an index built CONCURRENTLY beforehand.
        ctx.add(rel.display(), "change_primary_key", Severity::Info,
                "The primary key of " + rel.display() +
                    " is swapped atomically to a prebuilt unique index: a brief "
                    "ACCESS EXCLUSIVE. Foreign keys that referenced the old key must be re-created.");
    } else if (k->kind == ConstraintKind::PrimaryKey && rel.existing()) {
        std::string t = alter(rel);
        std::string n = quote_ident(rel.name.name + "_new_pkey");
        ctx.add(
            rel.display(), "change_primary_key", ctx.rows(rel) > 0 ? Severity::Danger : Severity::Warning,
            "Dropping the primary key of " + rel.display() +
                " fails while foreign keys reference it (CASCADE "
                "drops them) and leaves the table without a key: logical replication cannot UPDATE/DELETE, "
                "duplicates can slip in.",
            "CREATE UNIQUE INDEX CONCURRENTLY " + n + " ON " + quote_rel(rel.name) +
                " (<new key columns>);\nBEGIN;\nSET LOCAL lock_timeout = '2s';\n" + t + " DROP CONSTRAINT " +
                quote_ident(cmd.name) + ", ADD CONSTRAINT " + quote_ident(cmd.name) +
                " PRIMARY KEY USING INDEX " + n + ";\nCOMMIT;");
        rel.primary_key_dropped = true;
    }
    std::string name = k->name;
    rel.constraints.erase(std::remove_if(rel.constraints.begin(), rel.constraints.end(),
                                         [&](const ConstraintFacts &c) { return c.name == name; }),
                          rel.constraints.end());
}

}  // namespace

void analyze_constraint_cmd(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    switch (cmd.kind) {
        case AlterTableCmdKind::AddConstraint:
            add_constraint(ctx, rel, cmd);
            break;
        case AlterTableCmdKind::ValidateConstraint:
            validate_constraint(ctx, rel, cmd);
            break;
        case AlterTableCmdKind::DropConstraint:
            drop_constraint(ctx, rel, cmd);
            break;
        case AlterTableCmdKind::RenameConstraint:
            if (ConstraintFacts *k = rel.constraint(cmd.name))
                k->name = cmd.new_name;
            else
                ctx.add(rel.display(), "unknown_constraint", Severity::Error,
                        "constraint \"" + cmd.name + "\" of " + rel.display() + " does not exist.");
            ctx.effect(rel).ms = std::max(ctx.effect(rel).ms, ctx.metadata_ms());
            break;
        default:
            break;
    }
}

}  // namespace rubberduck::core::migration::detail
