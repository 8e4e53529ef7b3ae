#include "pg/guc/migration_directives.hpp"

#include <cctype>
#include <cfloat>
#include <climits>
#include <string>

#include "pg/boundary/cpp_guard.hpp"

namespace rubberduck::pg {

MigrationDirectives migration_directives;

namespace {

const struct config_enum_entry guard_options[] = {
    {"off", static_cast<int>(MigrationGuardMode::Off), false},
    {"warn", static_cast<int>(MigrationGuardMode::Warn), false},
    {"enforce", static_cast<int>(MigrationGuardMode::Enforce), false},
    {nullptr, 0, false},
};

// A comma-separated list of rule ids (snake_case) or "all". PG regime, never ereports (R36).
bool check_allow(char **newval, void **, GucSource) {
    const char *v = *newval ? *newval : "";
    for (const char *p = v; *p; ++p) {
        unsigned char c = static_cast<unsigned char>(*p);
        if (!(std::islower(c) || std::isdigit(c) || c == '_' || c == ',' || c == ' ')) {
            GUC_check_errmsg("rubberduck.migration_allow must list rule ids separated by commas");
            GUC_check_errdetail(
                "Invalid character \"%c\"; rule ids are lower-case snake_case such as "
                "create_index_not_concurrently.",
                *p);
            return false;
        }
    }
    return true;
}

void define_throughput(const char *name, const char *what, double *var) {
    DefineCustomRealVariable(name, what,
                             "0 uses the figure measured by rubberduck.calibrate_migration_throughput(), or "
                             "the built-in default when the server was never calibrated.",
                             var, 0, 0, 1e12, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace

void define_migration_directives() {
    MigrationDirectives &d = migration_directives;
    DefineCustomEnumVariable("rubberduck.migration_guard",
                             "Checks every DDL statement with the migration rules: off, warn or enforce.",
                             "warn: a WARNING with the finding and the safer alternative; enforce: an ERROR "
                             "(SQLSTATE 55000) for danger findings unless rubberduck.migration_allow lists "
                             "the rule.",
                             &d.guard, static_cast<int>(MigrationGuardMode::Warn), guard_options, PGC_SUSET,
                             0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "rubberduck.migration_allow",
        "Rule ids the migration guard lets through in enforce mode (comma-separated, or "
        "all).",
        nullptr, &d.allow, "", PGC_USERSET, 0, check_allow, nullptr, nullptr);
    DefineCustomIntVariable("rubberduck.migration_lock_timeout",
                            "lock_timeout the guard applies to a DDL statement that takes a lock blocking "
                            "writes when the session has none.",
                            "0 disables it.", &d.lock_timeout_ms, 5000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
                            nullptr, nullptr, nullptr);
    define_throughput("rubberduck.migration_rewrite_rows_per_sec", "Table rewrite throughput (rows/s).",
                      &d.rewrite_rows_per_sec);
    define_throughput("rubberduck.migration_rewrite_bytes_per_sec", "Table rewrite throughput (bytes/s).",
                      &d.rewrite_bytes_per_sec);
    define_throughput("rubberduck.migration_scan_rows_per_sec", "Sequential scan throughput (rows/s).",
                      &d.scan_rows_per_sec);
    define_throughput("rubberduck.migration_scan_bytes_per_sec", "Sequential scan throughput (bytes/s).",
                      &d.scan_bytes_per_sec);
    define_throughput("rubberduck.migration_index_build_rows_per_sec", "B-tree build throughput (rows/s).",
                      &d.index_build_rows_per_sec);
    define_throughput("rubberduck.migration_fk_validate_rows_per_sec",
                      "Foreign-key validation throughput (rows/s).", &d.fk_validate_rows_per_sec);
    define_throughput("rubberduck.migration_dml_rows_per_sec", "UPDATE/DELETE throughput (rows/s).",
                      &d.dml_rows_per_sec);
    DefineCustomIntVariable("rubberduck.migration_warning_lock_ms",
                            "A lock blocking writes held at least this long is a warning.", nullptr,
                            &d.warning_lock_ms, 1000, 1, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr,
                            nullptr);
    DefineCustomIntVariable(
        "rubberduck.migration_danger_lock_ms", "A lock blocking writes held at least this long is a danger.",
        nullptr, &d.danger_lock_ms, 10000, 1, INT_MAX, PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("rubberduck.migration_large_table_rows",
                             "Tables with more rows need a lock_timeout even for a SHARE lock.", nullptr,
                             &d.large_table_rows, 1e6, 1, 1e15, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomRealVariable("rubberduck.migration_large_dml_rows",
                             "UPDATE/DELETE touching more rows should be batched.", nullptr,
                             &d.large_dml_rows, 100000, 1, 1e15, PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

bool migration_rule_allowed(const char *rule) {
    const char *list = migration_directives.allow;
    if (!list || !*list || !rule) return false;
    size_t n = strlen(rule);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',') ++p;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ') ++e;
        size_t len = static_cast<size_t>(e - p);
        if ((len == n && strncmp(p, rule, n) == 0) || (len == 3 && strncmp(p, "all", 3) == 0)) return true;
        p = e;
    }
    return false;
}

}  // namespace rubberduck::pg
