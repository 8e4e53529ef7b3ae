// ALTER TABLE: the dispatcher over subcommands, and the column rules (ADD/DROP/RENAME COLUMN, ALTER TYPE,
// SET NOT NULL, defaults). Constraint subcommands live in rules_constraints.cpp.
#include <algorithm>

#include "core/migration/rules.h"

namespace rubberduck::core::migration::detail {

namespace {

std::string alter(const TrackedRelation &rel) {
    return "ALTER TABLE " + quote_rel(rel.name);
}

std::string views_clause(const TrackedRelation &rel) {
    if (rel.dependent_views.empty()) return "";
    std::string v;
    for (size_t i = 0; i < rel.dependent_views.size(); ++i) v += (i ? ", " : "") + rel.dependent_views[i];
    return v;
}

// An unknown column is only reported when the catalog listed the table's columns.
bool column_missing(RuleContext &ctx, TrackedRelation &rel, const std::string &column, bool missing_ok) {
    if (!rel.columns_known || rel.column(column)) return false;
    if (!missing_ok)
        ctx.add(rel.display(), "unknown_column", Severity::Error,
                "column \"" + column + "\" of " + rel.display() +
                    " neither exists nor is added earlier in this migration: PostgreSQL will reject the "
                    "statement.");
    return true;
}

void add_column(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    const ColumnDef &d = cmd.column_def;
    RelationEffect &e = ctx.effect(rel);
    check_column_type(ctx, rel.display(), d.name, d.type, d.is_primary_key);
    std::string t = alter(rel), c = quote_ident(d.name), type = render_type(d.type);
    bool populated = ctx.populated(rel);
    bool rewrites = d.is_serial_or_identity || d.is_generated_stored || (d.has_default && d.default_volatile);
    if (rewrites && populated) {
        e.rewrites = true;
        e.ms = std::max(e.ms, ctx.rewrite_ms(rel));
    }
    if (d.is_serial_or_identity && populated) {
        std::string seq = quote_ident(rel.name.name + "_" + d.name + "_seq");
        std::string base = canonical_type(d.type.name);
        // Serial and integer identity columns become bigint: a new key should not run out (prefer_bigint).
        bool integral = base == "serial" || base == "smallserial" || base == "bigserial" || base == "int2" ||
                        base == "int4" || base == "int8";
        std::string big = integral ? "bigint" : type;
        ctx.add(rel.display(), "add_serial_or_identity_column", ctx.scaled(rel, e.ms),
                "Adding a serial/identity column fills every existing row: a full table rewrite under ACCESS "
                "EXCLUSIVE (blocks reads and writes) for ~" +
                    format_ms(e.ms) + " on " + format_rows(ctx.rows(rel)) + " rows.",
                t + " ADD COLUMN " + c + " " + big + ";\nCREATE SEQUENCE " + seq + " OWNED BY " +
                    quote_rel(rel.name) + "." + c + ";\n" + t + " ALTER COLUMN " + c +
                    " SET DEFAULT nextval('" + seq + "');\n" +
                    batched_update(rel, c + " = nextval('" + seq + "')", c + " IS NULL") +
                    "\n-- then make it NOT NULL without a long lock:\n" + t + " ADD CONSTRAINT " +
                    quote_ident(rel.name.name + "_" + d.name + "_not_null") + " CHECK (" + c +
                    " IS NOT NULL) NOT VALID;\n" + t + " VALIDATE CONSTRAINT " +
                    quote_ident(rel.name.name + "_" + d.name + "_not_null") + ";\n" + t + " ALTER COLUMN " +
                    c + " SET NOT NULL;");
    } else if (d.has_default && d.default_volatile && populated) {
        std::string expr = d.default_expr.empty() ? "<default expression>" : d.default_expr;
        ctx.add(rel.display(), "add_column_volatile_default", ctx.scaled(rel, e.ms),
                "The default " + expr +
                    " is volatile: PostgreSQL evaluates it for every existing row and rewrites "
                    "the table under ACCESS EXCLUSIVE (blocks reads and writes) for ~" +
                    format_ms(e.ms) + ".",
                t + " ADD COLUMN " + c + " " + type + ";\n" + t + " ALTER COLUMN " + c + " SET DEFAULT " +
                    expr + ";  -- applies to new rows only, no rewrite\n" +
                    batched_update(rel, c + " = " + expr, c + " IS NULL"));
    } else if (d.is_generated_stored && populated) {
        ctx.add(
            rel.display(), "add_stored_generated_column", ctx.scaled(rel, e.ms),
            "A STORED generated column is computed for every existing row: a full table rewrite under ACCESS "
            "EXCLUSIVE for ~" +
                format_ms(e.ms) + ".");
    } else if (d.has_default) {
        ctx.note(rel, "constant default: stored in the catalog, no rewrite (PostgreSQL 11+)");
    }
    if (d.not_null && !d.has_default && !d.is_serial_or_identity && !d.is_generated_stored && populated) {
        ctx.add(rel.display(), "add_column_not_null_without_default", Severity::Error,
                "ADD COLUMN ... NOT NULL without a default fails on a table with rows: existing rows would "
                "be NULL.",
                t + " ADD COLUMN " + c + " " + type +
                    " NOT NULL DEFAULT <constant>;  -- a constant default is metadata-only (PostgreSQL "
                    "11+)\n-- or "
                    "add it nullable, backfill in batches, then CHECK (" +
                    c + " IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, SET NOT NULL");
    }
    if (d.is_primary_key && populated) {
        e.scans = true;
        e.ms += ctx.index_build_ms(rel);
    }
    if (e.ms == 0) e.ms = ctx.metadata_ms();
    ColumnFacts col;
    col.name = d.name;
    col.type = d.type;
    col.not_null = d.not_null || d.is_primary_key;
    rel.columns.push_back(col);
    rel.added_columns.push_back(d.name);
    if (d.is_primary_key) {
        ConstraintFacts pk;
        pk.name = rel.name.name + "_pkey";
        pk.kind = ConstraintKind::PrimaryKey;
        pk.columns = {d.name};
        rel.constraints.push_back(pk);
    }
}

bool in_primary_key(const TrackedRelation &rel, const std::string &column) {
    const ConstraintFacts *pk = rel.primary_key();
    return pk && std::find(pk->columns.begin(), pk->columns.end(), column) != pk->columns.end();
}

std::string expand_contract_type(const TrackedRelation &rel, const std::string &column, const TypeName &to) {
    std::string t = alter(rel), c = quote_ident(column), n = quote_ident(column + "_new");
    std::string fn = quote_ident(rel.name.name + "_" + column + "_sync");
    std::string type = render_type(to);
    return t + " ADD COLUMN " + n + " " + type + ";\nCREATE FUNCTION " + fn +
           "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW." + n + " := NEW." + c + "::" + type +
           "; RETURN NEW; END $$;\nCREATE TRIGGER " + fn + " BEFORE INSERT OR UPDATE ON " +
           quote_rel(rel.name) + " FOR EACH ROW EXECUTE FUNCTION " + fn + "();\n" +
           batched_update(rel, n + " = " + c + "::" + type, n + " IS NULL AND " + c + " IS NOT NULL") +
           "\n-- then swap in one short transaction:\nBEGIN;\nSET LOCAL lock_timeout = '2s';\n" + t +
           " RENAME COLUMN " + c + " TO " + quote_ident(column + "_old") + ";\n" + t + " RENAME COLUMN " + n +
           " TO " + c + ";\nDROP TRIGGER " + fn + " ON " + quote_rel(rel.name) +
           ";\nCOMMIT;\nDROP FUNCTION " + fn + "();\n-- drop " + quote_ident(column + "_old") +
           " once nothing reads it" +
           (in_primary_key(rel, column)
                ? "\n-- it is in the primary key: first CREATE UNIQUE INDEX CONCURRENTLY on " + n +
                      ", then swap the key with ADD CONSTRAINT ... PRIMARY KEY USING INDEX "
                      "in the same short transaction"
                : "");
}

void alter_column_type(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    if (column_missing(ctx, rel, cmd.column, false)) return;
    RelationEffect &e = ctx.effect(rel);
    check_column_type(ctx, rel.display(), cmd.column, cmd.new_type, false);
    ColumnFacts *col = rel.column(cmd.column);
    std::optional<TypeName> old = cmd.old_type;
    if (!old && col) old = col->type;
    TypeChange change = old ? classify_type_change(*old, cmd.new_type, cmd.has_using) : TypeChange::Rewrite;
    std::string views = views_clause(rel);
    std::string view_note = views.empty()
                                ? ""
                                : " It fails if dependent view(s) " + views +
                                      " use the column: drop and recreate them in the same transaction.";
    if (change == TypeChange::Rewrite) {
        if (ctx.populated(rel)) {
            e.rewrites = true;
            e.ms = std::max(e.ms, ctx.rewrite_ms(rel));
            std::string from = old ? render_type(*old) : "an unknown type (assuming a rewrite)";
            std::string to = canonical_type(cmd.new_type.name);
            std::string alt;
            bool to_limited_text =
                to == "varchar" && !cmd.new_type.modifiers.empty() && old &&
                (canonical_type(old->name) == "text" || canonical_type(old->name) == "varchar");
            if (to_limited_text && !cmd.has_using) {
                std::string cn = quote_ident(rel.name.name + "_" + cmd.column + "_max_length");
                alt =
                    "-- keep the unlimited type and enforce the length with a constraint validated "
                    "online:\n" +
                    alter(rel) + " ADD CONSTRAINT " + cn + " CHECK (char_length(" + quote_ident(cmd.column) +
                    ") <= " + std::to_string(cmd.new_type.modifiers[0]) + ") NOT VALID;\n" + alter(rel) +
                    " VALIDATE CONSTRAINT " + cn + ";";
            } else {
                alt = expand_contract_type(rel, cmd.column, cmd.new_type);
            }
            ctx.add(
                rel.display(), "alter_column_type_rewrite", ctx.scaled(rel, e.ms),
                "Changing " + cmd.column + " from " + from + " to " + render_type(cmd.new_type) +
                    " rewrites the table and rebuilds its indexes under ACCESS EXCLUSIVE (blocks reads and "
                    "writes) for ~" +
                    format_ms(e.ms) + "." + view_note,
                alt);
        }
    } else {
        ctx.note(rel, change == TypeChange::NoOp
                          ? "same type: nothing changes"
                          : "binary-coercible type change: catalog only, no rewrite" + view_note);
    }
    if (e.ms == 0) e.ms = ctx.metadata_ms();
    if (col) col->type = cmd.new_type;
}

void set_not_null(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    if (column_missing(ctx, rel, cmd.column, false)) return;
    RelationEffect &e = ctx.effect(rel);
    ColumnFacts *col = rel.column(cmd.column);
    if (col && col->not_null) {
        ctx.note(rel, "column is already NOT NULL");
        return;
    }
    bool proven = false;
    for (const auto &k : rel.constraints)
        if (k.kind == ConstraintKind::Check && k.validated && check_proves_not_null(k.expression, cmd.column))
            proven = true;
    bool pg12 = ctx.facts.server_version_num >= 120000;
    if (proven && pg12) {
        ctx.note(rel, "a validated CHECK (" + cmd.column + " IS NOT NULL) proves it: no table scan");
        e.ms = std::max(e.ms, ctx.metadata_ms());
    } else if (ctx.populated(rel)) {
        e.scans = true;
        e.ms = std::max(e.ms, ctx.scan_ms(rel));
        std::string t = alter(rel), c = quote_ident(cmd.column);
        std::string cn = quote_ident(rel.name.name + "_" + cmd.column + "_not_null");
        std::string alt = pg12 ? t + " ADD CONSTRAINT " + cn + " CHECK (" + c + " IS NOT NULL) NOT VALID;\n" +
                                     t + " VALIDATE CONSTRAINT " + cn +
                                     ";  -- SHARE UPDATE EXCLUSIVE: reads and writes "
                                     "continue\n" +
                                     t + " ALTER COLUMN " + c +
                                     " SET NOT NULL;  -- PostgreSQL 12+ uses the valid CHECK: no scan\n" + t +
                                     " DROP CONSTRAINT " + cn + ";"
                               : "";
        ctx.add(rel.display(), "set_not_null_without_check", ctx.scaled(rel, e.ms),
                "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE (blocks reads and writes) for ~" +
                    format_ms(e.ms) + " to prove no NULL exists." +
                    (pg12 ? "" : " Before PostgreSQL 12 no CHECK constraint can avoid the scan."),
                alt);
    }
    if (col) col->not_null = true;
}

void drop_column(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    if (column_missing(ctx, rel, cmd.column, cmd.missing_ok)) return;
    ctx.effect(rel).ms = std::max(ctx.effect(rel).ms, ctx.metadata_ms());
    if (rel.existing() && !rel.column_added_here(cmd.column)) {
        std::string views = views_clause(rel);
        std::string msg =
            "Dropping column " + cmd.column + " destroys its data (" + format_rows(ctx.rows(rel)) +
            " rows) and breaks any code still reading or writing it; deploy code that no longer uses "
            "it first. Metadata-only, but ACCESS EXCLUSIVE.";
        if (!views.empty())
            msg += cmd.cascade
                       ? " CASCADE also drops dependent view(s) that use it: " + views + "."
                       : " It fails if dependent view(s) " + views + " use the column (needs CASCADE).";
        ctx.add(rel.display(), "drop_column", ctx.rows(rel) > 0 ? Severity::Danger : Severity::Warning, msg);
    } else {
        ctx.note(rel, "the column was added by this migration");
    }
    rel.columns.erase(std::remove_if(rel.columns.begin(), rel.columns.end(),
                                     [&](const ColumnFacts &c) { return c.name == cmd.column; }),
                      rel.columns.end());
    rel.indexes.erase(std::remove_if(rel.indexes.begin(), rel.indexes.end(),
                                     [&](const IndexFacts &i) {
                                         return std::find(i.columns.begin(), i.columns.end(), cmd.column) !=
                                                i.columns.end();
                                     }),
                      rel.indexes.end());
}

void rename_column(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    if (column_missing(ctx, rel, cmd.column, false)) return;
    ctx.effect(rel).ms = std::max(ctx.effect(rel).ms, ctx.metadata_ms());
    ColumnFacts *col = rel.column(cmd.column);
    if (rel.existing() && !rel.column_added_here(cmd.column)) {
        std::string t = alter(rel), o = quote_ident(cmd.column), n = quote_ident(cmd.new_name);
        std::string type = col ? render_type(col->type) : "<type>";
        std::string views = views_clause(rel);
        ctx.add(rel.display(), "rename_column", Severity::Warning,
                "Renaming " + cmd.column + " to " + cmd.new_name +
                    " breaks every running query and deployed code that still uses the old name." +
                    (views.empty() ? ""
                                   : " Dependent views (" + views +
                                         ") follow the rename but keep the old "
                                         "output column name."),
                "-- expand/contract: add the new column, write both (application or trigger), backfill, move "
                "readers, then drop the old one\n" +
                    t + " ADD COLUMN " + n + " " + type + ";\n" +
                    batched_update(rel, n + " = " + o, n + " IS NULL AND " + o + " IS NOT NULL") +
                    "\n-- once no code uses the old name:\n" + t + " DROP COLUMN " + o + ";");
    } else {
        ctx.note(rel, "the column was added by this migration");
    }
    if (col) col->name = cmd.new_name;
    for (auto &a : rel.added_columns)
        if (a == cmd.column) a = cmd.new_name;
}

// Subcommands with no rule of their own: their lock is reported; some rewrite or scan.
void other_cmd(RuleContext &ctx, TrackedRelation &rel, const AlterTableCmd &cmd) {
    RelationEffect &e = ctx.effect(rel);
    using K = AlterTableCmdKind;
    if ((cmd.kind == K::SetTablespace || cmd.kind == K::SetLogged) && ctx.populated(rel)) {
        e.rewrites = true;
        e.ms = std::max(e.ms, ctx.rewrite_ms(rel));
        ctx.add(rel.display(), "table_rewrite", ctx.scaled(rel, e.ms),
                std::string(alter_table_cmd_name(cmd.kind)) +
                    " copies the whole table under ACCESS EXCLUSIVE (blocks reads and writes) for ~" +
                    format_ms(e.ms) + ".",
                cmd.kind == K::SetTablespace ? "-- move it online with pg_repack --tablespace instead" : "");
        return;
    }
    if (cmd.kind == K::AttachPartition) {
        ctx.note(rel,
                 "ATTACH PARTITION scans the partition to check its bound unless a valid CHECK constraint "
                 "matching the bound exists");
    }
    if (cmd.kind == K::SetDefault) {
        ctx.note(rel, "a default applies to new rows only: no rewrite");
    }
    e.ms = std::max(e.ms, ctx.metadata_ms());
}

}  // namespace

void analyze_alter_table(RuleContext &ctx) {
    TrackedRelation *rel = ctx.state.lookup(ctx.stmt.relation);
    if (!rel) return;
    for (const AlterTableCmd &cmd : ctx.stmt.alter_cmds) {
        switch (cmd.kind) {
            case AlterTableCmdKind::AddColumn:
                add_column(ctx, *rel, cmd);
                break;
            case AlterTableCmdKind::AlterColumnType:
                alter_column_type(ctx, *rel, cmd);
                break;
            case AlterTableCmdKind::SetNotNull:
                set_not_null(ctx, *rel, cmd);
                break;
            case AlterTableCmdKind::DropColumn:
                drop_column(ctx, *rel, cmd);
                break;
            case AlterTableCmdKind::RenameColumn:
                rename_column(ctx, *rel, cmd);
                break;
            case AlterTableCmdKind::DropNotNull:
                if (!column_missing(ctx, *rel, cmd.column, false)) {
                    if (ColumnFacts *c = rel->column(cmd.column)) c->not_null = false;
                    other_cmd(ctx, *rel, cmd);
                }
                break;
            case AlterTableCmdKind::SetDefault:
            case AlterTableCmdKind::DropDefault:
                if (!column_missing(ctx, *rel, cmd.column, false)) other_cmd(ctx, *rel, cmd);
                break;
            case AlterTableCmdKind::AddConstraint:
            case AlterTableCmdKind::ValidateConstraint:
            case AlterTableCmdKind::DropConstraint:
            case AlterTableCmdKind::RenameConstraint:
                analyze_constraint_cmd(ctx, *rel, cmd);
                break;
            default:
                other_cmd(ctx, *rel, cmd);
                break;
        }
    }
}

}  // namespace rubberduck::core::migration::detail
