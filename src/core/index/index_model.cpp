#include "core/index/index_model.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace rubberduck::core::index {

namespace {

std::string lower(const std::string &s) {
    std::string out = s;
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// Expression and predicate texts come from the adapter's deparser; refuse statement separators and comments
// so a malformed input can never turn one DDL statement into several.
void check_sql_fragment(const std::string &text, const char *what) {
    bool in_quote = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\'') in_quote = !in_quote;
        if (in_quote) continue;
        if (c == ';' || (c == '-' && i + 1 < text.size() && text[i + 1] == '-') ||
            (c == '/' && i + 1 < text.size() && text[i + 1] == '*')) {
            throw std::invalid_argument(std::string(what) + " \"" + text +
                                        "\" contains ';' or a comment: pass a single deparsed expression");
        }
    }
    if (in_quote) {
        throw std::invalid_argument(std::string(what) + " \"" + text + "\" has an unterminated quote");
    }
}

void check_opclass(const std::string &opclass) {
    for (unsigned char c : opclass) {
        if (!(std::islower(c) || std::isdigit(c) || c == '_' || c == '.')) {
            throw std::invalid_argument("operator class \"" + opclass +
                                        "\" must be a plain (optionally schema-qualified) lower-case name");
        }
    }
}

std::string key_sql(const IndexKey &key) {
    std::string out;
    if (key.is_expression()) {
        check_sql_fragment(key.expression, "index expression");
        out = "(" + normalize_sql_text(key.expression) + ")";
    } else {
        if (key.column.empty()) {
            throw std::invalid_argument(
                "index key has neither a column nor an expression: set IndexKey::column");
        }
        out = quote_ident(key.column);
    }
    if (!key.opclass.empty()) {
        check_opclass(key.opclass);
        out += " " + key.opclass;
    }
    if (key.descending) out += " DESC";
    return out;
}

void validate(const IndexDef &def) {
    if (def.table.empty()) throw std::invalid_argument("index definition has no table: set IndexDef::table");
    if (def.keys.empty())
        throw std::invalid_argument("index definition has no key: add at least one IndexKey");
    if (def.keys.size() > 32)
        throw std::invalid_argument("an index has at most 32 key columns (INDEX_MAX_KEYS)");
    if (!def.include.empty() && def.method != IndexMethod::kBtree) {
        throw std::invalid_argument("INCLUDE columns are only supported here for btree indexes");
    }
    if (def.method == IndexMethod::kHash && def.keys.size() != 1) {
        throw std::invalid_argument("a hash index has exactly one key column");
    }
    if (def.unique && def.method != IndexMethod::kBtree) {
        throw std::invalid_argument("only btree indexes can be UNIQUE");
    }
    for (const auto &k : def.keys) {
        if (k.descending && def.method != IndexMethod::kBtree) {
            throw std::invalid_argument("DESC keys are only meaningful for btree indexes");
        }
    }
    for (const auto &c : def.include) {
        if (c.empty()) throw std::invalid_argument("empty INCLUDE column name");
    }
    if (!def.predicate.empty()) check_sql_fragment(def.predicate, "index predicate");
}

uint32_t fnv1a(const std::string &s) {
    uint32_t h = 2166136261u;
    for (unsigned char c : s) {
        h ^= c;
        h *= 16777619u;
    }
    return h;
}

}  // namespace

const char *to_string(IndexMethod method) {
    switch (method) {
        case IndexMethod::kBtree:
            return "btree";
        case IndexMethod::kHash:
            return "hash";
        case IndexMethod::kBrin:
            return "brin";
        case IndexMethod::kGin:
            return "gin";
    }
    return "btree";
}

IndexMethod parse_index_method(const std::string &text) {
    std::string t = lower(text);
    if (t == "btree") return IndexMethod::kBtree;
    if (t == "hash") return IndexMethod::kHash;
    if (t == "brin") return IndexMethod::kBrin;
    if (t == "gin") return IndexMethod::kGin;
    throw std::invalid_argument("unknown index method \"" + text + "\": use btree, hash, brin or gin");
}

const char *to_string(PredicateOp op) {
    switch (op) {
        case PredicateOp::kEq:
            return "=";
        case PredicateOp::kLt:
            return "<";
        case PredicateOp::kGt:
            return ">";
        case PredicateOp::kLe:
            return "<=";
        case PredicateOp::kGe:
            return ">=";
        case PredicateOp::kBetween:
            return "BETWEEN";
        case PredicateOp::kIn:
            return "IN";
        case PredicateOp::kLikePrefix:
            return "LIKE prefix";
        case PredicateOp::kLikeInfix:
            return "LIKE infix";
        case PredicateOp::kIsNull:
            return "IS NULL";
        case PredicateOp::kExpression:
            return "expression";
    }
    return "=";
}

PredicateOp parse_predicate_op(const std::string &text) {
    std::string t = lower(normalize_sql_text(text));
    if (t == "=") return PredicateOp::kEq;
    if (t == "<") return PredicateOp::kLt;
    if (t == ">") return PredicateOp::kGt;
    if (t == "<=") return PredicateOp::kLe;
    if (t == ">=") return PredicateOp::kGe;
    if (t == "between") return PredicateOp::kBetween;
    if (t == "in" || t == "= any") return PredicateOp::kIn;
    if (t == "like prefix" || t == "like") return PredicateOp::kLikePrefix;
    if (t == "like infix" || t == "ilike" || t == "ilike infix" || t == "ilike prefix")
        return PredicateOp::kLikeInfix;
    if (t == "is null") return PredicateOp::kIsNull;
    if (t == "expression") return PredicateOp::kExpression;
    throw std::invalid_argument(
        "unknown predicate operator \"" + text +
        "\": use =, <, >, <=, >=, BETWEEN, IN, LIKE prefix, LIKE infix, ILIKE, IS NULL or "
        "expression");
}

bool is_equality_op(PredicateOp op) {
    return op == PredicateOp::kEq || op == PredicateOp::kIn || op == PredicateOp::kIsNull ||
           op == PredicateOp::kExpression;
}

bool is_range_op(PredicateOp op) {
    return op == PredicateOp::kLt || op == PredicateOp::kGt || op == PredicateOp::kLe ||
           op == PredicateOp::kGe || op == PredicateOp::kBetween || op == PredicateOp::kLikePrefix;
}

std::string RelationStats::qualified_name() const {
    if (schema.empty()) return quote_ident(name);
    return quote_ident(schema) + "." + quote_ident(name);
}

const ColumnStats *RelationStats::find_column(const std::string &column) const {
    for (const auto &c : columns) {
        if (c.name == column) return &c;
    }
    return nullptr;
}

const RelationStats *Workload::find_relation(uint32_t oid) const {
    for (const auto &r : relations) {
        if (r.oid == oid) return &r;
    }
    return nullptr;
}

std::string normalize_sql_text(const std::string &text) {
    std::string out;
    bool in_quote = false;
    bool pending_space = false;
    for (char c : text) {
        if (!in_quote && std::isspace(static_cast<unsigned char>(c))) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out += ' ';
        pending_space = false;
        if (c == '\'') in_quote = !in_quote;
        out += c;
    }
    return out;
}

std::string create_index_ddl(const IndexDef &def) {
    validate(def);
    std::string sql = def.unique ? "CREATE UNIQUE INDEX CONCURRENTLY " : "CREATE INDEX CONCURRENTLY ";
    if (!def.name.empty()) sql += quote_ident(def.name) + " ";
    sql += "ON ";
    if (!def.schema.empty()) sql += quote_ident(def.schema) + ".";
    sql += quote_ident(def.table);
    sql += " USING ";
    sql += to_string(def.method);
    sql += " (";
    for (size_t i = 0; i < def.keys.size(); ++i) {
        if (i) sql += ", ";
        sql += key_sql(def.keys[i]);
    }
    sql += ")";
    if (!def.include.empty()) {
        sql += " INCLUDE (";
        for (size_t i = 0; i < def.include.size(); ++i) {
            if (i) sql += ", ";
            sql += quote_ident(def.include[i]);
        }
        sql += ")";
    }
    if (!def.predicate.empty()) sql += " WHERE " + normalize_sql_text(def.predicate);
    return sql;
}

std::string drop_index_ddl(const std::string &schema, const std::string &index_name) {
    std::string target =
        schema.empty() ? quote_ident(index_name) : quote_ident(schema) + "." + quote_ident(index_name);
    return "DROP INDEX CONCURRENTLY IF EXISTS " + target;
}

std::string reindex_index_ddl(const std::string &schema, const std::string &index_name) {
    std::string target =
        schema.empty() ? quote_ident(index_name) : quote_ident(schema) + "." + quote_ident(index_name);
    return "REINDEX INDEX CONCURRENTLY " + target;
}

std::string canonical_key(const IndexDef &def) {
    std::string key = to_string(def.method);
    key += "|" + def.schema + "." + def.table + "|";
    for (size_t i = 0; i < def.keys.size(); ++i) {
        const auto &k = def.keys[i];
        if (i) key += ",";
        key += k.is_expression() ? "(" + normalize_sql_text(k.expression) + ")" : k.column;
        if (!k.opclass.empty()) key += " " + k.opclass;
        if (k.descending) key += " desc";
    }
    std::vector<std::string> inc = def.include;
    std::sort(inc.begin(), inc.end());
    inc.erase(std::unique(inc.begin(), inc.end()), inc.end());
    key += "|";
    for (size_t i = 0; i < inc.size(); ++i) key += (i ? "," : "") + inc[i];
    key += "|" + normalize_sql_text(def.predicate);
    key += def.unique ? "|u" : "|";
    return key;
}

std::string suggested_index_name(const IndexDef &def, bool with_hash) {
    auto sanitize = [](const std::string &s) {
        std::string out;
        for (unsigned char c : s) {
            if (std::isalnum(c)) {
                out += static_cast<char>(std::tolower(c));
            } else if (!out.empty() && out.back() != '_') {
                out += '_';
            }
        }
        while (!out.empty() && out.back() == '_') out.pop_back();
        return out;
    };
    std::string name = "rd_" + sanitize(def.table);
    for (const auto &k : def.keys) name += "_" + sanitize(k.is_expression() ? k.expression : k.column);
    if (def.method == IndexMethod::kGin) name += "_trgm";
    if (def.method == IndexMethod::kBrin) name += "_brin";
    if (def.method == IndexMethod::kHash) name += "_hash";
    if (!def.include.empty()) {
        name += "_incl";
        for (const auto &c : def.include) name += "_" + sanitize(c);
    }
    if (!def.predicate.empty()) name += "_part";
    name += "_idx";
    const size_t kMaxName = 63;  // NAMEDATALEN - 1
    if (name.size() > kMaxName || with_hash) {
        char suffix[10];
        std::snprintf(suffix, sizeof(suffix), "_%08x", fnv1a(canonical_key(def)));
        name = name.substr(0, std::min(name.size(), kMaxName - 9)) + suffix;
    }
    return name;
}

}  // namespace rubberduck::core::index
