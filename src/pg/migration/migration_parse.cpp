// PostgreSQL's raw parser -> core StatementDescription. Never executes anything and never touches the catalog
// except read-only pg_proc lookups for default-expression volatility (resolve_probes).
#include "pg/migration/migration_parse.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "core/migration/sql_text.h"
#include "pg/boundary/cpp_guard.hpp"

extern "C" {
#include "mb/pg_wchar.h"
#include "nodes/nodeFuncs.h"
#include "parser/parser.h"
}

namespace rubberduck::pg::migration {

namespace cm = core::migration;
namespace st = core::migration::sqltext;

// ---- PG regime: parsing --------------------------------------------------------------------------------

namespace {

// Byte offset of a 1-based character position (ErrorData.cursorpos) in sql.
size_t cursor_to_byte(const char *sql, int cursorpos) {
    size_t len = strlen(sql);
    size_t off = 0;
    for (int c = 1; c < cursorpos && off < len; ++c) off += pg_mblen(sql + off);
    return std::min(off, len);
}

int byte_to_cursor(const char *sql, size_t off) {
    return pg_mbstrlen_with_len(sql, static_cast<int>(off)) + 1;
}

struct StatementSpan {
    int number;
    char text[1024];
};

// C++ regime: which statement (1-based) contains byte `off`, and its text.
void locate_statement(const std::string &sql, size_t off, StatementSpan &span) {
    std::vector<size_t> seps = st::statement_separators(sql);
    size_t begin = 0;
    int no = 1;
    for (size_t s : seps) {
        if (s >= off) break;
        begin = s + 1;
        ++no;
    }
    size_t end = sql.size();
    for (size_t s : seps)
        if (s >= off) {
            end = s;
            break;
        }
    std::string text = st::trimmed(sql, begin, end);
    if (text.size() > sizeof span.text - 4) text = text.substr(0, sizeof span.text - 4) + "...";
    span.number = no;
    copy_message(span.text, sizeof span.text, text.c_str());
}

}  // namespace

List *raw_parse_migration(const char *sql) {
    // psql meta-commands: never SQL; say so before the parser reports a bare syntax error.
    long meta = cpp_guard([&]() -> long {
        std::vector<size_t> pos = st::meta_command_positions(sql);
        return pos.empty() ? -1 : static_cast<long>(pos.front());
    });
    if (meta >= 0) {
        StatementSpan span{};
        char wbuf[64];
        cpp_guard([&] {
            std::string s(sql);
            size_t e = meta + 1;
            while (e < s.size() && !std::isspace(static_cast<unsigned char>(s[e]))) ++e;
            copy_message(wbuf, sizeof wbuf, s.substr(meta, e - meta).c_str());
            locate_statement(s, meta, span);
        });
        ereport(ERROR,
                (errcode(ERRCODE_SYNTAX_ERROR),
                 errmsg("psql meta-command \"%s\" in migration (statement %d)", wbuf, span.number),
                 errdetail("Meta-commands such as \\set, \\i or \\connect are run by psql on the client; "
                           "the server's parser cannot read them."),
                 errhint("Remove the meta-command lines (expand psql variables and includes first) and "
                         "pass plain SQL."),
                 internalerrposition(byte_to_cursor(sql, meta)), internalerrquery(sql)));
    }

    MemoryContext oldcxt = CurrentMemoryContext;
    List *volatile result = NIL;
    ErrorData *volatile failure = nullptr;
    PG_TRY();
    { result = raw_parser(sql, RAW_PARSE_DEFAULT); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(oldcxt);
        failure = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();

    if (failure) {
        ErrorData *ed = failure;
        size_t off = ed->cursorpos > 0 ? cursor_to_byte(sql, ed->cursorpos) : 0;
        StatementSpan span{};
        cpp_guard([&] { locate_statement(sql, off, span); });
        ereport(ERROR, (errcode(ed->sqlerrcode ? ed->sqlerrcode : ERRCODE_SYNTAX_ERROR),
                        errmsg("%s (statement %d of the migration)", ed->message, span.number),
                        errdetail("Statement %d: %s", span.number, span.text),
                        ed->cursorpos > 0 ? internalerrposition(ed->cursorpos) : 0, internalerrquery(sql)));
    }
    if (result == NIL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("the migration is empty"),
                        errdetail("The input contains no SQL statement (only whitespace or comments)."),
                        errhint("Pass the migration's SQL text, e.g. analyze_migration('ALTER TABLE ...')")));
    return result;
}

// ---- C++ regime: node -> description --------------------------------------------------------------------

namespace {

std::string str(const char *s) {
    return s ? std::string(s) : std::string();
}

cm::RelationName relation_of(const RangeVar *rv) {
    cm::RelationName r;
    if (!rv) return r;
    r.schema = str(rv->schemaname);
    r.name = str(rv->relname);
    return r;
}

// A qualified name list (List of String) -> RelationName.
cm::RelationName relation_of_names(List *names) {
    cm::RelationName r;
    int n = list_length(names);
    if (n >= 1) r.name = strVal(llast(names));
    if (n >= 2) r.schema = strVal(list_nth(names, n - 2));
    return r;
}

std::string names_text(List *names) {
    std::string out;
    ListCell *lc;
    foreach (lc, names) {
        if (!out.empty()) out += ".";
        out += strVal(lfirst(lc));
    }
    return out;
}

std::vector<std::string> string_list(List *l) {
    std::vector<std::string> out;
    ListCell *lc;
    foreach (lc, l) {
        Node *n = static_cast<Node *>(lfirst(lc));
        if (IsA(n, String)) out.push_back(strVal(n));
    }
    return out;
}

cm::TypeName type_of(const TypeName *tn) {
    cm::TypeName t;
    if (!tn) return t;
    t.name = cm::canonical_type(strVal(llast(tn->names)));
    ListCell *lc;
    foreach (lc, tn->typmods) {
        Node *n = static_cast<Node *>(lfirst(lc));
        if (IsA(n, A_Const)) {
            auto *c = reinterpret_cast<A_Const *>(n);
            if (!c->isnull && IsA(&c->val, Integer)) t.modifiers.push_back(intVal(&c->val));
        }
    }
    t.is_array = tn->arrayBounds != NIL;
    return t;
}

bool is_serial_type(const TypeName *tn) {
    if (!tn || list_length(tn->names) != 1) return false;
    std::string n = cm::canonical_type(strVal(linitial(tn->names)));
    return n == "serial" || n == "bigserial" || n == "smallserial";
}

// Token helpers on the statement's slice of the source.
struct Source {
    const std::string &sql;
    size_t begin;
    size_t end;
    std::vector<st::Token> toks;
    Source(const std::string &s, size_t b, size_t e)
        : sql(s), begin(b), end(e), toks(st::tokenize(s, b, e)) {}

    bool is(size_t i, const char *w) const { return i < toks.size() && st::token_is(sql, toks[i], w); }
    // First token starting at or after byte `pos`.
    size_t at(size_t pos) const {
        for (size_t i = 0; i < toks.size(); ++i)
            if (toks[i].begin >= pos) return i;
        return toks.size();
    }
    std::string text(size_t first, size_t last_inclusive) const {
        if (first > last_inclusive || last_inclusive >= toks.size()) return {};
        return sql.substr(toks[first].begin, toks[last_inclusive].end - toks[first].begin);
    }
};

// CHECK ( expr ) starting from the constraint's location.
std::string check_text(const Source &src, int location) {
    size_t i = location >= 0 ? src.at(static_cast<size_t>(location)) : 0;
    for (; i < src.toks.size(); ++i)
        if (src.is(i, "CHECK") && src.is(i + 1, "(")) {
            size_t close = st::matching_paren(src.toks, i + 1);
            if (close >= src.toks.size()) return {};
            return src.text(i + 2, close - 1);
        }
    return {};
}

bool default_terminator(const Source &src, size_t i) {
    static const char *kStop[] = {"NOT",        "NULL",       "CHECK",     "CONSTRAINT", "PRIMARY",
                                  "UNIQUE",     "REFERENCES", "GENERATED", "COLLATE",    "DEFAULT",
                                  "DEFERRABLE", "INITIALLY",  "USING",     "NO"};
    for (const char *w : kStop)
        if (src.is(i, w)) return true;
    return false;
}

// The default expression after the last DEFAULT keyword (at the command's depth) before `expr_location`.
std::string default_text(const Source &src, int expr_location) {
    if (expr_location < 0) return {};
    size_t kw = src.toks.size();
    for (size_t i = 0; i < src.toks.size() && src.toks[i].begin < static_cast<size_t>(expr_location); ++i)
        if (src.is(i, "DEFAULT")) kw = i;
    if (kw >= src.toks.size()) return {};
    int depth = src.toks[kw].depth;
    size_t first = kw + 1, last = first;
    if (first >= src.toks.size()) return {};
    if (src.is(first, "NULL")) return "NULL";
    for (size_t i = first; i < src.toks.size(); ++i) {
        const st::Token &t = src.toks[i];
        if (t.depth < depth || (t.depth == depth && (src.is(i, ",") || src.is(i, ")") || src.is(i, ";"))))
            break;
        if (t.depth == depth && i > first && default_terminator(src, i)) break;
        last = i;
    }
    return src.text(first, last);
}

// USING expr of ALTER COLUMN ... TYPE, after the column's location.
std::string using_text(const Source &src, int column_location) {
    size_t i = column_location >= 0 ? src.at(static_cast<size_t>(column_location)) : 0;
    int depth = i < src.toks.size() ? src.toks[i].depth : 0;
    for (; i < src.toks.size(); ++i) {
        if (src.toks[i].depth == depth && src.is(i, ",")) return {};
        if (src.toks[i].depth == depth && src.is(i, "USING")) {
            size_t first = i + 1, last = first;
            for (size_t j = first; j < src.toks.size(); ++j) {
                if (src.toks[j].depth < depth || (src.toks[j].depth == depth && src.is(j, ","))) break;
                last = j;
            }
            return src.text(first, last);
        }
    }
    return {};
}

// One index element as the core renders it: a bare column stays a name; anything else is written as
// "(expr) [opclass] [ASC|DESC] [NULLS ...]" (valid index_elem syntax), e.g. "lower(email) DESC" ->
// "(lower(email)) DESC", "email text_pattern_ops" -> "(email) text_pattern_ops".
std::string index_element_text(const Source &src, size_t first, size_t last) {
    if (first > last || last >= src.toks.size()) return {};
    if (src.is(first, "(")) return src.text(first, last);
    size_t expr_end = first;  // last token of the leading column or function call
    if (src.is(first + 1, "(") && first + 1 <= last) {
        expr_end = st::matching_paren(src.toks, first + 1);
        if (expr_end > last) expr_end = last;
    }
    if (expr_end == last && expr_end == first) return src.text(first, last);
    std::string out = "(" + src.text(first, expr_end) + ")";
    if (expr_end < last) out += " " + src.text(expr_end + 1, last);
    return out;
}

// CREATE INDEX ... ON t [USING m] ( elements ) [INCLUDE ...] [WHERE pred]: element texts and the predicate.
void index_texts(const Source &src, std::vector<std::string> &elements, std::string &where) {
    size_t on = src.toks.size();
    for (size_t i = 0; i < src.toks.size(); ++i)
        if (src.toks[i].depth == 0 && src.is(i, "ON")) {
            on = i;
            break;
        }
    size_t open = src.toks.size();
    for (size_t i = on; i < src.toks.size(); ++i)
        if (src.toks[i].depth == 0 && src.is(i, "(")) {
            open = i;
            break;
        }
    if (open >= src.toks.size()) return;
    size_t close = st::matching_paren(src.toks, open);
    size_t first = open + 1;
    for (size_t i = open + 1; i <= close && i < src.toks.size(); ++i)
        if (i == close || (src.toks[i].depth == 1 && src.is(i, ","))) {
            elements.push_back(index_element_text(src, first, i - 1));
            first = i + 1;
        }
    for (size_t i = close; i < src.toks.size(); ++i)
        if (src.toks[i].depth == 0 && src.is(i, "WHERE")) {
            where = src.text(i + 1, src.toks.size() - 1);
            break;
        }
}

std::string fk_action_text(char del, char upd) {
    auto word = [](char a) -> std::string {
        switch (a) {
            case FKCONSTR_ACTION_RESTRICT:
                return "RESTRICT";
            case FKCONSTR_ACTION_CASCADE:
                return "CASCADE";
            case FKCONSTR_ACTION_SETNULL:
                return "SET NULL";
            case FKCONSTR_ACTION_SETDEFAULT:
                return "SET DEFAULT";
            default:
                return {};
        }
    };
    std::string out;
    if (!word(del).empty()) out += "ON DELETE " + word(del);
    if (!word(upd).empty()) out += std::string(out.empty() ? "" : " ") + "ON UPDATE " + word(upd);
    return out;
}

cm::ConstraintDef constraint_of(const Constraint *c, const Source &src) {
    cm::ConstraintDef d;
    d.name = str(c->conname);
    switch (c->contype) {
        case CONSTR_FOREIGN:
            d.kind = cm::ConstraintKind::ForeignKey;
            d.columns = string_list(c->fk_attrs);
            d.referenced = relation_of(c->pktable);
            d.referenced_columns = string_list(c->pk_attrs);
            d.fk_actions = fk_action_text(c->fk_del_action, c->fk_upd_action);
            break;
        case CONSTR_CHECK:
            d.kind = cm::ConstraintKind::Check;
            d.expression = check_text(src, c->location);
            break;
        case CONSTR_UNIQUE:
            d.kind = cm::ConstraintKind::Unique;
            d.columns = string_list(c->keys);
            d.using_index = str(c->indexname);
            break;
        case CONSTR_PRIMARY:
            d.kind = cm::ConstraintKind::PrimaryKey;
            d.columns = string_list(c->keys);
            d.using_index = str(c->indexname);
            break;
        case CONSTR_EXCLUSION:
            d.kind = cm::ConstraintKind::Exclusion;
            break;
        case CONSTR_NOTNULL:
            d.kind = cm::ConstraintKind::NotNull;
            break;
        default:
            d.kind = cm::ConstraintKind::Other;
            break;
    }
    d.not_valid = c->skip_validation;
    return d;
}

struct ColumnResult {
    cm::ColumnDef def;
    Node *default_expr = nullptr;                // for the volatility probe
    std::vector<cm::ConstraintDef> constraints;  // column-level CHECK / FOREIGN KEY (as table constraints)
};

ColumnResult column_of(const ColumnDef *cd, const Source &src) {
    ColumnResult r;
    cm::ColumnDef &d = r.def;
    d.name = str(cd->colname);
    d.type = type_of(cd->typeName);
    d.is_serial_or_identity = is_serial_type(cd->typeName) || cd->identity;
    d.not_null = cd->is_not_null;
    if (cd->raw_default) {
        d.has_default = true;
        r.default_expr = cd->raw_default;
        d.default_expr = default_text(src, exprLocation(cd->raw_default));
    }
    ListCell *lc;
    foreach (lc, cd->constraints) {
        auto *c = static_cast<Constraint *>(lfirst(lc));
        if (!IsA(c, Constraint)) continue;
        switch (c->contype) {
            case CONSTR_NOTNULL:
                d.not_null = true;
                break;
            case CONSTR_DEFAULT:
                d.has_default = true;
                r.default_expr = c->raw_expr;
                d.default_expr = c->raw_expr ? default_text(src, exprLocation(c->raw_expr)) : "";
                break;
            case CONSTR_IDENTITY:
                d.is_serial_or_identity = true;
                break;
            case CONSTR_GENERATED:
                d.is_generated_stored = true;
                break;
            case CONSTR_PRIMARY:
                d.is_primary_key = true;
                d.not_null = true;
                break;
            case CONSTR_UNIQUE:
                d.is_unique = true;
                break;
            case CONSTR_CHECK:
            case CONSTR_FOREIGN: {
                cm::ConstraintDef k = constraint_of(c, src);
                if (k.columns.empty()) k.columns = {d.name};
                r.constraints.push_back(std::move(k));
                break;
            }
            default:
                break;
        }
    }
    return r;
}

cm::AlterTableCmdKind cmd_kind(AlterTableType t) {
    using K = cm::AlterTableCmdKind;
    switch (t) {
        case AT_AddColumn:
            return K::AddColumn;
        case AT_AlterColumnType:
            return K::AlterColumnType;
        case AT_SetNotNull:
            return K::SetNotNull;
        case AT_DropNotNull:
            return K::DropNotNull;
        case AT_DropColumn:
            return K::DropColumn;
        case AT_AddConstraint:
        case AT_AddIndexConstraint:
            return K::AddConstraint;
        case AT_ValidateConstraint:
            return K::ValidateConstraint;
        case AT_DropConstraint:
            return K::DropConstraint;
        case AT_ColumnDefault:
            return K::SetDefault;  // DropDefault decided by the caller
        case AT_SetStatistics:
            return K::SetStatistics;
        case AT_SetOptions:
        case AT_ResetOptions:
            return K::SetColumnOptions;
        case AT_SetStorage:
            return K::SetStorage;
        case AT_SetTableSpace:
            return K::SetTablespace;
        case AT_SetLogged:
        case AT_SetUnLogged:
            return K::SetLogged;
        case AT_SetRelOptions:
        case AT_ResetRelOptions:
            return K::SetRelOptions;
        case AT_ClusterOn:
        case AT_DropCluster:
            return K::ClusterOn;
        case AT_EnableTrig:
        case AT_EnableAlwaysTrig:
        case AT_EnableReplicaTrig:
        case AT_DisableTrig:
        case AT_EnableTrigAll:
        case AT_DisableTrigAll:
        case AT_EnableTrigUser:
        case AT_DisableTrigUser:
            return K::EnableDisableTrigger;
        case AT_AttachPartition:
            return K::AttachPartition;
        case AT_DetachPartition:
            return K::DetachPartition;
        case AT_AddIdentity:
        case AT_SetIdentity:
        case AT_DropIdentity:
            return K::AddIdentity;
        case AT_ChangeOwner:
            return K::ChangeOwner;
        default:
            return K::Other;
    }
}

bool is_table_object(ObjectType t) {
    return t == OBJECT_TABLE || t == OBJECT_FOREIGN_TABLE;
}

bool has_option(List *options, const char *name) {
    ListCell *lc;
    foreach (lc, options) {
        auto *d = static_cast<DefElem *>(lfirst(lc));
        if (IsA(d, DefElem) && d->defname && strcmp(d->defname, name) == 0) {
            if (!d->arg) return true;
            if (IsA(d->arg, Boolean)) return boolVal(d->arg);
            if (IsA(d->arg, Integer)) return intVal(d->arg) != 0;
            if (IsA(d->arg, String)) {
                std::string v = strVal(d->arg);
                return !(v == "false" || v == "off" || v == "0");
            }
            return true;
        }
    }
    return false;
}

std::string set_value_text(List *args) {
    std::string out;
    ListCell *lc;
    foreach (lc, args) {
        Node *n = static_cast<Node *>(lfirst(lc));
        if (!out.empty()) out += ", ";
        if (IsA(n, A_Const)) {
            auto *c = reinterpret_cast<A_Const *>(n);
            if (c->isnull)
                out += "NULL";
            else if (IsA(&c->val, Integer))
                out += std::to_string(intVal(&c->val));
            else if (IsA(&c->val, Float))
                out += str(castNode(Float, &c->val)->fval);
            else if (IsA(&c->val, String))
                out += "'" + str(strVal(&c->val)) + "'";
            else if (IsA(&c->val, Boolean))
                out += boolVal(&c->val) ? "true" : "false";
        } else if (IsA(n, TypeCast)) {
            auto *tc = reinterpret_cast<TypeCast *>(n);
            if (tc->arg && IsA(tc->arg, A_Const)) {
                auto *c = reinterpret_cast<A_Const *>(tc->arg);
                if (!c->isnull && IsA(&c->val, String)) out += "'" + str(strVal(&c->val)) + "'";
            }
        }
    }
    return out;
}

std::optional<cm::LockMode> lock_of(int mode) {
    if (mode >= 1 && mode <= 8) return static_cast<cm::LockMode>(mode);
    return std::nullopt;
}

void describe_alter_table(const AlterTableStmt *s, const Source &src, size_t stmt_index,
                          cm::StatementDescription &d, ParsedMigration &out) {
    d.relation = relation_of(s->relation);
    d.missing_ok = s->missing_ok;
    if (!is_table_object(s->objtype)) {
        d.kind = cm::StatementKind::Other;
        return;
    }
    d.kind = cm::StatementKind::AlterTable;
    ListCell *lc;
    foreach (lc, s->cmds) {
        auto *c = static_cast<AlterTableCmd *>(lfirst(lc));
        if (!IsA(c, AlterTableCmd)) continue;
        cm::AlterTableCmd cmd;
        cmd.kind = cmd_kind(c->subtype);
        cmd.column = str(c->name);
        cmd.missing_ok = c->missing_ok;
        cmd.cascade = c->behavior == DROP_CASCADE;
        std::vector<cm::ConstraintDef> extra;
        switch (c->subtype) {
            case AT_AddColumn:
                if (c->def && IsA(c->def, ColumnDef)) {
                    ColumnResult r = column_of(castNode(ColumnDef, c->def), src);
                    cmd.column = r.def.name;
                    cmd.column_def = r.def;
                    cmd.missing_ok = false;
                    if (r.default_expr)
                        out.volatility.push_back(
                            {stmt_index, VolatilityProbe::AddColumn, d.alter_cmds.size(), r.default_expr});
                    extra = std::move(r.constraints);
                }
                break;
            case AT_ColumnDefault:
                if (c->def) {
                    cmd.default_expr = default_text(src, exprLocation(c->def));
                    out.volatility.push_back(
                        {stmt_index, VolatilityProbe::SetDefault, d.alter_cmds.size(), c->def});
                } else {
                    cmd.kind = cm::AlterTableCmdKind::DropDefault;
                }
                break;
            case AT_AlterColumnType:
                if (c->def && IsA(c->def, ColumnDef)) {
                    auto *cd = castNode(ColumnDef, c->def);
                    cmd.new_type = type_of(cd->typeName);
                    if (cd->raw_default) {
                        cmd.has_using = true;
                        cmd.using_expr = using_text(src, cd->location);
                    }
                }
                break;
            case AT_AddConstraint:
            case AT_AddIndexConstraint:
                if (c->def && IsA(c->def, Constraint))
                    cmd.constraint = constraint_of(castNode(Constraint, c->def), src);
                cmd.column.clear();
                break;
            case AT_ValidateConstraint:
            case AT_DropConstraint:
                cmd.name = cmd.column;
                cmd.column.clear();
                break;
            case AT_AttachPartition:
            case AT_DetachPartition:
                if (c->def && IsA(c->def, PartitionCmd)) {
                    auto *pc = castNode(PartitionCmd, c->def);
                    cmd.partition = relation_of(pc->name);
                    cmd.concurrently = pc->concurrent;
                }
                break;
            default:
                break;
        }
        d.alter_cmds.push_back(std::move(cmd));
        for (auto &k : extra) {
            cm::AlterTableCmd add;
            add.kind = cm::AlterTableCmdKind::AddConstraint;
            add.constraint = std::move(k);
            d.alter_cmds.push_back(std::move(add));
        }
    }
}

void describe_drop(const DropStmt *s, cm::StatementDescription &d) {
    d.missing_ok = s->missing_ok;
    d.cascade = s->behavior == DROP_CASCADE;
    d.concurrently = s->concurrent;
    switch (s->removeType) {
        case OBJECT_INDEX:
            d.kind = cm::StatementKind::DropIndex;
            break;
        case OBJECT_TABLE:
        case OBJECT_FOREIGN_TABLE:
            d.kind = cm::StatementKind::DropTable;
            break;
        case OBJECT_VIEW:
        case OBJECT_MATVIEW:
            d.kind = cm::StatementKind::DropView;
            break;
        default:
            d.kind = cm::StatementKind::Other;
            return;
    }
    ListCell *lc;
    foreach (lc, s->objects) {
        Node *n = static_cast<Node *>(lfirst(lc));
        if (IsA(n, List)) d.relations.push_back(relation_of_names(castNode(List, n)));
    }
    if (!d.relations.empty()) d.relation = d.relations.front();
}

}  // namespace

void describe_raw_statement(const std::string &sql, Node *stmt, int location, int len, ParsedMigration &out) {
    size_t begin = location > 0 ? static_cast<size_t>(location) : 0;
    size_t end = len > 0 ? begin + static_cast<size_t>(len) : sql.size();
    if (end > sql.size()) end = sql.size();
    Source src(sql, begin, end);
    cm::StatementDescription d;
    d.text = src.toks.empty() ? std::string() : src.text(0, src.toks.size() - 1);
    // The statement text ends before its ';' (RawStmt.stmt_len excludes it); strip one if present.
    if (!d.text.empty() && d.text.back() == ';') d.text = st::trimmed(d.text, 0, d.text.size() - 1);
    d.location = src.toks.empty() ? static_cast<int>(begin) : static_cast<int>(src.toks.front().begin);
    size_t index = out.statements.size();

    switch (nodeTag(stmt)) {
        case T_IndexStmt: {
            auto *s = castNode(IndexStmt, stmt);
            d.kind = cm::StatementKind::CreateIndex;
            d.relation = relation_of(s->relation);
            d.index.name = str(s->idxname);
            d.index.concurrently = s->concurrent;
            d.index.unique = s->unique;
            d.index.if_not_exists = s->if_not_exists;
            std::string method = str(s->accessMethod);
            d.index.method = method == "btree" ? "" : method;
            std::vector<std::string> texts;
            index_texts(src, texts, d.index.where);
            int i = 0;
            ListCell *lc;
            foreach (lc, s->indexParams) {
                auto *e = static_cast<IndexElem *>(lfirst(lc));
                bool plain = e->name && !e->collation && !e->opclass && e->ordering == SORTBY_DEFAULT &&
                             e->nulls_ordering == SORTBY_NULLS_DEFAULT;
                if (plain)
                    d.index.columns.push_back(e->name);
                else
                    d.index.columns.push_back(i < static_cast<int>(texts.size()) ? texts[i] : "(expression)");
                ++i;
            }
            if (!s->whereClause) d.index.where.clear();
            break;
        }
        case T_DropStmt:
            describe_drop(castNode(DropStmt, stmt), d);
            break;
        case T_ReindexStmt: {
            auto *s = castNode(ReindexStmt, stmt);
            d.concurrently = has_option(s->params, "concurrently");
            if (s->kind == REINDEX_OBJECT_TABLE || s->kind == REINDEX_OBJECT_INDEX) {
                d.kind = cm::StatementKind::Reindex;
                d.relation = relation_of(s->relation);
                d.reindex_index = s->kind == REINDEX_OBJECT_INDEX;
            }
            break;
        }
        case T_AlterTableStmt:
            describe_alter_table(castNode(AlterTableStmt, stmt), src, index, d, out);
            break;
        case T_RenameStmt: {
            auto *s = castNode(RenameStmt, stmt);
            d.relation = relation_of(s->relation);
            d.missing_ok = s->missing_ok;
            if (s->renameType == OBJECT_COLUMN && is_table_object(s->relationType)) {
                d.kind = cm::StatementKind::AlterTable;
                cm::AlterTableCmd c;
                c.kind = cm::AlterTableCmdKind::RenameColumn;
                c.column = str(s->subname);
                c.new_name = str(s->newname);
                d.alter_cmds.push_back(std::move(c));
            } else if (s->renameType == OBJECT_TABCONSTRAINT) {
                d.kind = cm::StatementKind::AlterTable;
                cm::AlterTableCmd c;
                c.kind = cm::AlterTableCmdKind::RenameConstraint;
                c.name = str(s->subname);
                c.new_name = str(s->newname);
                d.alter_cmds.push_back(std::move(c));
            } else if (s->relation &&
                       (s->renameType == OBJECT_TABLE || s->renameType == OBJECT_VIEW ||
                        s->renameType == OBJECT_MATVIEW || s->renameType == OBJECT_INDEX ||
                        s->renameType == OBJECT_SEQUENCE || s->renameType == OBJECT_FOREIGN_TABLE)) {
                d.kind = cm::StatementKind::RenameTable;
                d.new_name = str(s->newname);
                d.rename_index = s->renameType == OBJECT_INDEX;
            }
            break;
        }
        case T_TruncateStmt: {
            auto *s = castNode(TruncateStmt, stmt);
            d.kind = cm::StatementKind::Truncate;
            d.cascade = s->behavior == DROP_CASCADE;
            ListCell *lc;
            foreach (lc, s->relations)
                d.relations.push_back(relation_of(static_cast<RangeVar *>(lfirst(lc))));
            if (!d.relations.empty()) d.relation = d.relations.front();
            break;
        }
        case T_VacuumStmt: {
            auto *s = castNode(VacuumStmt, stmt);
            d.kind = s->is_vacuumcmd ? cm::StatementKind::Vacuum : cm::StatementKind::Analyze;
            d.vacuum_full = s->is_vacuumcmd && has_option(s->options, "full");
            ListCell *lc;
            foreach (lc, s->rels) {
                auto *vr = static_cast<VacuumRelation *>(lfirst(lc));
                if (IsA(vr, VacuumRelation) && vr->relation) d.relations.push_back(relation_of(vr->relation));
            }
            if (!d.relations.empty()) d.relation = d.relations.front();
            break;
        }
        case T_ClusterStmt: {
            auto *s = castNode(ClusterStmt, stmt);
            d.kind = cm::StatementKind::Cluster;
            d.relation = relation_of(s->relation);
            break;
        }
        case T_CreateStmt: {
            auto *s = castNode(CreateStmt, stmt);
            d.kind = cm::StatementKind::CreateTable;
            d.relation = relation_of(s->relation);
            d.if_not_exists = s->if_not_exists;
            ListCell *lc;
            foreach (lc, s->tableElts) {
                Node *e = static_cast<Node *>(lfirst(lc));
                if (IsA(e, ColumnDef)) {
                    ColumnResult r = column_of(castNode(ColumnDef, e), src);
                    if (r.default_expr)
                        out.volatility.push_back(
                            {index, VolatilityProbe::CreateColumn, d.columns.size(), r.default_expr});
                    d.columns.push_back(std::move(r.def));
                    for (auto &k : r.constraints) d.table_constraints.push_back(std::move(k));
                } else if (IsA(e, Constraint)) {
                    d.table_constraints.push_back(constraint_of(castNode(Constraint, e), src));
                }
            }
            foreach (lc, s->constraints)
                if (IsA(lfirst(lc), Constraint))
                    d.table_constraints.push_back(constraint_of(static_cast<Constraint *>(lfirst(lc)), src));
            break;
        }
        case T_ViewStmt: {
            auto *s = castNode(ViewStmt, stmt);
            d.kind = cm::StatementKind::CreateView;
            d.relation = relation_of(s->view);
            d.or_replace = s->replace;
            out.reads.push_back({index, s->query});
            break;
        }
        case T_TransactionStmt: {
            auto *s = castNode(TransactionStmt, stmt);
            switch (s->kind) {
                case TRANS_STMT_BEGIN:
                case TRANS_STMT_START:
                    d.kind = cm::StatementKind::Begin;
                    break;
                case TRANS_STMT_COMMIT:
                case TRANS_STMT_PREPARE:
                    d.kind = cm::StatementKind::Commit;
                    break;
                case TRANS_STMT_ROLLBACK:
                    d.kind = cm::StatementKind::Rollback;
                    break;
                default:
                    break;
            }
            break;
        }
        case T_VariableSetStmt: {
            auto *s = castNode(VariableSetStmt, stmt);
            d.kind = cm::StatementKind::Set;
            std::string name = str(s->name);
            for (auto &ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            d.set.name = name;
            d.set.scope = s->is_local ? cm::SetScope::Local : cm::SetScope::Session;
            if (s->kind == VAR_SET_VALUE) {
                d.set.value = set_value_text(s->args);
            } else if (s->kind == VAR_SET_DEFAULT || s->kind == VAR_RESET) {
                d.set.value = "DEFAULT";
                d.set.reset = true;
            } else if (s->kind == VAR_RESET_ALL) {
                d.set.name = "all";
                d.set.value = "DEFAULT";
                d.set.reset = true;
            } else {
                d.kind = cm::StatementKind::Other;  // SET TRANSACTION ..., SET x FROM CURRENT
            }
            break;
        }
        case T_AlterEnumStmt: {
            auto *s = castNode(AlterEnumStmt, stmt);
            if (s->newVal && !s->oldVal) {
                d.kind = cm::StatementKind::AlterTypeAddValue;
                d.type_name = names_text(s->typeName);
                d.new_value = str(s->newVal);
            }
            break;
        }
        case T_InsertStmt: {
            auto *s = castNode(InsertStmt, stmt);
            d.kind = cm::StatementKind::Insert;
            d.relation = relation_of(s->relation);
            if (s->selectStmt) out.reads.push_back({index, s->selectStmt});
            break;
        }
        case T_UpdateStmt: {
            auto *s = castNode(UpdateStmt, stmt);
            d.kind = cm::StatementKind::Update;
            d.relation = relation_of(s->relation);
            d.dml.has_where = s->whereClause != nullptr;
            if (s->fromClause) out.reads.push_back({index, reinterpret_cast<Node *>(s->fromClause)});
            break;
        }
        case T_DeleteStmt: {
            auto *s = castNode(DeleteStmt, stmt);
            d.kind = cm::StatementKind::Delete;
            d.relation = relation_of(s->relation);
            d.dml.has_where = s->whereClause != nullptr;
            if (s->usingClause) out.reads.push_back({index, reinterpret_cast<Node *>(s->usingClause)});
            break;
        }
        case T_SelectStmt: {
            auto *s = castNode(SelectStmt, stmt);
            d.kind = cm::StatementKind::Select;
            d.dml.for_update = s->lockingClause != NIL;
            out.reads.push_back({index, stmt});
            break;
        }
        case T_LockStmt: {
            auto *s = castNode(LockStmt, stmt);
            d.kind = cm::StatementKind::Other;
            if (list_length(s->relations) >= 1)
                d.relation = relation_of(static_cast<RangeVar *>(linitial(s->relations)));
            d.lock = lock_of(s->mode);
            break;
        }
        default:
            d.kind = cm::StatementKind::Other;
            break;
    }
    out.statements.push_back(std::move(d));
}

// ---- PG regime: catalog-backed resolution ----------------------------------------------------------------

namespace {

struct FuncWalk {
    List *funcs;  // List of List-of-String (FuncCall.funcname)
    bool volatile_syntax;
};

bool collect_funcs(Node *node, void *ctx) {
    if (!node) return false;
    auto *w = static_cast<FuncWalk *>(ctx);
    if (IsA(node, FuncCall)) w->funcs = lappend(w->funcs, castNode(FuncCall, node)->funcname);
    if (IsA(node, SubLink)) w->volatile_syntax = true;
    return raw_expression_tree_walker(
        node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(collect_funcs)), ctx);
}

struct RelWalk {
    List *rels;  // RangeVar *
    List *ctes;  // char * (CTE names)
};

bool collect_rels(Node *node, void *ctx) {
    if (!node) return false;
    auto *w = static_cast<RelWalk *>(ctx);
    if (IsA(node, RangeVar)) {
        w->rels = lappend(w->rels, node);
        return false;
    }
    if (IsA(node, CommonTableExpr)) w->ctes = lappend(w->ctes, castNode(CommonTableExpr, node)->ctename);
    return raw_expression_tree_walker(
        node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(collect_rels)), ctx);
}

// true when any function of that name is volatile, or when no function of that name exists.
bool function_is_volatile(List *funcname) {
    const char *name = strVal(llast(funcname));
    const char *schema =
        list_length(funcname) >= 2 ? strVal(list_nth(funcname, list_length(funcname) - 2)) : nullptr;
    Oid types[2] = {TEXTOID, TEXTOID};
    Datum values[2] = {CStringGetTextDatum(name), schema ? CStringGetTextDatum(schema) : (Datum)0};
    char nulls[2] = {' ', schema ? ' ' : 'n'};
    int rc = SPI_execute_with_args(
        "SELECT coalesce(bool_or(p.provolatile = 'v'), true) FROM pg_catalog.pg_proc p "
        "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
        "WHERE p.proname = $1 AND ($2 IS NULL OR n.nspname = $2)",
        2, types, values, nulls, true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1) return true;
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull || DatumGetBool(d);
}

}  // namespace

void resolve_probes(ParsedMigration &parsed) {
    size_t nvol = parsed.volatility.size(), nreads = parsed.reads.size();
    if (nvol == 0 && nreads == 0) return;
    SPI_connect();
    for (size_t i = 0; i < nvol; ++i) {
        VolatilityProbe p = parsed.volatility[i];  // POD copy
        FuncWalk w{NIL, false};
        collect_funcs(p.expr, &w);
        bool vol = w.volatile_syntax;
        ListCell *lc;
        foreach (lc, w.funcs) {
            if (vol) break;
            vol = function_is_volatile(static_cast<List *>(lfirst(lc)));
        }
        cpp_guard([&] {
            auto &d = parsed.statements.at(p.stmt);
            switch (p.target) {
                case VolatilityProbe::CreateColumn:
                    d.columns.at(p.sub).default_volatile = vol;
                    break;
                case VolatilityProbe::AddColumn:
                    d.alter_cmds.at(p.sub).column_def.default_volatile = vol;
                    break;
                case VolatilityProbe::SetDefault:
                    d.alter_cmds.at(p.sub).default_volatile = vol;
                    break;
            }
        });
    }
    SPI_finish();
    for (size_t i = 0; i < nreads; ++i) {
        RelationProbe p = parsed.reads[i];
        RelWalk w{NIL, NIL};
        collect_rels(p.tree, &w);
        ListCell *lc;
        foreach (lc, w.rels) {
            auto *rv = static_cast<RangeVar *>(lfirst(lc));
            bool cte = false;
            if (!rv->schemaname) {
                ListCell *c;
                foreach (c, w.ctes)
                    if (strcmp(static_cast<char *>(lfirst(c)), rv->relname) == 0) cte = true;
            }
            if (cte) continue;
            const char *schema = rv->schemaname, *name = rv->relname;
            cpp_guard([&] {
                auto &d = parsed.statements.at(p.stmt);
                cm::RelationName r{str(schema), str(name)};
                bool seen = false;
                for (const auto &x : d.relations) seen = seen || (x.schema == r.schema && x.name == r.name);
                if (!seen && !(d.relation.schema == r.schema && d.relation.name == r.name))
                    d.relations.push_back(r);
            });
        }
    }
}

}  // namespace rubberduck::pg::migration
