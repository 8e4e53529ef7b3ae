// Transactions, SET, ALTER TYPE ... ADD VALUE, DML and SELECT; and the rules that look across statements:
// missing_lock_timeout, statement_timeout_too_short, ddl_with_backfill.
#include <algorithm>

#include "core/migration/rules.h"

namespace rubberduck::core::migration::detail {

namespace {

std::string with_semicolon(const std::string &sql) {
    std::string s = sql;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.pop_back();
    if (!s.empty() && s.back() != ';') s += ';';
    return s;
}

void end_transaction(RuleContext &ctx, bool commit) {
    SessionState &ss = ctx.state.session;
    if (!ss.in_tx) {
        ctx.statement_notes.push_back("no transaction is in progress: PostgreSQL only warns");
        return;
    }
    std::string held;
    for (auto &r : ctx.state.relations()) {
        if (r.held && r.existing() && !r.dropped)
            held += (held.empty() ? "" : ", ") + std::string(lock_mode_name(*r.held)) + " on " + r.display();
        r.held.reset();
    }
    ctx.statement_notes.push_back(std::string(commit ? "commits" : "rolls back") +
                                  " the transaction begun at statement " + std::to_string(ss.tx_begin_no) +
                                  " (~" + format_ms(ss.tx_ms) + " of work)" +
                                  (held.empty() ? "" : "; releases " + held + ", held since each was taken"));
    ss.end_transaction();
}

void set_variable(RuleContext &ctx) {
    const SetVariable &v = ctx.stmt.set;
    SessionState &ss = ctx.state.session;
    bool local = v.scope == SetScope::Local;
    if (local && !ss.in_tx) {
        ctx.statement_notes.push_back("SET LOCAL outside a transaction block has no effect");
        return;
    }
    std::optional<double> ms = v.reset ? std::nullopt : parse_duration_ms(v.value);
    if (!v.reset && !ms && v.name != "lock_timeout" && v.name != "statement_timeout") return;
    if (v.name == "lock_timeout" || v.name == "statement_timeout") {
        if (!v.reset && !ms && v.value != "DEFAULT" && v.value != "default") {
            ctx.statement_notes.push_back("could not read the value " + v.value +
                                          "; treating it as the default");
        }
        std::optional<double> &slot = v.name == "lock_timeout"
                                          ? (local ? ss.lock_timeout_local_ms : ss.lock_timeout_ms)
                                          : (local ? ss.statement_timeout_local_ms : ss.statement_timeout_ms);
        slot = ms;
        ctx.statement_notes.push_back(v.name + (ms && *ms > 0 ? " = " + format_ms(*ms) : " disabled") +
                                      (local ? " until the transaction ends" : " for the session"));
    }
}

void alter_enum(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    if (!ctx.state.session.in_tx) {
        ctx.statement_notes.push_back("adds an enum value: catalog only");
        return;
    }
    bool pre12 = ctx.facts.server_version_num < 120000;
    ctx.add(
        "", "alter_enum_add_value_in_transaction", pre12 ? Severity::Error : Severity::Info,
        pre12 ? "Before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block."
              : "The new value of " + s.type_name +
                    " cannot be used until this transaction commits (PostgreSQL "
                    "12+); statements later in the transaction that use it fail.",
        "COMMIT;\n" + with_semicolon(s.text) + "  -- on its own, before the statements that use the value");
}

void dml(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    TrackedRelation *rel = ctx.state.lookup(s.relation);
    if (!rel) return;
    RelationEffect &e = ctx.effect(*rel);
    if (s.kind == StatementKind::Insert) {
        if (s.dml.estimated_rows > 0) {
            rel->rows += s.dml.estimated_rows;
            e.ms = ctx.dml_ms(s.dml.estimated_rows);
        } else {
            e.ms = ctx.metadata_ms();
        }
        ctx.note(*rel, "ROW EXCLUSIVE: concurrent reads and writes continue");
        return;
    }
    double n = s.dml.estimated_rows >= 0
                   ? s.dml.estimated_rows
                   : ctx.rows(*rel) * (s.dml.has_where ? ctx.opt.default_where_selectivity : 1.0);
    ctx.dml_rows = n;
    e.ms = ctx.dml_ms(n);
    e.scans = !s.dml.has_where;
    const char *verb = s.kind == StatementKind::Update ? "UPDATE" : "DELETE";
    if (n >= ctx.opt.large_dml_rows && rel->existing()) {
        Severity sev = e.ms >= ctx.opt.danger_lock_ms ? Severity::Danger : Severity::Warning;
        std::string pending = s.kind == StatementKind::Update ? "<rows not yet updated>" : "<condition>";
        std::string alt =
            s.kind == StatementKind::Update
                ? "-- batch it: add to the WHERE clause a condition that excludes rows already updated\n" +
                      batched_update(*rel, "<assignments>", pending)
                : "-- repeat until it deletes 0 rows, each batch in its own transaction:\nDELETE FROM " +
                      quote_rel(rel->name) + " WHERE " +
                      (rel->batch_key() == "ctid" ? std::string("ctid = ANY (ARRAY(SELECT ctid FROM ")
                                                  : quote_ident(rel->batch_key()) + " IN (SELECT " +
                                                        quote_ident(rel->batch_key()) + " FROM ") +
                      quote_rel(rel->name) + " WHERE " + pending + " LIMIT 10000" +
                      (rel->batch_key() == "ctid" ? "));" : ");");
        ctx.add(rel->display(), "large_unbatched_dml", sev,
                std::string(verb) + " touches ~" + format_rows(n) + " rows of " + rel->display() +
                    " in one statement (~" + format_ms(e.ms) +
                    "): it row-locks all of them until commit, "
                    "generates WAL and dead tuples in one burst, and delays replicas.",
                alt);
    } else {
        ctx.note(*rel, "ROW EXCLUSIVE: concurrent reads and writes of other rows continue");
    }
    if (s.kind == StatementKind::Delete && !s.dml.has_where) rel->rows = 0;
}

}  // namespace

void analyze_session_statement(RuleContext &ctx) {
    SessionState &ss = ctx.state.session;
    switch (ctx.stmt.kind) {
        case StatementKind::Begin:
            if (ss.in_tx) {
                ctx.statement_notes.push_back("a transaction is already in progress: PostgreSQL only warns");
            } else {
                ss.in_tx = true;
                ss.tx_begin_no = ctx.no;
                ctx.statement_notes.push_back("locks taken from here on are held until COMMIT");
            }
            break;
        case StatementKind::Commit:
            end_transaction(ctx, true);
            break;
        case StatementKind::Rollback:
            end_transaction(ctx, false);
            break;
        case StatementKind::Set:
            set_variable(ctx);
            break;
        case StatementKind::AlterTypeAddValue:
            alter_enum(ctx);
            break;
        case StatementKind::Insert:
        case StatementKind::Update:
        case StatementKind::Delete:
            dml(ctx);
            break;
        case StatementKind::Select:
            ctx.statement_notes.push_back("changes nothing");
            for (const auto &r : ctx.stmt.relations)
                if (TrackedRelation *rel = ctx.state.lookup(r)) ctx.effect(*rel).ms = ctx.metadata_ms();
            break;
        default:
            break;
    }
}

void analyze_cross_cutting(RuleContext &ctx) {
    SessionState &ss = ctx.state.session;
    const StatementDescription &s = ctx.stmt;
    double total_ms = 0;
    for (const auto &e : ctx.effects) total_ms = std::max(total_ms, e.ms);

    // missing_lock_timeout: the lock request itself queues behind running transactions and, while it waits,
    // blocks everything queued after it. Only a lock_timeout bounds that wait.
    if (ss.lock_timeout() <= 0) {
        for (const auto &e : ctx.effects) {
            if (!e.rel || !e.lock || !e.rel->existing()) continue;
            if (e.rel->held && static_cast<int>(*e.rel->held) >= static_cast<int>(*e.lock))
                continue;  // no wait
            bool large = ctx.rows(*e.rel) >= ctx.opt.large_table_rows;
            if (*e.lock == LockMode::AccessExclusive || (blocks_writes(*e.lock) && large)) {
                ctx.add(
                    e.display, "missing_lock_timeout", Severity::Warning,
                    std::string("Requests ") + lock_mode_name(*e.lock) + " on " + e.display +
                        " with no lock_timeout: if any transaction is using the table, this statement waits "
                        "without limit and every query on the table queues behind it.",
                    "SET lock_timeout = '2s';  -- fail fast and retry instead of stalling the table\n" +
                        with_semicolon(s.text));
                break;
            }
        }
    }

    double st = ss.statement_timeout();
    if (st > 0 && total_ms > st) {
        ctx.add(
            ctx.effects.empty() ? "" : ctx.effects.front().display, "statement_timeout_too_short",
            Severity::Warning,
            "Estimated ~" + format_ms(total_ms) + " but statement_timeout is " + format_ms(st) +
                ": the statement will be cancelled (and, inside a transaction, everything before it rolled "
                "back).",
            "SET statement_timeout = '" + std::to_string(static_cast<long long>(total_ms * 3 / 1000) + 1) +
                "s';\n" + with_semicolon(s.text));
    }

    if (!ss.in_tx) return;
    bool is_dml = s.kind == StatementKind::Update || s.kind == StatementKind::Delete;
    if (!is_dml && ss.tx_ddl_stmt == 0) {
        for (const auto &e : ctx.effects)
            if (e.rel && e.lock && e.rel->existing() && blocks_writes(*e.lock)) {
                ss.tx_ddl_stmt = ctx.no;
                ss.tx_ddl_relation = e.display;
                break;
            }
    }
    if (is_dml && ss.tx_backfill_stmt == 0 && ctx.dml_rows >= ctx.opt.large_dml_rows) {
        ss.tx_backfill_stmt = ctx.no;
        ss.tx_backfill_ms = ctx.dml_ms(ctx.dml_rows);
    }
    if (ss.tx_ddl_stmt && ss.tx_backfill_stmt && !ss.tx_backfill_reported &&
        (ss.tx_ddl_stmt == ctx.no || ss.tx_backfill_stmt == ctx.no)) {
        ss.tx_backfill_reported = true;
        double ms = ss.tx_backfill_ms;
        Severity sev = ms >= ctx.opt.danger_lock_ms ? Severity::Danger : Severity::Warning;
        ctx.add(ctx.effects.empty() ? "" : ctx.effects.front().display, "ddl_with_backfill", sev,
                "Statement " + std::to_string(ss.tx_ddl_stmt) + " (DDL on " + ss.tx_ddl_relation +
                    ") and the large backfill at statement " + std::to_string(ss.tx_backfill_stmt) +
                    " share one transaction: the DDL lock is held for the whole backfill.",
                "-- COMMIT the DDL on its own, then backfill in batches, each in its own transaction");
    }
}

}  // namespace rubberduck::core::migration::detail
