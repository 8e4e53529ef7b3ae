// Rules for CREATE INDEX, DROP INDEX and REINDEX.
#include "core/migration/rules.h"

namespace rubberduck::core::migration::detail {

namespace {

std::string render_create_index(const StatementDescription &s, bool concurrently) {
    const IndexDef &i = s.index;
    std::string sql = std::string("CREATE ") + (i.unique ? "UNIQUE " : "") + "INDEX " +
                      (concurrently ? "CONCURRENTLY " : "") + (i.if_not_exists ? "IF NOT EXISTS " : "") +
                      (i.name.empty() ? "" : quote_ident(i.name) + " ") + "ON " + quote_rel(s.relation) +
                      (i.method.empty() || i.method == "btree" ? "" : " USING " + i.method) + " (" +
                      ident_list(i.columns) + ")";
    if (!i.where.empty()) sql += " WHERE " + i.where;
    return sql + ";";
}

const char *kInvalidIndexHint =
    " If it fails it leaves an INVALID index behind: DROP INDEX CONCURRENTLY it and retry.";

void create_index(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    TrackedRelation *rel = ctx.state.lookup(s.relation);
    if (!rel) return;  // unknown_relation already reported
    RelationEffect &e = ctx.effect(*rel);
    e.scans = true;
    if (s.index.concurrently) {
        // Two table scans plus waits for older transactions; never blocks reads or writes.
        e.ms = 2 * ctx.index_build_ms(*rel);
        if (ctx.state.session.in_tx) {
            ctx.add(
                rel->display(), "concurrently_in_transaction", Severity::Error,
                "CREATE INDEX CONCURRENTLY cannot run inside a transaction block: PostgreSQL rejects it. Run "
                "it on its own, outside BEGIN ... COMMIT.",
                "COMMIT;\n" + render_create_index(s, true));
        } else {
            ctx.note(*rel,
                     std::string("builds the index without blocking reads or writes.") + kInvalidIndexHint);
        }
    } else {
        e.ms = ctx.index_build_ms(*rel);
        if (ctx.populated(*rel)) {
            Severity sev = ctx.scaled(*rel, e.ms);
            ctx.add(rel->display(), "create_index_not_concurrently", sev,
                    "CREATE INDEX takes SHARE on " + rel->display() +
                        " and blocks every INSERT/UPDATE/DELETE for "
                        "the whole build: ~" +
                        format_ms(e.ms) + " for " + format_rows(ctx.rows(*rel)) + " rows.",
                    std::string(ctx.state.session.in_tx ? "-- outside the transaction block:\n" : "") +
                        render_create_index(s, true) + "\n--" + kInvalidIndexHint);
        } else {
            ctx.note(*rel, rel->created_in_migration
                               ? "the table is created by this migration: nobody else uses it"
                               : "the table is empty");
        }
    }
    IndexFacts idx;
    idx.name = s.index.name;
    idx.columns = s.index.columns;
    idx.unique = s.index.unique;
    rel->indexes.push_back(idx);
}

void drop_index(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    for (const auto &name : s.relations) {
        TrackedRelation *rel = ctx.state.index_owner(name);
        if (!rel) continue;  // unknown_relation already reported (or IF EXISTS)
        RelationEffect &e = ctx.effect(*rel);
        e.ms = ctx.metadata_ms();
        if (s.concurrently && ctx.state.session.in_tx) {
            ctx.add(rel->display(), "concurrently_in_transaction", Severity::Error,
                    "DROP INDEX CONCURRENTLY cannot run inside a transaction block: PostgreSQL rejects it.",
                    "COMMIT;\nDROP INDEX CONCURRENTLY " + quote_rel(name) + ";");
        } else if (!s.concurrently && ctx.populated(*rel)) {
            // Quick once granted, but the ACCESS EXCLUSIVE request queues behind every running query on the
            // table and blocks all later ones while it waits.
            Severity sev = ctx.rows(*rel) >= ctx.opt.large_table_rows ? Severity::Warning : Severity::Info;
            ctx.add(
                rel->display(), "drop_index_not_concurrently", sev,
                "DROP INDEX takes ACCESS EXCLUSIVE on " + rel->display() +
                    ": it waits for every running query on the table and blocks all reads and writes queued "
                    "behind it.",
                "DROP INDEX CONCURRENTLY " + std::string(s.missing_ok ? "IF EXISTS " : "") + quote_rel(name) +
                    ";");
        }
        for (auto it = rel->indexes.begin(); it != rel->indexes.end(); ++it)
            if (it->name == name.name) {
                rel->indexes.erase(it);
                break;
            }
    }
}

void reindex(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    TrackedRelation *rel = s.reindex_index ? ctx.state.index_owner(s.relation) : ctx.state.lookup(s.relation);
    if (!rel) return;
    RelationEffect &e = ctx.effect(*rel);
    e.scans = true;
    double one = ctx.index_build_ms(*rel);
    e.ms = s.reindex_index ? one : one * std::max<size_t>(1, rel->indexes.size());
    std::string target = std::string(s.reindex_index ? "INDEX " : "TABLE ") + quote_rel(s.relation);
    if (s.concurrently) {
        e.ms *= 2;
        if (ctx.state.session.in_tx)
            ctx.add(rel->display(), "concurrently_in_transaction", Severity::Error,
                    "REINDEX CONCURRENTLY cannot run inside a transaction block: PostgreSQL rejects it.",
                    "COMMIT;\nREINDEX " + target + " CONCURRENTLY;");
        else
            ctx.note(*rel, "rebuilds without blocking reads or writes");
        return;
    }
    if (ctx.populated(*rel)) {
        ctx.add(rel->display(), "reindex_not_concurrently", ctx.scaled(*rel, e.ms),
                "REINDEX takes SHARE on " + rel->display() +
                    " (blocks writes) and ACCESS EXCLUSIVE on the index (blocks queries that use it) for ~" +
                    format_ms(e.ms) + ".",
                "REINDEX " + target + " CONCURRENTLY;");
    }
}

}  // namespace

void analyze_index_statement(RuleContext &ctx) {
    switch (ctx.stmt.kind) {
        case StatementKind::CreateIndex:
            create_index(ctx);
            break;
        case StatementKind::DropIndex:
            drop_index(ctx);
            break;
        case StatementKind::Reindex:
            reindex(ctx);
            break;
        default:
            break;
    }
}

}  // namespace rubberduck::core::migration::detail
