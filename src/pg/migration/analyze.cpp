// analyze_migration_text(): raw parser -> descriptions -> catalog facts -> core rules.
#include "pg/migration/analyze.hpp"

#include <string>

#include "core/common/json_writer.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/migration/catalog_facts.hpp"
#include "pg/migration/migration_parse.hpp"

namespace rubberduck::pg::migration {

namespace cm = core::migration;

namespace {

struct AnalysisState : MigrationAnalysis {
    ParsedMigration parsed;
};

void delete_state(void *arg) {
    delete static_cast<AnalysisState *>(arg);  // destructors of std containers never throw
}

// A C++ object owned by CurrentMemoryContext (R17).
AnalysisState *new_owned_state() {
    auto *cb = static_cast<MemoryContextCallback *>(palloc0(sizeof(MemoryContextCallback)));
    AnalysisState *st = cpp_guard([] { return new AnalysisState(); });
    cb->func = delete_state;
    cb->arg = st;
    MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
    return st;
}

}  // namespace

std::string MigrationAnalysis::findings_json() const {
    std::string out = "[";
    for (size_t i = 0; i < findings.size(); ++i) {
        const cm::MigrationFinding &f = findings[i];
        core::JsonObject o;
        o.add("statement_no", f.statement_no)
            .add("statement", f.statement)
            .add("relation", f.relation)
            .add("rule", f.rule)
            .add("severity", cm::severity_name(f.severity))
            .add("lock_mode", f.lock_mode_name())
            .add("rewrites_table", f.rewrites_table)
            .add("scans_table", f.scans_table)
            .add("est_duration_ms", f.est_duration_ms)
            .add("message", f.message)
            .add("safer_alternative", f.safer_alternative);
        if (i) out += ",";
        out += o.str();
    }
    return out + "]";
}

const MigrationAnalysis *analyze_migration_text(const char *sql) {
    if (!sql)
        ereport(ERROR,
                (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("the migration SQL must not be NULL")));
    List *raw = raw_parse_migration(sql);  // ERRORs on empty input, meta-commands, syntax errors
    AnalysisState *st = new_owned_state();
    cpp_guard([&] {
        std::string text(sql);
        ListCell *lc;
        foreach (lc, raw) {
            auto *rs = static_cast<RawStmt *>(lfirst(lc));
            describe_raw_statement(text, rs->stmt, rs->stmt_location, rs->stmt_len, st->parsed);
        }
    });
    resolve_probes(st->parsed);
    cpp_guard([&] { st->statements = st->parsed.statements; });
    read_catalog_facts(st->statements, st->facts);
    cpp_guard([&] {
        st->options = analyzer_options_from_directives();
        st->findings = cm::analyze(st->statements, st->facts, st->options);
    });
    return st;
}

}  // namespace rubberduck::pg::migration
