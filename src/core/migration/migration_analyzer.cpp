#include "core/migration/migration_analyzer.h"

#include <cmath>
#include <stdexcept>

#include "core/migration/rules.h"

namespace rubberduck::core::migration {

const char *severity_name(Severity s) {
    switch (s) {
        case Severity::Info:
            return "info";
        case Severity::Warning:
            return "warning";
        case Severity::Danger:
            return "danger";
        case Severity::Error:
            return "error";
    }
    return "info";
}

std::string MigrationFinding::lock_mode_name() const {
    return lock_mode ? migration::lock_mode_name(*lock_mode) : "";
}

namespace {

using namespace detail;

void require_positive(double v, const char *what) {
    if (!(v > 0) || !std::isfinite(v))
        throw std::invalid_argument(std::string(what) +
                                    " must be a positive number; leave the default if the "
                                    "server was not measured");
}

void validate_inputs(const CatalogFacts &facts, const AnalyzerOptions &o) {
    const ServerThroughput &t = facts.throughput;
    require_positive(t.rewrite_rows_per_s, "throughput.rewrite_rows_per_s");
    require_positive(t.rewrite_bytes_per_s, "throughput.rewrite_bytes_per_s");
    require_positive(t.scan_rows_per_s, "throughput.scan_rows_per_s");
    require_positive(t.scan_bytes_per_s, "throughput.scan_bytes_per_s");
    require_positive(t.index_build_rows_per_s, "throughput.index_build_rows_per_s");
    require_positive(t.fk_validate_rows_per_s, "throughput.fk_validate_rows_per_s");
    require_positive(t.dml_rows_per_s, "throughput.dml_rows_per_s");
    if (!(t.metadata_ms >= 0)) throw std::invalid_argument("throughput.metadata_ms must be >= 0");
    require_positive(o.warning_lock_ms, "options.warning_lock_ms");
    require_positive(o.danger_lock_ms, "options.danger_lock_ms");
    if (o.danger_lock_ms < o.warning_lock_ms)
        throw std::invalid_argument("options.danger_lock_ms must be >= options.warning_lock_ms");
    require_positive(o.large_table_rows, "options.large_table_rows");
    require_positive(o.large_dml_rows, "options.large_dml_rows");
    if (!(o.default_where_selectivity > 0 && o.default_where_selectivity <= 1))
        throw std::invalid_argument("options.default_where_selectivity must be in (0, 1]");
    for (const auto &r : facts.relations) {
        if (r.name.empty()) throw std::invalid_argument("CatalogFacts: a relation has an empty name");
        if (std::isnan(r.rows) || !(r.bytes >= 0))
            throw std::invalid_argument("CatalogFacts: relation " + r.name.display() +
                                        " needs rows (reltuples, -1 if unknown) and bytes >= 0");
    }
}

void validate_statement(const StatementDescription &s, int no) {
    auto fail = [&](const std::string &what) {
        throw std::invalid_argument("statement " + std::to_string(no) + " (" + statement_kind_name(s.kind) +
                                    "): " + what);
    };
    using S = StatementKind;
    switch (s.kind) {
        case S::CreateIndex:
            if (s.index.columns.empty()) fail("index.columns is empty; fill one element per index column");
            [[fallthrough]];
        case S::Reindex:
        case S::CreateTable:
        case S::CreateView:
        case S::Insert:
        case S::Update:
        case S::Delete:
            if (s.relation.empty()) fail("relation is empty; fill StatementDescription::relation");
            break;
        case S::AlterTable:
            if (s.relation.empty()) fail("relation is empty; fill StatementDescription::relation");
            if (s.alter_cmds.empty()) fail("alter_cmds is empty; describe each subcommand");
            break;
        case S::RenameTable:
            if (s.relation.empty() || s.new_name.empty()) fail("needs relation and new_name");
            break;
        case S::DropIndex:
        case S::DropTable:
        case S::DropView:
        case S::Truncate:
            if (s.relations.empty()) fail("relations is empty; list every relation the statement names");
            break;
        default:
            break;
    }
}

bool uses_index_name(const StatementDescription &s) {
    return s.kind == StatementKind::DropIndex || (s.kind == StatementKind::Reindex && s.reindex_index) ||
           (s.kind == StatementKind::RenameTable && s.rename_index);
}

// Resolves every lock the statement requests; reports relations that neither exist nor were created earlier.
void register_locks(RuleContext &ctx) {
    const StatementDescription &s = ctx.stmt;
    for (const RelationLock &rl : statement_locks(s)) {
        const RelationName &name = *rl.relation;
        bool target = &name == &s.relation;
        if (s.kind == StatementKind::CreateTable && name.matches(s.relation)) continue;  // self-reference
        bool by_index = uses_index_name(s) && (target || s.kind == StatementKind::DropIndex);
        TrackedRelation *rel = by_index ? ctx.state.index_owner(name) : ctx.state.lookup(name);
        if (rel) {
            ctx.lock(rel, rel->display(), rl.mode);
            continue;
        }
        if (s.kind == StatementKind::CreateView && target) continue;  // a new view
        if (s.missing_ok && (target || s.kind == StatementKind::DropIndex ||
                             s.kind == StatementKind::DropTable || s.kind == StatementKind::DropView)) {
            ctx.statement_notes.push_back(name.display() + " does not exist: IF EXISTS skips it");
            continue;
        }
        ctx.lock(nullptr, name.display(), rl.mode);
        ctx.add(name.display(), "unknown_relation", Severity::Error,
                std::string(by_index ? "index " : "relation ") + name.display() +
                    " neither exists nor is created earlier in this migration: PostgreSQL will reject the "
                    "statement.");
    }
}

void dispatch(RuleContext &ctx) {
    switch (ctx.stmt.kind) {
        case StatementKind::CreateIndex:
        case StatementKind::DropIndex:
        case StatementKind::Reindex:
            analyze_index_statement(ctx);
            break;
        case StatementKind::AlterTable:
            analyze_alter_table(ctx);
            break;
        case StatementKind::RenameTable:
        case StatementKind::DropTable:
        case StatementKind::DropView:
        case StatementKind::Truncate:
        case StatementKind::Vacuum:
        case StatementKind::Analyze:
        case StatementKind::Cluster:
        case StatementKind::CreateTable:
        case StatementKind::CreateView:
            analyze_table_statement(ctx);
            break;
        case StatementKind::Begin:
        case StatementKind::Commit:
        case StatementKind::Rollback:
        case StatementKind::Set:
        case StatementKind::AlterTypeAddValue:
        case StatementKind::Insert:
        case StatementKind::Update:
        case StatementKind::Delete:
        case StatementKind::Select:
            analyze_session_statement(ctx);
            break;
        case StatementKind::Other:
            ctx.statement_notes.push_back("not analysed by the migration rules");
            break;
    }
}

const RelationEffect *find_effect(const RuleContext &ctx, const std::string &display) {
    for (const auto &e : ctx.effects)
        if (e.display == display) return &e;
    return nullptr;
}

void fill_effect(MigrationFinding &f, const RelationEffect *e) {
    if (!e) return;
    f.lock_mode = e->rel ? strongest(e->rel->held, e->lock) : e->lock;
    f.rewrites_table = e->rewrites;
    f.scans_table = e->scans;
    f.est_duration_ms = e->ms;
}

std::string ok_message(const StatementDescription &s, const RuleContext &ctx, const RelationEffect *primary) {
    std::string msg = statement_kind_name(s.kind);
    if (primary) {
        msg += " on " + primary->display;
        std::optional<LockMode> lock =
            primary->rel ? strongest(primary->rel->held, primary->lock) : primary->lock;
        if (lock) msg += std::string(": ") + lock_mode_name(*lock) + " (" + blocking_summary(*lock) + ")";
        msg += primary->rewrites ? ", rewrites the table" : primary->scans ? ", scans the table" : "";
        if (primary->ms > 0) msg += ", ~" + format_ms(primary->ms);
        for (const auto &n : primary->notes) msg += "; " + n;
    }
    for (const auto &e : ctx.effects)
        if (&e != primary && e.lock)
            msg += std::string("; also ") + lock_mode_name(*e.lock) + " on " + e.display;
    for (const auto &n : ctx.statement_notes) msg += "; " + n;
    return msg;
}

}  // namespace

std::vector<MigrationFinding> analyze(const std::vector<StatementDescription> &statements,
                                      const CatalogFacts &facts, const AnalyzerOptions &options) {
    if (statements.empty())
        throw std::invalid_argument("empty migration: pass at least one SQL statement to analyse");
    validate_inputs(facts, options);
    for (size_t i = 0; i < statements.size(); ++i) validate_statement(statements[i], static_cast<int>(i + 1));

    MigrationState state(facts);
    std::vector<MigrationFinding> out;
    for (size_t i = 0; i < statements.size(); ++i) {
        const StatementDescription &s = statements[i];
        RuleContext ctx(s, static_cast<int>(i + 1), state, facts, options);
        register_locks(ctx);
        dispatch(ctx);
        analyze_cross_cutting(ctx);

        MigrationFinding base;
        base.statement_no = ctx.no;
        base.statement = s.text;
        for (const auto &p : ctx.findings) {
            MigrationFinding f = base;
            f.relation = p.relation;
            f.rule = p.rule;
            f.severity = p.severity;
            f.message = p.message;
            f.safer_alternative = p.alternative;
            const RelationEffect *e = find_effect(ctx, p.relation);
            fill_effect(f, e);
            // Inside a transaction an earlier statement may already hold a stronger lock than this one takes.
            if (e && e->rel && e->rel->held && e->lock &&
                static_cast<int>(*e->rel->held) > static_cast<int>(*e->lock))
                f.message += std::string(" This transaction already holds ") + lock_mode_name(*e->rel->held) +
                             " on " + e->display + " from an earlier statement, so while this runs it " +
                             blocking_summary(*e->rel->held) + ".";
            out.push_back(std::move(f));
        }
        if (ctx.findings.empty()) {
            // The primary relation's effect (the statement's target), else the first one touched.
            const RelationEffect *primary = nullptr;
            for (const auto &e : ctx.effects)
                if (e.rel && !s.relation.empty() && e.rel->name.matches(s.relation)) primary = &e;
            if (!primary && !ctx.effects.empty()) primary = &ctx.effects.front();
            MigrationFinding f = base;
            f.rule = "ok";
            f.severity = Severity::Info;
            f.relation = primary ? primary->display : "";
            fill_effect(f, primary);
            f.message = ok_message(s, ctx, primary);
            out.push_back(std::move(f));
        }

        // Locks taken inside an explicit transaction stay until COMMIT/ROLLBACK.
        double ms = 0;
        for (const auto &e : ctx.effects) ms = std::max(ms, e.ms);
        if (state.session.in_tx) {
            state.session.tx_ms += ms;
            for (const auto &e : ctx.effects)
                if (e.rel && e.lock) e.rel->held = strongest(e.rel->held, e.lock);
        }
    }
    return out;
}

}  // namespace rubberduck::core::migration
