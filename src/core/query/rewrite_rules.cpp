#include "core/query/rewrite_rules.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <stdexcept>

namespace rubberduck::core::query {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trim(const std::string &s) {
    const auto b = s.find_first_not_of(" \t\n");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

void not_in_subquery(const QueryShape &s, std::vector<RewriteHint> &out) {
    for (const auto &n : s.not_in_subqueries) {
        RewriteHint h{"not_in_subquery", "", ""};
        h.message =
            "NOT IN (subquery) cannot become an anti-join (it must return no rows when the subquery yields a "
            "NULL), so the subquery is re-checked per row; NOT EXISTS lets the planner use a hash or merge "
            "anti-join.";
        if (n.subquery_column_nullable)
            h.message +=
                " Note: " +
                (n.subquery_column.empty() ? std::string("the subquery column") : n.subquery_column) +
                " can be NULL, where NOT IN returns nothing and NOT EXISTS keeps the row; NOT EXISTS is "
                "usually what was meant.";
        if (!n.subquery_column.empty() && !n.subquery_from.empty() && !n.outer_expression.empty()) {
            h.suggested_sql = "NOT EXISTS (SELECT 1 FROM " + n.subquery_from + " WHERE " + n.subquery_column +
                              " = " + n.outer_expression;
            if (!trim(n.subquery_where).empty()) h.suggested_sql += " AND (" + n.subquery_where + ")";
            h.suggested_sql += ")";
        }
        out.push_back(std::move(h));
    }
}

void large_offset(const QueryShape &s, const RewriteConfig &c, std::vector<RewriteHint> &out) {
    if (!s.offset || *s.offset < c.large_offset) return;
    RewriteHint h{"large_offset", "", ""};
    h.message =
        "OFFSET " + std::to_string(*s.offset) + " reads and throws away " + std::to_string(*s.offset) +
        " rows on every page; keyset pagination (remember the last row's sort key, continue after it) reads "
        "only the page.";
    if (s.order_by.empty()) {
        h.message += " There is no ORDER BY, so pages are not even stable: order by a unique key first.";
        out.push_back(std::move(h));
        return;
    }
    const bool desc = s.order_by.front().descending;
    const bool uniform = std::all_of(s.order_by.begin(), s.order_by.end(),
                                     [&](const OrderKey &k) { return k.descending == desc; });
    if (!uniform || s.from.empty()) {
        if (!uniform)
            h.message += " Mixed sort directions need an expanded OR condition instead of a row comparison.";
        out.push_back(std::move(h));
        return;
    }
    std::string keys, params, order;
    for (std::size_t i = 0; i < s.order_by.size(); ++i) {
        const std::string sep = i ? ", " : "";
        keys += sep + s.order_by[i].expression;
        params += sep + "$" + std::to_string(s.param_count + 1 + static_cast<int>(i));
        order += sep + s.order_by[i].expression + (desc ? " DESC" : "");
    }
    const bool multi = s.order_by.size() > 1;
    const std::string cond =
        (multi ? "(" + keys + ")" : keys) + (desc ? " < " : " > ") + (multi ? "(" + params + ")" : params);
    h.suggested_sql = "SELECT " + (s.select_list.empty() ? std::string("*") : s.select_list) + " FROM " +
                      s.from + " WHERE " + (trim(s.where).empty() ? cond : "(" + s.where + ") AND " + cond) +
                      " ORDER BY " + order + " LIMIT " +
                      (s.limit ? std::to_string(*s.limit)
                               : std::string("$") +
                                     std::to_string(s.param_count + 1 + static_cast<int>(s.order_by.size())));
    h.message +=
        " The new parameters are the last row's sort key; the ORDER BY must end with a unique column.";
    out.push_back(std::move(h));
}

void leading_wildcard_like(const QueryShape &s, std::vector<RewriteHint> &out) {
    for (const auto &l : s.like_predicates) {
        if (!l.pattern_is_literal || l.negated || l.pattern.empty()) continue;
        if (l.pattern[0] != '%' && l.pattern[0] != '_') continue;
        RewriteHint h{"leading_wildcard_like", "", ""};
        const std::string op = l.case_insensitive ? "ILIKE" : "LIKE";
        h.message = l.column + " " + op + " '" + l.pattern +
                    "' starts with a wildcard, so no B-tree index can be used "
                    "and every row is scanned; a trigram GIN index (pg_trgm) serves LIKE and ILIKE with any "
                    "wildcards.";
        std::size_t literal_chars = 0;
        for (std::size_t i = 0; i < l.pattern.size(); ++i) {
            if (l.pattern[i] == '\\') {
                ++i, ++literal_chars;
            } else if (l.pattern[i] != '%' && l.pattern[i] != '_') {
                ++literal_chars;
            }
        }
        if (literal_chars < 3) {
            h.message +=
                " This pattern has fewer than 3 literal characters, too short for trigrams to narrow the "
                "search: require a longer search string.";
        } else if (!l.table.empty() && !l.column.empty()) {
            h.suggested_sql = "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE INDEX CONCURRENTLY ON " +
                              l.table + " USING gin (" + l.column + " gin_trgm_ops);";
        }
        out.push_back(std::move(h));
    }
}

void function_on_indexed_column(const QueryShape &s, std::vector<RewriteHint> &out) {
    for (const auto &f : s.functions_on_columns) {
        if (!f.column_indexed || f.expression_indexed) continue;
        RewriteHint h{"function_on_indexed_column", "", ""};
        h.message = "The WHERE clause applies " + f.function_name + " to " + f.column + ", so the index on " +
                    f.column + " cannot be used.";
        const std::string fn = lower(f.function_name);
        const bool to_date = fn == "date" || fn == "::date";
        if (to_date && f.op == "=" && !f.compared_value.empty()) {
            h.message += " Compare the bare column with a day range instead.";
            h.suggested_sql = f.column + " >= (" + f.compared_value + ")::date AND " + f.column + " < (" +
                              f.compared_value + ")::date + 1";
        } else if (f.immutable && !f.table.empty() && !f.expression.empty()) {
            h.message += " Index the expression itself (or rewrite the condition on the bare column).";
            h.suggested_sql = "CREATE INDEX CONCURRENTLY ON " + f.table + " ((" + f.expression + "));";
        } else {
            h.message +=
                " The expression is not IMMUTABLE, so it cannot be indexed: rewrite the condition as a "
                "range on the bare column.";
        }
        out.push_back(std::move(h));
    }
}

void or_across_columns(const QueryShape &s, std::vector<RewriteHint> &out) {
    for (const auto &g : s.or_groups) {
        std::set<std::string> cols;
        for (const auto &d : g.disjuncts) cols.insert(d.column);
        if (cols.size() < 2) continue;
        RewriteHint h{"or_across_columns", "", ""};
        std::string list;
        for (const auto &c : cols) list += (list.empty() ? "" : ", ") + c;
        h.message =
            "OR across different columns (" + list +
            ") usually forces a sequential scan unless each column "
            "has its own index (then a BitmapOr is possible); a UNION of one indexed query per column avoids "
            "it. UNION removes duplicate rows: keep a unique key in the select list.";
        const bool complete =
            !s.from.empty() && std::all_of(g.disjuncts.begin(), g.disjuncts.end(),
                                           [](const OrDisjunct &d) { return !d.predicate.empty(); });
        if (complete) {
            const std::string sel = s.select_list.empty() ? "*" : s.select_list;
            for (std::size_t i = 0; i < g.disjuncts.size(); ++i) {
                if (i) h.suggested_sql += "\nUNION\n";
                h.suggested_sql += "SELECT " + sel + " FROM " + s.from + " WHERE " + g.disjuncts[i].predicate;
            }
            h.message += " Add the query's other conditions to each branch.";
        }
        out.push_back(std::move(h));
    }
}

void select_star_wide(const QueryShape &s, const RewriteConfig &c, std::vector<RewriteHint> &out) {
    for (const auto &st : s.select_stars) {
        if (st.column_count < c.wide_table_columns) continue;
        out.push_back(
            {"select_star_wide",
             "SELECT * over " + st.table + " returns all " + std::to_string(st.column_count) +
                 " columns: list only the columns you use, which moves less data, can avoid TOAST reads "
                 "and lets an index-only scan answer the query.",
             ""});
    }
}

void correlated_subquery_select(const QueryShape &s, std::vector<RewriteHint> &out) {
    int n = 0;
    for (const auto &c : s.correlated_select_subqueries) {
        ++n;
        RewriteHint h{"correlated_subquery_select", "", ""};
        const std::string alias = c.alias.empty() ? "sub" + std::to_string(n) : c.alias;
        h.message =
            "A correlated subquery in the select list runs once per output row; move it into FROM as a "
            "LATERAL join (or pre-aggregate with GROUP BY and join) and select " +
            alias + "_q.value.";
        if (!trim(c.subquery).empty())
            h.suggested_sql = "LEFT JOIN LATERAL (" + c.subquery + ") AS " + alias + "_q(value) ON true";
        out.push_back(std::move(h));
    }
}

void count_for_existence(const QueryShape &s, std::vector<RewriteHint> &out) {
    for (const auto &c : s.count_comparisons) {
        const std::string op = c.op == "!=" ? "<>" : c.op;
        bool exists = false, not_exists = false;
        if ((op == ">" && c.value == 0) || (op == ">=" && c.value == 1) || (op == "<>" && c.value == 0))
            exists = true;
        if ((op == "=" && c.value == 0) || (op == "<" && c.value == 1) || (op == "<=" && c.value == 0))
            not_exists = true;
        if (!exists && !not_exists) continue;
        RewriteHint h{"count_for_existence", "", ""};
        h.message = "count(*) " + c.op + " " + std::to_string(c.value) +
                    " counts every matching row only to test whether one exists; EXISTS stops at the first.";
        if (!trim(c.from_where).empty())
            h.suggested_sql =
                std::string(exists ? "EXISTS" : "NOT EXISTS") + " (SELECT 1 " + c.from_where + ")";
        out.push_back(std::move(h));
    }
}

// Type categories and what happens when two types meet in a comparison.
enum class Cat { Unknown, Integer, Numeric, Float, Text, Bpchar, DateTime, Other };

Cat category(const std::string &t) {
    if (t == "unknown" || t.empty()) return Cat::Unknown;
    if (t == "int2" || t == "int4" || t == "int8") return Cat::Integer;
    if (t == "numeric") return Cat::Numeric;
    if (t == "float4" || t == "float8") return Cat::Float;
    if (t == "text" || t == "varchar" || t == "name") return Cat::Text;
    if (t == "bpchar") return Cat::Bpchar;
    if (t == "date" || t == "timestamp" || t == "timestamptz") return Cat::DateTime;
    return Cat::Other;
}

// True when PostgreSQL would have to cast the column side, which disables a plain index on the column.
bool column_gets_cast(const std::string &col, const std::string &other) {
    const Cat a = category(col), b = category(other);
    if (b == Cat::Unknown || col == other) return false;
    // Families with cross-type operators: integer_ops, float_ops, datetime_ops, text/varchar/name.
    if (a == b && (a == Cat::Integer || a == Cat::Float || a == Cat::DateTime || a == Cat::Text))
        return false;
    auto num_rank = [](Cat c) {
        return c == Cat::Integer ? 1 : c == Cat::Numeric ? 2 : c == Cat::Float ? 3 : 0;
    };
    if (num_rank(a) && num_rank(b)) return num_rank(a) < num_rank(b);  // the lower-ranked side is promoted
    if (a == Cat::Bpchar && b == Cat::Text) return true;               // char(n) column becomes text
    if (a == Cat::Text && b == Cat::Bpchar) return false;              // the bpchar value becomes text
    return true;                                                       // different categories
}

void implicit_type_mismatch(const QueryShape &s, std::vector<RewriteHint> &out) {
    for (const auto &t : s.type_comparisons) {
        const std::string ct = normalize_type_name(t.column_type), ot = normalize_type_name(t.other_type);
        if (!column_gets_cast(ct, ot)) continue;
        RewriteHint h{"implicit_type_mismatch", "", ""};
        h.message =
            t.column + " (" + t.column_type + ") is compared with a " + t.other_type +
            " value, so the column is converted for every row and its index cannot be used; pass the value "
            "as " +
            t.column_type + ".";
        if (!t.other_expression.empty())
            h.suggested_sql = t.column + " " + t.op + " (" + t.other_expression + ")::" + t.column_type;
        out.push_back(std::move(h));
    }
}

}  // namespace

std::string normalize_type_name(const std::string &type) {
    std::string t = lower(trim(type));
    const auto paren = t.find('(');
    std::string suffix;
    if (paren != std::string::npos) {
        const auto close = t.find(')', paren);
        suffix = close == std::string::npos ? "" : trim(t.substr(close + 1));
        t = trim(t.substr(0, paren));
        if (!suffix.empty()) t += " " + suffix;  // timestamp(3) with time zone
    }
    std::string collapsed;  // single spaces
    for (char ch : t)
        if (!(ch == ' ' && (collapsed.empty() || collapsed.back() == ' '))) collapsed += ch;
    t = trim(collapsed);
    if (t == "integer" || t == "int") return "int4";
    if (t == "smallint") return "int2";
    if (t == "bigint") return "int8";
    if (t == "real") return "float4";
    if (t == "double precision" || t == "float") return "float8";
    if (t == "decimal") return "numeric";
    if (t == "character varying") return "varchar";
    if (t == "character" || t == "char") return "bpchar";
    if (t == "timestamp without time zone") return "timestamp";
    if (t == "timestamp with time zone") return "timestamptz";
    return t;
}

std::vector<RewriteHint> rewrite_hints(const QueryShape &shape, const RewriteConfig &config) {
    if (config.large_offset < 1) throw std::invalid_argument("rewrite rules: large_offset must be >= 1");
    if (config.wide_table_columns < 1)
        throw std::invalid_argument("rewrite rules: wide_table_columns must be >= 1");
    if (shape.param_count < 0) throw std::invalid_argument("rewrite rules: param_count must be >= 0");
    std::vector<RewriteHint> out;
    not_in_subquery(shape, out);
    large_offset(shape, config, out);
    leading_wildcard_like(shape, out);
    function_on_indexed_column(shape, out);
    or_across_columns(shape, out);
    select_star_wide(shape, config, out);
    correlated_subquery_select(shape, out);
    count_for_existence(shape, out);
    implicit_type_mismatch(shape, out);
    return out;
}

}  // namespace rubberduck::core::query
