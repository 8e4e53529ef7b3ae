// Pure helpers of the rules: type-change classification, small parsers, and SQL rendering for alternatives.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/common/sql_quote.h"
#include "core/migration/rules.h"

namespace rubberduck::core::migration::detail {

namespace {

// A length/precision typmod where "none" means unlimited: growing or removing it never needs a rewrite.
TypeChange limit_change(const TypeName &from, const TypeName &to) {
    if (to.modifiers.empty()) return TypeChange::BinaryCoercible;
    if (from.modifiers.empty())
        return TypeChange::Rewrite;  // unlimited -> limited must check/truncate values
    return to.modifiers[0] >= from.modifiers[0] ? TypeChange::BinaryCoercible : TypeChange::Rewrite;
}

std::string lower(const std::string &s) {
    std::string out;
    for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

TypeChange classify_type_change(const TypeName &from_raw, const TypeName &to_raw, bool has_using) {
    if (has_using) return TypeChange::Rewrite;  // USING re-evaluates an expression for every row
    TypeName from = from_raw, to = to_raw;
    from.name = canonical_type(from.name);
    to.name = canonical_type(to.name);
    if (from.is_array != to.is_array) return TypeChange::Rewrite;
    if (from.name == to.name) {
        if (from.modifiers == to.modifiers) return TypeChange::NoOp;
        const std::string &n = from.name;
        if (n == "varchar" || n == "varbit") return limit_change(from, to);
        if (n == "numeric") {
            // PG 9.2+: raising the precision at the same scale, or dropping the limit, is free.
            if (to.modifiers.empty()) return TypeChange::BinaryCoercible;
            if (from.modifiers.empty()) return TypeChange::Rewrite;
            int from_scale = from.modifiers.size() > 1 ? from.modifiers[1] : 0;
            int to_scale = to.modifiers.size() > 1 ? to.modifiers[1] : 0;
            return (from_scale == to_scale && to.modifiers[0] >= from.modifiers[0])
                       ? TypeChange::BinaryCoercible
                       : TypeChange::Rewrite;
        }
        if (n == "timestamp" || n == "timestamptz" || n == "time" || n == "timetz" || n == "interval")
            return limit_change(from, to);  // fractional-second precision: more or none is free
        return TypeChange::Rewrite;         // bpchar(n), bit(n): values are padded to the length
    }
    // Binary-coercible casts whose length coercion is a no-op.
    if (from.name == "varchar" && to.name == "text") return TypeChange::BinaryCoercible;
    if (from.name == "text" && to.name == "varchar") return limit_change(from, to);
    if (from.name == "cidr" && to.name == "inet") return TypeChange::BinaryCoercible;
    // int4 -> int8, timestamp -> timestamptz (rewrites unless TimeZone is UTC), text -> bpchar, ...
    return TypeChange::Rewrite;
}

bool check_proves_not_null(const std::string &expression, const std::string &column) {
    std::string norm;
    bool space = false;
    for (char c : expression) {
        if (c == '(' || c == ')' || c == '"') continue;
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !norm.empty();
            continue;
        }
        if (space) norm += ' ';
        space = false;
        norm += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return norm == lower(column) + " is not null";
}

std::optional<double> parse_duration_ms(const std::string &value) {
    std::string v;
    for (char c : value)
        if (c != '\'' && c != '"' && !std::isspace(static_cast<unsigned char>(c)))
            v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v.empty() || v == "default") return std::nullopt;
    size_t pos = 0;
    double n = 0;
    try {
        n = std::stod(v, &pos);
    } catch (const std::exception &) {
        return std::nullopt;
    }
    if (n < 0 || !std::isfinite(n)) return std::nullopt;
    std::string unit = v.substr(pos);
    if (unit.empty() || unit == "ms") return n;
    if (unit == "us") return n / 1000.0;
    if (unit == "s") return n * 1000.0;
    if (unit == "min") return n * 60000.0;
    if (unit == "h") return n * 3600000.0;
    if (unit == "d") return n * 86400000.0;
    return std::nullopt;
}

std::string format_ms(double ms) {
    char buf[64];
    if (ms < 1000)
        std::snprintf(buf, sizeof buf, ms < 10 ? "%.1f ms" : "%.0f ms", ms);
    else if (ms < 60000)
        std::snprintf(buf, sizeof buf, "%.1f s", ms / 1000);
    else if (ms < 3600000)
        std::snprintf(buf, sizeof buf, "%.1f min", ms / 60000);
    else
        std::snprintf(buf, sizeof buf, "%.1f h", ms / 3600000);
    return buf;
}

std::string format_rows(double rows) {
    char buf[64];
    if (rows < 10000)
        std::snprintf(buf, sizeof buf, "%.0f", rows);
    else if (rows < 1e6)
        std::snprintf(buf, sizeof buf, "%.0fk", rows / 1e3);
    else if (rows < 1e9)
        std::snprintf(buf, sizeof buf, "%.1fM", rows / 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.1fG", rows / 1e9);
    return buf;
}

std::string quote_ident(const std::string &ident) {
    return ident.empty() ? std::string("\"\"") : core::quote_ident(ident);
}

std::string quote_rel(const RelationName &name) {
    return name.schema.empty() ? quote_ident(name.name)
                               : quote_ident(name.schema) + "." + quote_ident(name.name);
}

std::string ident_list(const std::vector<std::string> &elements) {
    std::string out;
    for (size_t i = 0; i < elements.size(); ++i) {
        if (i) out += ", ";
        // Expression elements arrive parenthesised; anything else is a column name.
        out += (!elements[i].empty() && elements[i][0] == '(') ? elements[i] : quote_ident(elements[i]);
    }
    return out;
}

std::string render_constraint(const ConstraintDef &c) {
    switch (c.kind) {
        case ConstraintKind::ForeignKey: {
            std::string s =
                "FOREIGN KEY (" + ident_list(c.columns) + ") REFERENCES " + quote_rel(c.referenced);
            if (!c.referenced_columns.empty()) s += " (" + ident_list(c.referenced_columns) + ")";
            if (!c.fk_actions.empty()) s += " " + c.fk_actions;
            return s;
        }
        case ConstraintKind::Check:
            return "CHECK (" + c.expression + ")";
        case ConstraintKind::Unique:
            return "UNIQUE (" + ident_list(c.columns) + ")";
        case ConstraintKind::PrimaryKey:
            return "PRIMARY KEY (" + ident_list(c.columns) + ")";
        case ConstraintKind::Exclusion:
            return "EXCLUDE " + c.expression;
        case ConstraintKind::NotNull:
        case ConstraintKind::Other:
            break;
    }
    return c.expression;
}

std::string batched_update(const TrackedRelation &rel, const std::string &set_clause,
                           const std::string &pending) {
    std::string t = quote_rel(rel.name);
    std::string key = rel.batch_key();
    std::string k = key == "ctid" ? key : quote_ident(key);
    std::string sub = "SELECT " + k + " FROM " + t + " WHERE " + pending + " LIMIT 10000";
    std::string where = key == "ctid" ? "ctid = ANY (ARRAY(" + sub + "))" : k + " IN (" + sub + ")";
    return "-- repeat until it updates 0 rows, each batch in its own transaction:\nUPDATE " + t + " SET " +
           set_clause + " WHERE " + where + ";";
}

}  // namespace rubberduck::core::migration::detail
