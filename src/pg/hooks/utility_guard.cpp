// ProcessUtility_hook: the migration guard (docs/directives.md, "Migrations").
//
// Cost: for every utility statement the hook reads one enum GUC and one node tag; only the DDL kinds the
// migration rules cover (CREATE INDEX, ALTER TABLE, DROP TABLE/INDEX/VIEW, TRUNCATE, RENAME, REINDEX,
// CLUSTER, VACUUM FULL, CREATE TABLE, ALTER TYPE ... ADD VALUE) are analysed. Plain queries never reach this
// hook (they go through the executor), so non-DDL statements pay nothing.
//
// Analysis runs inside an internal subtransaction: a failure of the analysis itself is logged and never
// stops the user's statement. The statement runs through the previous hook (pg_stat_statements chains the
// same way) or standard_ProcessUtility. lock_timeout is applied by setting the LockTimeout variable for the
// statement only and restoring it in every exit path (statements such as CREATE INDEX CONCURRENTLY commit
// internally, so the GUC nest-level machinery cannot be used for this).
//
// SQLSTATE of a refusal in enforce mode: 55000 (object_not_in_prerequisite_state) — the statement is valid,
// the session has not met the prerequisite (allowing the rule with rubberduck.migration_allow).
#include "pg/hooks/utility_guard.hpp"

#include <string>
#include <vector>

#include "core/migration/lock_modes.h"
#include "core/migration/migration_analyzer.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/guc/migration_directives.hpp"
#include "pg/migration/catalog_facts.hpp"
#include "pg/migration/ddl_log.hpp"
#include "pg/migration/migration_parse.hpp"
#include "pg/workers/agent_process.hpp"

extern "C" {
#include "access/parallel.h"
#include "commands/defrem.h"
#include "mb/pg_wchar.h"
#include "storage/proc.h"
#include "tcop/cmdtag.h"
#include "tcop/utility.h"
#include "utils/resowner.h"
}

namespace rubberduck::pg {

namespace cm = core::migration;
namespace mg = migration;

namespace {

ProcessUtility_hook_type prev_utility = nullptr;

constexpr int kMaxReports = 4;

struct GuardReport {
    int8_t severity;
    char rule[64];
    char relation[mg::kDdlNameLen];
    char message[1024];
    char alternative[1024];
};

// Everything the hook needs from the analysis, as POD (R9).
struct GuardSummary {
    bool analysed;
    int8_t max_severity;
    int8_t lock_mode;
    double est_ms;
    char relation[mg::kDdlNameLen];
    char rules[mg::kDdlRulesLen];
    int nreports;
    GuardReport reports[kMaxReports];
    bool blocked;
    bool allowed;  // a danger finding let through by rubberduck.migration_allow
    char blocked_rule[64];
};

bool has_full_option(List *options) {
    ListCell *lc;
    foreach (lc, options) {
        auto *d = static_cast<DefElem *>(lfirst(lc));
        if (IsA(d, DefElem) && d->defname && strcmp(d->defname, "full") == 0)
            return d->arg == nullptr || defGetBoolean(d);
    }
    return false;
}

bool guarded(Node *stmt) {
    switch (nodeTag(stmt)) {
        case T_IndexStmt:
        case T_ReindexStmt:
        case T_AlterTableStmt:
        case T_RenameStmt:
        case T_TruncateStmt:
        case T_ClusterStmt:
        case T_AlterEnumStmt:
            return true;
        case T_DropStmt: {
            ObjectType t = castNode(DropStmt, stmt)->removeType;
            return t == OBJECT_TABLE || t == OBJECT_INDEX || t == OBJECT_VIEW || t == OBJECT_MATVIEW ||
                   t == OBJECT_FOREIGN_TABLE;
        }
        case T_VacuumStmt: {
            auto *v = castNode(VacuumStmt, stmt);
            return v->is_vacuumcmd && has_full_option(v->options);
        }
        case T_CreateStmt: {
            auto *c = castNode(CreateStmt, stmt);
            return c->relation && c->relation->relpersistence != RELPERSISTENCE_TEMP;
        }
        default:
            return false;
    }
}

cm::StatementDescription synthetic_set(const char *name, int ms) {
    cm::StatementDescription d;
    d.kind = cm::StatementKind::Set;
    d.set.name = name;
    d.set.value = std::to_string(ms);
    d.text = std::string("SET ") + name + " = " + std::to_string(ms);
    return d;
}

// C++ regime: the description of the session state, then the statement.
void describe_for_guard(mg::ParsedMigration &p, PlannedStmt *pstmt, const char *query, bool in_block,
                        int lock_timeout, int statement_timeout) {
    if (in_block) {
        cm::StatementDescription b;
        b.kind = cm::StatementKind::Begin;
        b.text = "BEGIN";
        p.statements.push_back(b);
    }
    if (lock_timeout > 0) p.statements.push_back(synthetic_set("lock_timeout", lock_timeout));
    if (statement_timeout > 0) p.statements.push_back(synthetic_set("statement_timeout", statement_timeout));
    mg::describe_raw_statement(query, pstmt->utilityStmt, pstmt->stmt_location, pstmt->stmt_len, p);
}

void summarise(const std::vector<cm::MigrationFinding> &findings, int statement_no, GuardSummary &s) {
    std::string rules;
    for (const auto &f : findings) {
        if (f.statement_no != statement_no) continue;
        if (f.lock_mode && static_cast<int8_t>(*f.lock_mode) > s.lock_mode) {
            s.lock_mode = static_cast<int8_t>(*f.lock_mode);
            copy_message(s.relation, sizeof s.relation, f.relation.c_str());
        }
        if (s.relation[0] == '\0') copy_message(s.relation, sizeof s.relation, f.relation.c_str());
        if (f.est_duration_ms > s.est_ms) s.est_ms = f.est_duration_ms;
        if (f.rule == "ok") continue;
        if (static_cast<int8_t>(f.severity) > s.max_severity)
            s.max_severity = static_cast<int8_t>(f.severity);
        if (rules.find(f.rule) == std::string::npos) rules += (rules.empty() ? "" : ",") + f.rule;
        bool reportable = f.severity == cm::Severity::Warning || f.severity == cm::Severity::Danger;
        if (f.severity == cm::Severity::Danger) {
            if (migration_rule_allowed(f.rule.c_str())) {
                s.allowed = true;
            } else if (!s.blocked) {
                s.blocked = true;
                copy_message(s.blocked_rule, sizeof s.blocked_rule, f.rule.c_str());
            }
        }
        if (reportable && s.nreports < kMaxReports) {
            GuardReport &r = s.reports[s.nreports++];
            r.severity = static_cast<int8_t>(f.severity);
            copy_message(r.rule, sizeof r.rule, f.rule.c_str());
            copy_message(r.relation, sizeof r.relation, f.relation.c_str());
            copy_message(r.message, sizeof r.message, f.message.c_str());
            copy_message(r.alternative, sizeof r.alternative, f.safer_alternative.c_str());
        }
    }
    copy_message(s.rules, sizeof s.rules, rules.c_str());
}

struct GuardState {
    mg::ParsedMigration parsed;
    cm::CatalogFacts facts;
};

void delete_guard_state(void *arg) {
    delete static_cast<GuardState *>(arg);
}

// PG regime. Never raises: an error in the analysis is caught (subtransaction rolled back) and logged.
void guard_analyze(PlannedStmt *pstmt, const char *query, GuardSummary &s, int applied_lock_timeout) {
    s.max_severity = -1;
    MemoryContext outer = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    MemoryContext cxt = AllocSetContextCreate(outer, "rubberduck migration guard", ALLOCSET_SMALL_SIZES);
    bool pushed = false;
    if (!ActiveSnapshotSet()) {
        PushActiveSnapshot(GetTransactionSnapshot());
        pushed = true;
    }
    bool in_block = IsTransactionBlock();
    int lock_timeout = applied_lock_timeout;
    int statement_timeout = StatementTimeout;

    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(cxt);
    PG_TRY();
    {
        auto *cb = static_cast<MemoryContextCallback *>(palloc0(sizeof(MemoryContextCallback)));
        GuardState *st = cpp_guard([] { return new GuardState(); });
        cb->func = delete_guard_state;
        cb->arg = st;
        MemoryContextRegisterResetCallback(cxt, cb);
        cpp_guard(
            [&] { describe_for_guard(st->parsed, pstmt, query, in_block, lock_timeout, statement_timeout); });
        mg::resolve_probes(st->parsed);
        mg::read_catalog_facts(st->parsed.statements, st->facts);
        cpp_guard([&] {
            auto findings =
                cm::analyze(st->parsed.statements, st->facts, mg::analyzer_options_from_directives());
            summarise(findings, static_cast<int>(st->parsed.statements.size()), s);
        });
        s.analysed = true;
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        ErrorData *ed = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(cxt);
        CurrentResourceOwner = owner;
        ereport(LOG,
                (errmsg("rubberduck migration guard: could not analyse the statement: %s", ed->message)));
        GuardSummary empty{};
        s = empty;
        s.max_severity = -1;
    }
    PG_END_TRY();
    if (pushed) PopActiveSnapshot();
    MemoryContextSwitchTo(outer);
    MemoryContextDelete(cxt);  // deletes the C++ state through the reset callback
}

void emit_reports(const GuardSummary &s, bool enforce) {
    for (int i = 0; i < s.nreports; ++i) {
        const GuardReport &r = s.reports[i];
        bool allowed =
            r.severity == static_cast<int8_t>(cm::Severity::Danger) && migration_rule_allowed(r.rule);
        if (enforce && r.severity == static_cast<int8_t>(cm::Severity::Danger) && !allowed)
            continue;  // the ERROR says it
        ereport(WARNING, (errcode(ERRCODE_WARNING),
                          errmsg("migration guard: %s (%s)%s%s: %s", r.rule,
                                 cm::severity_name(static_cast<cm::Severity>(r.severity)),
                                 r.relation[0] ? " on " : "", r.relation, r.message),
                          allowed ? errdetail("Allowed by rubberduck.migration_allow.") : 0,
                          r.alternative[0] ? errhint("Safer alternative:\n%s", r.alternative) : 0));
    }
}

void fill_entry(mg::DdlEntry &e, PlannedStmt *pstmt, const char *query, const GuardSummary &s, int mode,
                bool in_block) {
    memset(&e, 0, sizeof e);
    e.at = GetCurrentTimestamp();
    e.database = MyDatabaseId;
    e.userid = GetUserId();
    e.pid = MyProcPid;
    e.guard_mode = static_cast<uint8_t>(mode);
    e.max_severity = s.max_severity;
    e.lock_mode = s.lock_mode;
    e.in_transaction = in_block;
    e.est_duration_ms = s.est_ms;
    strlcpy(e.command_tag, GetCommandTagName(CreateCommandTag(pstmt->utilityStmt)), sizeof e.command_tag);
    strlcpy(e.relation, s.relation, sizeof e.relation);
    strlcpy(e.rules, s.rules, sizeof e.rules);
    int loc = pstmt->stmt_location > 0 ? pstmt->stmt_location : 0;
    int len = pstmt->stmt_len > 0 ? pstmt->stmt_len : static_cast<int>(strlen(query + loc));
    if (len >= mg::kDdlStatementLen) len = mg::kDdlStatementLen - 1;
    while (len > 0 && (query[loc] == ' ' || query[loc] == '\n' || query[loc] == '\t' || query[loc] == '\r')) {
        ++loc;
        --len;
    }
    len = pg_mbcliplen(query + loc, len, len);
    memcpy(e.statement, query + loc, len);
    e.statement[len] = '\0';
}

void guarded_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
                     ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
                     DestReceiver *dest, QueryCompletion *qc) {
    int mode = migration_directives.guard;
    auto next = [&]() {
        if (prev_utility)
            prev_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
        else
            standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
    };
    if (mode == static_cast<int>(MigrationGuardMode::Off) || context != PROCESS_UTILITY_TOPLEVEL ||
        in_agent_process || !queryString || !guarded(pstmt->utilityStmt) || !IsTransactionState() ||
        IsParallelWorker()) {
        next();
        return;
    }

    bool in_block = IsTransactionBlock();
    int apply_ms = LockTimeout == 0 ? migration_directives.lock_timeout_ms : 0;
    GuardSummary s{};
    guard_analyze(pstmt, queryString, s, LockTimeout > 0 ? LockTimeout : apply_ms);
    bool enforce = mode == static_cast<int>(MigrationGuardMode::Enforce);

    mg::DdlEntry entry;
    fill_entry(entry, pstmt, queryString, s, mode, in_block);
    emit_reports(s, enforce);
    if (enforce && s.blocked) {
        entry.outcome = mg::DdlOutcome::Blocked;
        entry.finished_at = entry.at;
        mg::ddl_log_append(entry);
        const GuardReport *r = nullptr;
        for (int i = 0; i < s.nreports; ++i)
            if (strcmp(s.reports[i].rule, s.blocked_rule) == 0) r = &s.reports[i];
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("migration guard refused the statement: %s%s%s", s.blocked_rule,
                        r && r->relation[0] ? " on " : "", r ? r->relation : ""),
                 r ? errdetail("%s", r->message) : 0,
                 errhint("%s%sTo run it anyway: SET rubberduck.migration_allow = '%s';",
                         r && r->alternative[0] ? "Safer alternative:\n" : "",
                         r && r->alternative[0] ? psprintf("%s\n", r->alternative) : "", s.blocked_rule)));
    }

    // lock_timeout for a statement whose lock blocks writes (SHARE and stronger, ACCESS EXCLUSIVE included).
    bool apply = apply_ms > 0 && s.analysed && s.lock_mode >= static_cast<int8_t>(cm::LockMode::Share);
    int saved_lock_timeout = LockTimeout;
    if (apply) {
        entry.lock_timeout_applied_ms = apply_ms;
        LockTimeout = apply_ms;
    }
    entry.outcome = s.allowed ? mg::DdlOutcome::Allowed : mg::DdlOutcome::Ok;
    PG_TRY();
    { next(); }
    PG_CATCH();
    {
        if (apply) LockTimeout = saved_lock_timeout;
        entry.outcome = mg::DdlOutcome::Failed;
        entry.finished_at = GetCurrentTimestamp();
        entry.duration_ms = static_cast<double>(entry.finished_at - entry.at) / 1000.0;
        mg::ddl_log_append(entry);
        PG_RE_THROW();
    }
    PG_END_TRY();
    if (apply) LockTimeout = saved_lock_timeout;
    entry.finished_at = GetCurrentTimestamp();
    entry.duration_ms = static_cast<double>(entry.finished_at - entry.at) / 1000.0;
    mg::ddl_log_append(entry);
}

}  // namespace

void install_utility_guard() {
    prev_utility = ProcessUtility_hook;
    ProcessUtility_hook = guarded_utility;
}

}  // namespace rubberduck::pg
