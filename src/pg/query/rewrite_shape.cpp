// Parse tree -> core QueryShape for the rewrite rules (see rewrite_shape.hpp).
//
// PG regime (gather_*): raw_parser, parse analysis, then a walk over the analysed Query. Expressions are
// printed with ruleutils' deparse_expression in a namespace built from each level's range table (the same
// machinery EXPLAIN VERBOSE uses), with join alias Vars flattened first; table names are quoted and
// schema-qualified when not visible on the search_path. Every fact is copied into palloc'd POD ShapeFacts. No
// C++ object lives in these frames (R9). C++ regime (shapes_from_input/hints_from_input): facts ->
// core::query::QueryShape -> core rules.
#include <string>
#include <vector>

#include "core/query/rewrite_rules.h"
#include "pg/boundary/cpp_guard.hpp"
#include "pg/query/rewrite_shape.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "access/stratnum.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
}

namespace rubberduck::pg {

namespace cq = rubberduck::core::query;

namespace {

// ---------------------------------------------------------------------------------------------------------
// PG regime
// ---------------------------------------------------------------------------------------------------------

using WalkerFn = bool (*)();
template <typename F>
WalkerFn walker_cast(F f) {
    // through void (*)(void), the generic function pointer type, to keep -Wcast-function-type quiet
    return reinterpret_cast<WalkerFn>(reinterpret_cast<void (*)(void)>(f));
}

const char *dup(const char *s) {
    return pstrdup(s ? s : "");
}

ShapeFact *add_fact(RewriteInput *in, ShapeFactKind kind) {
    if (in->count == in->capacity) {
        in->capacity = in->capacity ? in->capacity * 2 : 16;
        in->facts = in->facts
                        ? static_cast<ShapeFact *>(repalloc(in->facts, sizeof(ShapeFact) * in->capacity))
                        : static_cast<ShapeFact *>(palloc(sizeof(ShapeFact) * in->capacity));
    }
    ShapeFact *f = &in->facts[in->count++];
    std::memset(f, 0, sizeof *f);
    f->kind = kind;
    for (auto &s : f->s) s = "";
    return f;
}

// One query level: its Query, the names its range-table entries are printed with, and the deparse context
// (this level first, then the enclosing levels).
struct Level {
    Query *q;
    List *names;      // char *, parallel to q->rtable (NULL for entries without a name)
    List *all_names;  // names used by this level and every enclosing one
    List *ctx;        // deparse namespace stack
    bool prefix;      // qualify column references
};

bool name_in(List *names, const char *name) {
    ListCell *lc;
    foreach (lc, names) {
        const char *n = static_cast<const char *>(lfirst(lc));
        if (n && name && strcmp(n, name) == 0) return true;
    }
    return false;
}

void make_level(Level *lv, Query *q, const Level *outer) {
    lv->q = q;
    List *names = select_rtable_names_for_explain(q->rtable, nullptr);
    // deparse_context_for_plan_tree knows nothing about enclosing levels: rename clashes ourselves so that a
    // subquery's alias never shadows the outer one in the SQL we write (t -> t_1).
    if (outer) {
        ListCell *lc;
        foreach (lc, names) {
            char *n = static_cast<char *>(lfirst(lc));
            if (!n || !name_in(outer->all_names, n)) continue;
            for (int i = 1;; ++i) {
                char *cand = psprintf("%s_%d", n, i);
                if (!name_in(outer->all_names, cand) && !name_in(names, cand)) {
                    lfirst(lc) = cand;
                    break;
                }
            }
        }
    }
    lv->names = names;
    lv->all_names = list_concat(list_copy(names), outer ? outer->all_names : NIL);
    PlannedStmt *ps = makeNode(PlannedStmt);
    ps->rtable = q->rtable;
    List *ctx = deparse_context_for_plan_tree(ps, names);
    lv->ctx = outer ? list_concat(ctx, outer->ctx) : ctx;
    int from_items = 0;
    ListCell *lc;
    foreach (lc, q->rtable) {
        RangeTblEntry *rte = static_cast<RangeTblEntry *>(lfirst(lc));
        if (rte->inFromCl && rte->rtekind != RTE_JOIN) ++from_items;
    }
    lv->prefix = outer != nullptr || from_items > 1;
}

Node *flat(const Level *lv, Node *n) {
    if (!n) return n;
    return flatten_join_alias_vars(lv->q, n);
}

char *deparse(const Level *lv, Node *n, bool prefix) {
    return deparse_expression(n, lv->ctx, prefix, false);
}

const char *relation_display(Oid relid) {
    char *rel = get_rel_name(relid);
    if (!rel) return "";
    if (RelationIsVisible(relid)) return quote_identifier(rel);
    return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
}

const char *level_name(const Level *lv, int varno) {
    if (varno < 1 || varno > list_length(lv->names)) return nullptr;
    return static_cast<const char *>(list_nth(lv->names, varno - 1));
}

bool is_implicit_coercion(Node *n) {
    if (!n) return false;
    if (IsA(n, RelabelType)) return reinterpret_cast<RelabelType *>(n)->relabelformat == COERCE_IMPLICIT_CAST;
    if (IsA(n, FuncExpr))
        return reinterpret_cast<FuncExpr *>(n)->funcformat == COERCE_IMPLICIT_CAST &&
               reinterpret_cast<FuncExpr *>(n)->args != NIL;
    if (IsA(n, CoerceViaIO)) return reinterpret_cast<CoerceViaIO *>(n)->coerceformat == COERCE_IMPLICIT_CAST;
    return false;
}

Node *strip_implicit(Node *n) {
    while (is_implicit_coercion(n)) {
        if (IsA(n, RelabelType))
            n = reinterpret_cast<Node *>(reinterpret_cast<RelabelType *>(n)->arg);
        else if (IsA(n, FuncExpr))
            n = static_cast<Node *>(linitial(reinterpret_cast<FuncExpr *>(n)->args));
        else
            n = reinterpret_cast<Node *>(reinterpret_cast<CoerceViaIO *>(n)->arg);
    }
    return n;
}

// A column of a base table at this level.
Var *base_column(const Level *lv, Node *n) {
    if (!n || !IsA(n, Var)) return nullptr;
    Var *v = reinterpret_cast<Var *>(n);
    if (v->varlevelsup != 0 || v->varattno <= 0 || v->varno < 1 ||
        v->varno > static_cast<int>(list_length(lv->q->rtable)))
        return nullptr;
    RangeTblEntry *rte = rt_fetch(v->varno, lv->q->rtable);
    // Tables, partitioned tables and materialized views: things that have (or can get) indexes. A view's or
    // foreign table's columns are not where an index or a cast fix belongs.
    return rte->rtekind == RTE_RELATION &&
                   (rte->relkind == RELKIND_RELATION || rte->relkind == RELKIND_PARTITIONED_TABLE ||
                    rte->relkind == RELKIND_MATVIEW)
               ? v
               : nullptr;
}

Oid var_relid(const Level *lv, Var *v) {
    return rt_fetch(v->varno, lv->q->rtable)->relid;
}

const char *column_name(const Level *lv, Var *v) {
    char *att = get_attname(var_relid(lv, v), v->varattno, true);
    return att ? quote_identifier(att) : "";
}

bool const_int(Node *n, int64 *out) {
    n = strip_implicit(n);
    if (!n || !IsA(n, Const)) return false;
    Const *c = reinterpret_cast<Const *>(n);
    if (c->constisnull) return false;
    switch (c->consttype) {
        case INT2OID:
            *out = DatumGetInt16(c->constvalue);
            return true;
        case INT4OID:
            *out = DatumGetInt32(c->constvalue);
            return true;
        case INT8OID:
            *out = DatumGetInt64(c->constvalue);
            return true;
        default:
            return false;
    }
}

const char *opname_of(Oid opno) {
    char *n = get_opname(opno);
    return n ? n : "";
}

bool is_comparison(const char *op) {
    return strcmp(op, "=") == 0 || strcmp(op, "<>") == 0 || strcmp(op, "<") == 0 || strcmp(op, ">") == 0 ||
           strcmp(op, "<=") == 0 || strcmp(op, ">=") == 0;
}

// Level-0 Vars of an expression (not descending into sublinks' queries).
struct VarCollect {
    List *vars;
};
bool collect_vars_walker(Node *node, VarCollect *ctx) {
    if (!node) return false;
    if (IsA(node, Query)) return false;
    if (IsA(node, Var)) {
        Var *v = reinterpret_cast<Var *>(node);
        if (v->varlevelsup != 0) return false;
        ListCell *lc;
        foreach (lc, ctx->vars) {
            Var *o = static_cast<Var *>(lfirst(lc));
            if (o->varno == v->varno && o->varattno == v->varattno) return false;
        }
        ctx->vars = lappend(ctx->vars, v);
        return false;
    }
    return expression_tree_walker(node, walker_cast(collect_vars_walker), ctx);
}
List *level_vars(Node *n) {
    VarCollect c{NIL};
    collect_vars_walker(n, &c);
    return c.vars;
}

// FROM clause text for plain tables and joins of them; NULL when the level's FROM holds anything else (a
// subquery, a function, a CTE, VALUES): then no whole statement is written for it.
const char *from_item(const Level *lv, Node *n);
char *deparse_bare(const Level *lv, Node *n, bool prefix);
const char *from_clause(const Level *lv) {
    FromExpr *fe = lv->q->jointree;
    if (!fe || fe->fromlist == NIL) return nullptr;
    StringInfoData buf;
    initStringInfo(&buf);
    ListCell *lc;
    foreach (lc, fe->fromlist) {
        const char *item = from_item(lv, static_cast<Node *>(lfirst(lc)));
        if (!item) return nullptr;
        if (buf.len) appendStringInfoString(&buf, ", ");
        appendStringInfoString(&buf, item);
    }
    return buf.data;
}

const char *from_item(const Level *lv, Node *n) {
    check_stack_depth();
    if (IsA(n, RangeTblRef)) {
        int rti = reinterpret_cast<RangeTblRef *>(n)->rtindex;
        RangeTblEntry *rte = rt_fetch(rti, lv->q->rtable);
        if (rte->rtekind != RTE_RELATION || rte->tablesample) return nullptr;
        const char *rel = relation_display(rte->relid);
        const char *name = level_name(lv, rti);
        char *relname = get_rel_name(rte->relid);
        const char *only = rte->inh ? "" : "ONLY ";
        if (name && relname && strcmp(name, relname) != 0)
            return psprintf("%s%s %s", only, rel, quote_identifier(name));
        return psprintf("%s%s", only, rel);
    }
    if (IsA(n, JoinExpr)) {
        JoinExpr *j = reinterpret_cast<JoinExpr *>(n);
        if (j->alias || j->join_using_alias) return nullptr;
        const char *l = from_item(lv, j->larg);
        const char *r = from_item(lv, j->rarg);
        if (!l || !r) return nullptr;
        if (IsA(j->rarg, JoinExpr)) r = psprintf("(%s)", r);
        const char *kind;
        switch (j->jointype) {
            case JOIN_INNER:
                kind = "JOIN";
                break;
            case JOIN_LEFT:
                kind = "LEFT JOIN";
                break;
            case JOIN_RIGHT:
                kind = "RIGHT JOIN";
                break;
            case JOIN_FULL:
                kind = "FULL JOIN";
                break;
            default:
                return nullptr;
        }
        if (j->isNatural) return psprintf("%s NATURAL %s %s", l, kind, r);
        if (j->usingClause != NIL) {
            StringInfoData cols;
            initStringInfo(&cols);
            ListCell *lc;
            foreach (lc, j->usingClause) {
                if (cols.len) appendStringInfoString(&cols, ", ");
                appendStringInfoString(&cols, quote_identifier(strVal(lfirst(lc))));
            }
            return psprintf("%s %s %s USING (%s)", l, kind, r, cols.data);
        }
        if (!j->quals) return j->jointype == JOIN_INNER ? psprintf("%s CROSS JOIN %s", l, r) : nullptr;
        return psprintf("%s %s %s ON %s", l, kind, r, deparse_bare(lv, flat(lv, j->quals), lv->prefix));
    }
    return nullptr;
}

// deparse_expression parenthesises every operator expression; a WHERE clause or a predicate that the rules
// wrap in parentheses of their own reads better without the outermost pair. Quote-aware.
char *strip_outer_parens(char *s) {
    size_t len = strlen(s);
    if (len < 2 || s[0] != '(' || s[len - 1] != ')') return s;
    int depth = 0;
    char quote = 0;
    for (size_t i = 0; i < len; ++i) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (--depth == 0 && i != len - 1) return s;  // the first '(' closes before the end
        }
    }
    s[len - 1] = '\0';
    return s + 1;
}

char *deparse_bare(const Level *lv, Node *n, bool prefix) {
    return strip_outer_parens(deparse(lv, n, prefix));
}

const char *where_clause(const Level *lv) {
    if (!lv->q->jointree || !lv->q->jointree->quals) return "";
    return deparse_bare(lv, flat(lv, lv->q->jointree->quals), lv->prefix);
}

// A subquery simple enough to turn into EXISTS (SELECT 1 FROM ... WHERE ...).
bool simple_subquery(Query *s) {
    return s->commandType == CMD_SELECT && !s->setOperations && s->groupClause == NIL && !s->groupingSets &&
           !s->hasAggs && !s->havingQual && !s->limitCount && !s->limitOffset && !s->hasWindowFuncs &&
           !s->hasTargetSRFs && s->cteList == NIL && !s->hasRecursive && s->jointree &&
           s->jointree->fromlist != NIL;
}

TargetEntry *first_output(Query *s) {
    ListCell *lc;
    foreach (lc, s->targetList) {
        TargetEntry *t = static_cast<TargetEntry *>(lfirst(lc));
        if (!t->resjunk) return t;
    }
    return nullptr;
}

bool attnotnull(Oid relid, AttrNumber att) {
    HeapTuple tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(att));
    if (!HeapTupleIsValid(tup)) return false;
    bool nn = reinterpret_cast<Form_pg_attribute>(GETSTRUCT(tup))->attnotnull;
    ReleaseSysCache(tup);
    return nn;
}

// count(...) aggregate of this level, without FILTER.
bool is_count(Node *n) {
    if (!n || !IsA(n, Aggref)) return false;
    Aggref *a = reinterpret_cast<Aggref *>(n);
    return a->agglevelsup == 0 && !a->aggfilter && (a->aggfnoid == F_COUNT_ || a->aggfnoid == F_COUNT_ANY);
}

// "FROM ... [WHERE ...]" of a level, or "" when its FROM cannot be written.
const char *from_where(const Level *lv) {
    const char *from = from_clause(lv);
    if (!from) return "";
    const char *where = where_clause(lv);
    return *where ? psprintf("FROM %s WHERE %s", from, where) : psprintf("FROM %s", from);
}

struct Walk {
    RewriteInput *in;
    const Level *lv;
    bool where_rules;  // false in the select list: only count comparisons there
};

void note_not_in(Walk *w, SubLink *sl) {
    const Level *lv = w->lv;
    ShapeFact *f = add_fact(w->in, ShapeFactKind::NotIn);
    f->n[0] = 1;  // nullable unless proven otherwise
    Query *sub = reinterpret_cast<Query *>(sl->subselect);
    Node *outer = nullptr;
    if (sl->testexpr && IsA(sl->testexpr, OpExpr) &&
        list_length(reinterpret_cast<OpExpr *>(sl->testexpr)->args) == 2) {
        OpExpr *op = reinterpret_cast<OpExpr *>(sl->testexpr);
        Node *a = static_cast<Node *>(linitial(op->args)), *b = static_cast<Node *>(lsecond(op->args));
        if (IsA(strip_implicit(b), Param)) outer = a;
    }
    TargetEntry *tle = first_output(sub);
    if (tle) {
        Level sl_lv;
        make_level(&sl_lv, sub, lv);
        Var *col = base_column(&sl_lv, strip_implicit(reinterpret_cast<Node *>(tle->expr)));
        if (col && attnotnull(var_relid(&sl_lv, col), col->varattno)) f->n[0] = 0;
        if (outer && simple_subquery(sub)) {
            const char *from = from_clause(&sl_lv);
            if (from) {
                f->s[0] = deparse(lv, flat(lv, outer), true);
                f->s[1] = from;
                f->s[2] = deparse(&sl_lv, flat(&sl_lv, reinterpret_cast<Node *>(tle->expr)), true);
                f->s[3] = sub->jointree->quals
                              ? deparse_bare(&sl_lv, flat(&sl_lv, sub->jointree->quals), true)
                              : "";
            }
        } else if (col) {
            f->s[2] = deparse(&sl_lv, reinterpret_cast<Node *>(col), true);
        }
    }
}

void note_count(Walk *w, OpExpr *op) {
    const Level *lv = w->lv;
    Node *a = strip_implicit(static_cast<Node *>(linitial(op->args)));
    Node *b = strip_implicit(static_cast<Node *>(lsecond(op->args)));
    Oid opno = op->opno;
    int64 value;
    if (const_int(a, &value)) {  // 0 < (SELECT count(*) ...): commute
        opno = get_commutator(opno);
        if (!OidIsValid(opno)) return;
        std::swap(a, b);
    } else if (!const_int(b, &value)) {
        return;
    }
    const char *fw = nullptr;
    if (is_count(a) && lv->q->groupClause == NIL && !lv->q->groupingSets) {
        fw = from_where(lv);
    } else if (IsA(a, SubLink) && reinterpret_cast<SubLink *>(a)->subLinkType == EXPR_SUBLINK) {
        Query *sub = reinterpret_cast<Query *>(reinterpret_cast<SubLink *>(a)->subselect);
        TargetEntry *tle = first_output(sub);
        if (!tle || sub->setOperations || sub->groupClause != NIL || sub->groupingSets || sub->havingQual ||
            sub->limitCount || sub->limitOffset ||
            !is_count(strip_implicit(reinterpret_cast<Node *>(tle->expr))))
            return;
        Level sl_lv;
        make_level(&sl_lv, sub, lv);
        fw = from_where(&sl_lv);
    } else {
        return;
    }
    ShapeFact *f = add_fact(w->in, ShapeFactKind::CountCompare);
    f->s[0] = fw;
    f->s[1] = dup(opname_of(opno));
    f->n[0] = value;
}

void note_like(Walk *w, OpExpr *op, const char *name) {
    const Level *lv = w->lv;
    Var *col = base_column(lv, strip_implicit(static_cast<Node *>(linitial(op->args))));
    if (!col) return;
    ShapeFact *f = add_fact(w->in, ShapeFactKind::Like);
    f->s[0] = relation_display(var_relid(lv, col));
    f->s[1] = column_name(lv, col);
    Node *pat = strip_implicit(static_cast<Node *>(lsecond(op->args)));
    f->n[0] = 0;
    if (pat && IsA(pat, Const) && !reinterpret_cast<Const *>(pat)->constisnull) {
        Const *c = reinterpret_cast<Const *>(pat);
        Oid out;
        bool varlena;
        getTypeOutputInfo(c->consttype, &out, &varlena);
        f->s[2] = OidOutputFunctionCall(out, c->constvalue);
        f->n[0] = 1;
    }
    f->n[1] = strstr(name, "~~*") != nullptr;
    f->n[2] = name[0] == '!';
}

// An explicit function call or cast applied to exactly one column of this level.
bool function_on_column(const Level *lv, Node *n, Var **col, const char **fname) {
    if (!n || is_implicit_coercion(n)) return false;
    if (IsA(n, FuncExpr)) {
        FuncExpr *fx = reinterpret_cast<FuncExpr *>(n);
        if (fx->funcretset) return false;
        *fname = fx->funcformat == COERCE_EXPLICIT_CAST ? psprintf("::%s", format_type_be(fx->funcresulttype))
                                                        : get_func_name(fx->funcid);
    } else if (IsA(n, CoerceViaIO)) {
        *fname = psprintf("::%s", format_type_be(reinterpret_cast<CoerceViaIO *>(n)->resulttype));
    } else if (IsA(n, RelabelType)) {
        *fname = psprintf("::%s", format_type_be(reinterpret_cast<RelabelType *>(n)->resulttype));
    } else {
        return false;
    }
    if (!*fname) return false;
    List *vars = level_vars(n);
    if (list_length(vars) != 1 || contain_vars_of_level(n, 1)) return false;
    *col = base_column(lv, static_cast<Node *>(linitial(vars)));
    return *col != nullptr;
}

void index_facts(const Level *lv, Var *col, Node *expr, ShapeFact *f) {
    Oid relid = var_relid(lv, col);
    Node *mine = static_cast<Node *>(copyObjectImpl(expr));
    ChangeVarNodes(mine, col->varno, 1, 0);
    mine = eval_const_expressions(nullptr, mine);
    Relation rel = relation_open(relid, AccessShareLock);
    List *indexes = RelationGetIndexList(rel);
    ListCell *lc;
    foreach (lc, indexes) {
        Relation ind = index_open(lfirst_oid(lc), AccessShareLock);
        Form_pg_index form = ind->rd_index;
        if (form->indnkeyatts >= 1 && form->indisvalid) {
            if (form->indkey.values[0] == col->varattno) {
                f->n[0] = 1;
            } else if (form->indkey.values[0] == 0) {
                List *exprs = RelationGetIndexExpressions(ind);
                if (exprs != NIL && equal(linitial(exprs), mine)) f->n[1] = 1;
            }
        }
        index_close(ind, AccessShareLock);
    }
    relation_close(rel, AccessShareLock);
}

void note_comparison(Walk *w, OpExpr *op, const char *name) {
    const Level *lv = w->lv;
    Node *args[2] = {static_cast<Node *>(linitial(op->args)), static_cast<Node *>(lsecond(op->args))};
    for (int side = 0; side < 2; ++side) {
        Node *mine = args[side], *other = args[1 - side];
        if (contain_vars_of_level(other, 0)) continue;
        const char *opn = name;
        if (side == 1) {
            Oid comm = get_commutator(op->opno);
            if (!OidIsValid(comm)) continue;
            opn = opname_of(comm);
        }
        // implicit_type_mismatch: the column itself is converted to meet the other side's type.
        if (is_implicit_coercion(mine)) {
            Var *col = base_column(lv, strip_implicit(mine));
            int32 typmod = col ? col->vartypmod : -1;
            Oid base = col ? getBaseTypeAndTypmod(col->vartype, &typmod) : InvalidOid;
            // A domain column relabelled to its base type is not converted at all.
            if (col && base != exprType(mine)) {
                ShapeFact *f = add_fact(w->in, ShapeFactKind::TypeCompare);
                f->s[0] = deparse(lv, reinterpret_cast<Node *>(col), lv->prefix);
                f->s[1] = format_type_with_typemod(base, typmod);
                f->s[2] = deparse(lv, other, lv->prefix);
                f->s[3] = format_type_be(exprType(strip_implicit(other)));
                f->s[4] = dup(opn);
            }
            continue;
        }
        // function_on_indexed_column
        Var *col = nullptr;
        const char *fname = nullptr;
        if (function_on_column(lv, mine, &col, &fname)) {
            ShapeFact *f = add_fact(w->in, ShapeFactKind::FunctionOnColumn);
            f->s[0] = relation_display(var_relid(lv, col));
            f->s[1] = column_name(lv, col);
            f->s[2] = fname;
            f->s[3] = deparse(lv, mine, false);
            f->s[4] = dup(opn);
            f->s[5] = deparse(lv, other, lv->prefix);
            index_facts(lv, col, mine, f);
            f->n[2] = !contain_mutable_functions(mine);
        }
    }
}

bool where_walker(Node *node, Walk *w) {
    if (!node) return false;
    if (IsA(node, Query)) return false;  // sublinks' queries are levels of their own
    check_stack_depth();
    if (IsA(node, OpExpr) && list_length(reinterpret_cast<OpExpr *>(node)->args) == 2) {
        OpExpr *op = reinterpret_cast<OpExpr *>(node);
        const char *name = opname_of(op->opno);
        if (is_comparison(name)) note_count(w, op);
        if (w->where_rules) {
            if (strcmp(name, "~~") == 0 || strcmp(name, "~~*") == 0 || strcmp(name, "!~~") == 0 ||
                strcmp(name, "!~~*") == 0)
                note_like(w, op, name);
            else if (is_comparison(name))
                note_comparison(w, op, name);
        }
    } else if (w->where_rules && IsA(node, BoolExpr) &&
               reinterpret_cast<BoolExpr *>(node)->boolop == NOT_EXPR) {
        Node *arg = static_cast<Node *>(linitial(reinterpret_cast<BoolExpr *>(node)->args));
        if (arg && IsA(arg, SubLink) && reinterpret_cast<SubLink *>(arg)->subLinkType == ANY_SUBLINK)
            note_not_in(w, reinterpret_cast<SubLink *>(arg));
    } else if (w->where_rules && IsA(node, SubLink)) {
        SubLink *sl = reinterpret_cast<SubLink *>(node);
        // x <> ALL (SELECT ...) is NOT IN spelled differently.
        if (sl->subLinkType == ALL_SUBLINK && sl->testexpr && IsA(sl->testexpr, OpExpr) &&
            strcmp(opname_of(reinterpret_cast<OpExpr *>(sl->testexpr)->opno), "<>") == 0)
            note_not_in(w, sl);
    }
    return expression_tree_walker(node, walker_cast(where_walker), w);
}

void walk_join_quals(Walk *w, Node *n) {
    if (!n || !IsA(n, JoinExpr)) return;
    JoinExpr *j = reinterpret_cast<JoinExpr *>(n);
    walk_join_quals(w, j->larg);
    walk_join_quals(w, j->rarg);
    if (j->quals) where_walker(flat(w->lv, j->quals), w);
}

void note_or_groups(RewriteInput *in, const Level *lv, Node *quals) {
    List *conjuncts = make_ands_implicit(reinterpret_cast<Expr *>(quals));
    int group = 0;
    ListCell *lc;
    foreach (lc, conjuncts) {
        Node *c = static_cast<Node *>(lfirst(lc));
        if (!IsA(c, BoolExpr) || reinterpret_cast<BoolExpr *>(c)->boolop != OR_EXPR) continue;
        List *args = reinterpret_cast<BoolExpr *>(c)->args;
        bool every_disjunct_has_column = true;
        ListCell *d;
        foreach (d, args)
            if (level_vars(static_cast<Node *>(lfirst(d))) == NIL) every_disjunct_has_column = false;
        if (!every_disjunct_has_column)
            continue;  // `$1 IS NULL OR col = $1` is an optional filter, not this rule
        ++group;
        foreach (d, args) {
            Node *disj = static_cast<Node *>(lfirst(d));
            List *vars = level_vars(disj);
            StringInfoData cols;
            initStringInfo(&cols);
            // columns in a stable order: by range-table index, then attribute number
            List *sorted = list_copy(vars);
            list_sort(sorted, [](const ListCell *a, const ListCell *b) -> int {
                const Var *x = static_cast<const Var *>(lfirst(a)), *y = static_cast<const Var *>(lfirst(b));
                if (x->varno != y->varno) return x->varno < y->varno ? -1 : 1;
                return x->varattno < y->varattno ? -1 : x->varattno > y->varattno ? 1 : 0;
            });
            ListCell *v;
            foreach (v, sorted) {
                if (cols.len) appendStringInfoString(&cols, ", ");
                appendStringInfoString(&cols, deparse(lv, static_cast<Node *>(lfirst(v)), lv->prefix));
            }
            ShapeFact *f = add_fact(in, ShapeFactKind::OrDisjunct);
            f->s[0] = cols.data;
            f->s[1] = deparse_bare(lv, disj, lv->prefix);
            f->n[0] = group;
        }
    }
}

struct CorrWalk {
    RewriteInput *in;
    const Level *lv;
    TargetEntry *tle;
    Node *top;  // the (flattened) target expression
};
bool correlated_walker(Node *node, CorrWalk *w) {
    if (!node) return false;
    if (IsA(node, Query)) return false;
    if (IsA(node, SubLink)) {
        SubLink *sl = reinterpret_cast<SubLink *>(node);
        if ((sl->subLinkType == EXPR_SUBLINK || sl->subLinkType == ARRAY_SUBLINK) &&
            contain_vars_of_level(sl->subselect, 1)) {
            ShapeFact *f = add_fact(w->in, ShapeFactKind::Correlated);
            char *text = deparse(w->lv, node, true);
            size_t len = strlen(text);
            if (sl->subLinkType == EXPR_SUBLINK && len >= 2 && text[0] == '(' && text[len - 1] == ')') {
                text[len - 1] = '\0';
                ++text;
            } else {
                text = const_cast<char *>("");  // ARRAY(...) has no one-value LATERAL form
            }
            f->s[0] = text;
            const char *rn = w->tle->resname;
            f->s[1] = (w->top == node && rn && strcmp(quote_identifier(rn), rn) == 0) ? dup(rn) : "";
        }
        // its testexpr may hold more sublinks; its query is another level
    }
    return expression_tree_walker(node, walker_cast(correlated_walker), w);
}

// `*` / `t.*` of the statement's own select list (raw tree: analysis expands stars away).
void note_stars(RewriteInput *in, const Level *lv, SelectStmt *raw) {
    if (!raw || raw->op != SETOP_NONE) return;
    ListCell *lc;
    foreach (lc, raw->targetList) {
        ResTarget *rt = static_cast<ResTarget *>(lfirst(lc));
        if (!rt->val || !IsA(rt->val, ColumnRef)) continue;
        List *fields = reinterpret_cast<ColumnRef *>(rt->val)->fields;
        if (!IsA(llast(fields), A_Star)) continue;
        const char *qual =
            list_length(fields) >= 2 ? strVal(list_nth(fields, list_length(fields) - 2)) : nullptr;
        ListCell *r;
        foreach (r, lv->q->rtable) {
            RangeTblEntry *rte = static_cast<RangeTblEntry *>(lfirst(r));
            if (!rte->inFromCl || rte->rtekind != RTE_RELATION) continue;
            if (qual && strcmp(rte->eref->aliasname, qual) != 0) continue;
            int cols = 0;
            ListCell *c;
            foreach (c, rte->eref->colnames)
                if (strVal(lfirst(c))[0] != '\0') ++cols;  // dropped columns have empty names
            ShapeFact *f = add_fact(in, ShapeFactKind::SelectStar);
            f->s[0] = relation_display(rte->relid);
            f->n[0] = cols;
        }
    }
}

bool select_is_star(SelectStmt *raw) {
    if (!raw || raw->op != SETOP_NONE || list_length(raw->targetList) != 1) return false;
    ResTarget *rt = static_cast<ResTarget *>(linitial(raw->targetList));
    return rt->val && IsA(rt->val, ColumnRef) &&
           list_length(reinterpret_cast<ColumnRef *>(rt->val)->fields) == 1 &&
           IsA(linitial(reinterpret_cast<ColumnRef *>(rt->val)->fields), A_Star);
}

const char *select_list(const Level *lv, SelectStmt *raw) {
    if (select_is_star(raw)) return "*";
    StringInfoData buf;
    initStringInfo(&buf);
    ListCell *lc;
    foreach (lc, lv->q->targetList) {
        TargetEntry *t = static_cast<TargetEntry *>(lfirst(lc));
        if (t->resjunk) continue;
        const char *e = deparse(lv, flat(lv, reinterpret_cast<Node *>(t->expr)), lv->prefix);
        if (buf.len) appendStringInfoString(&buf, ", ");
        appendStringInfoString(&buf, e);
        if (t->resname) {
            const char *q = quote_identifier(t->resname);
            size_t el = strlen(e), ql = strlen(q);
            bool same =
                strcmp(e, q) == 0 || (el > ql && e[el - ql - 1] == '.' && strcmp(e + el - ql, q) == 0);
            if (!same) appendStringInfo(&buf, " AS %s", q);
        }
    }
    return buf.data;
}

void gather_level(RewriteInput *in, Query *q, SelectStmt *raw, int nparams, int depth);

void gather_children(RewriteInput *in, Query *q, int nparams, int depth) {
    ListCell *lc;
    foreach (lc, q->cteList) {
        CommonTableExpr *cte = static_cast<CommonTableExpr *>(lfirst(lc));
        if (cte->ctequery && IsA(cte->ctequery, Query))
            gather_level(in, reinterpret_cast<Query *>(cte->ctequery), nullptr, nparams, depth + 1);
    }
    foreach (lc, q->rtable) {
        RangeTblEntry *rte = static_cast<RangeTblEntry *>(lfirst(lc));
        if (rte->rtekind == RTE_SUBQUERY && rte->subquery && !rte->lateral)
            gather_level(in, rte->subquery, nullptr, nparams, depth + 1);
    }
}

void gather_level(RewriteInput *in, Query *q, SelectStmt *raw, int nparams, int depth) {
    check_stack_depth();
    if (depth > 32) return;
    if (q->commandType == CMD_UTILITY || q->utilityStmt) return;
    const bool select = q->commandType == CMD_SELECT;
    if (q->commandType != CMD_SELECT && q->commandType != CMD_UPDATE && q->commandType != CMD_DELETE) {
        gather_children(in, q, nparams, depth);  // INSERT ... SELECT: the SELECT is a subquery
        return;
    }
    Level lv;
    make_level(&lv, q, nullptr);

    ShapeFact *st = add_fact(in, ShapeFactKind::Statement);
    const char *from = select && !q->setOperations ? from_clause(&lv) : nullptr;
    st->s[0] = select && !q->setOperations ? select_list(&lv, raw) : "";
    st->s[1] = from ? from : "";
    st->s[2] = from ? where_clause(&lv) : "";
    st->n[0] = nparams;
    int64 v;
    if (select && q->limitOffset && const_int(q->limitOffset, &v)) st->n[1] = 1, st->n[2] = v;
    if (select && q->limitCount && const_int(q->limitCount, &v)) st->n[3] = 1, st->n[4] = v;

    if (select) {
        ListCell *lc;
        foreach (lc, q->sortClause) {
            SortGroupClause *sgc = static_cast<SortGroupClause *>(lfirst(lc));
            TargetEntry *t = get_sortgroupclause_tle(sgc, q->targetList);
            ShapeFact *f = add_fact(in, ShapeFactKind::OrderKey);
            f->s[0] = deparse(&lv, flat(&lv, reinterpret_cast<Node *>(t->expr)), lv.prefix);
            Oid opfamily, opcintype;
            int16 strategy;
            f->n[0] = get_ordering_op_properties(sgc->sortop, &opfamily, &opcintype, &strategy) &&
                      strategy == BTGreaterStrategyNumber;
        }
    }

    Walk w{in, &lv, true};
    if (q->jointree) {
        ListCell *lc;
        foreach (lc, q->jointree->fromlist) walk_join_quals(&w, static_cast<Node *>(lfirst(lc)));
        if (q->jointree->quals) {
            Node *quals = flat(&lv, q->jointree->quals);
            where_walker(quals, &w);
            note_or_groups(in, &lv, quals);
        }
    }
    if (select) {
        Walk tw{in, &lv, false};
        ListCell *lc;
        foreach (lc, q->targetList) {
            TargetEntry *t = static_cast<TargetEntry *>(lfirst(lc));
            if (t->resjunk) continue;
            Node *e = flat(&lv, reinterpret_cast<Node *>(t->expr));
            where_walker(e, &tw);
            CorrWalk cw{in, &lv, t, e};
            correlated_walker(e, &cw);
        }
        note_stars(in, &lv, raw);
    }
    gather_children(in, q, nparams, depth);
}

bool has_params_walker(Node *node, void *) {
    if (!node) return false;
    if (IsA(node, ParamRef)) return true;
    return raw_expression_tree_walker(node, walker_cast(has_params_walker), nullptr);
}

// Positions of parse and analysis errors point into the query text given to us, not into the statement that
// called the function: report them as an internal query with its own cursor.
void rewrite_error_callback(void *arg) {
    int pos = geterrposition();
    if (pos > 0) {
        errposition(0);
        internalerrposition(pos);
        internalerrquery(static_cast<const char *>(arg));
    }
    errcontext("rewrite_hints: analysing the query text");
}

}  // namespace

RewriteInput *gather_rewrite_input(const char *query_text, const char *search_path) {
    RewriteInput *in = static_cast<RewriteInput *>(palloc0(sizeof(RewriteInput)));
    ErrorContextCallback cb;
    cb.callback = rewrite_error_callback;
    cb.arg = const_cast<char *>(query_text);
    cb.previous = error_context_stack;
    error_context_stack = &cb;

    List *stmts = raw_parser(query_text, RAW_PARSE_DEFAULT);
    if (stmts == NIL)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("query text is empty"),
                        errhint("Pass one SQL statement, e.g. rubberduck.rewrite_hints('SELECT ...').")));
    if (list_length(stmts) > 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("query text holds %d statements; rewrite_hints takes one", list_length(stmts)),
                        errhint("Call rubberduck.rewrite_hints once per statement.")));
    RawStmt *raw = static_cast<RawStmt *>(linitial(stmts));
    if (IsA(raw->stmt, ExplainStmt)) {  // look through EXPLAIN [ANALYZE] <query>: it is never run here
        RawStmt *inner = makeNode(RawStmt);
        inner->stmt = reinterpret_cast<ExplainStmt *>(raw->stmt)->query;
        inner->stmt_location = raw->stmt_location;
        inner->stmt_len = raw->stmt_len;
        raw = inner;
    }

    // Only plannable statements have hints; anything else (DDL, utility) gives none and is not even analysed.
    if (!IsA(raw->stmt, SelectStmt) && !IsA(raw->stmt, InsertStmt) && !IsA(raw->stmt, UpdateStmt) &&
        !IsA(raw->stmt, DeleteStmt)) {
        error_context_stack = cb.previous;
        return in;
    }

    int nest = -1;
    if (search_path) {
        nest = NewGUCNestLevel();
        (void)set_config_option("search_path", search_path, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                                0, false);
    }
    Query *q;
    int nparams = 0;
    if (has_params_walker(raw->stmt, nullptr)) {
        Oid *types = nullptr;
        q = parse_analyze_varparams(raw, query_text, &types, &nparams, nullptr);
    } else {
        q = parse_analyze_fixedparams(raw, query_text, nullptr, 0, nullptr);
    }
    SelectStmt *select = IsA(raw->stmt, SelectStmt) ? reinterpret_cast<SelectStmt *>(raw->stmt) : nullptr;
    gather_level(in, q, select, nparams, 0);
    if (nest >= 0) AtEOXact_GUC(true, nest);

    error_context_stack = cb.previous;
    return in;
}

namespace {

// The PG step for C++ callers, inside an internal subtransaction (plpgsql's exception-block pattern), so an
// ERROR becomes a message and every lock, buffer pin and relcache reference of the failed analysis is
// released. No C++ object is alive in this frame.
RewriteInput *gather_catching(const char *query_text, const char *search_path, char **error) {
    MemoryContext oldcxt = CurrentMemoryContext;
    ResourceOwner oldowner = CurrentResourceOwner;
    RewriteInput *volatile result = nullptr;
    *error = nullptr;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(oldcxt);  // results live in the caller's context
    PG_TRY();
    {
        result = gather_rewrite_input(query_text, search_path);
        ReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcxt);
        CurrentResourceOwner = oldowner;
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(oldcxt);
        ErrorData *edata = CopyErrorData();
        FlushErrorState();
        RollbackAndReleaseCurrentSubTransaction();
        MemoryContextSwitchTo(oldcxt);
        CurrentResourceOwner = oldowner;
        *error = edata->message ? pstrdup(edata->message) : pstrdup("error");
        result = nullptr;
    }
    PG_END_TRY();
    return result;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// C++ regime
// ---------------------------------------------------------------------------------------------------------

std::vector<cq::QueryShape> shapes_from_input(const RewriteInput &input) {
    std::vector<cq::QueryShape> shapes;
    int or_group = -1;
    for (int i = 0; i < input.count; ++i) {
        const ShapeFact &f = input.facts[i];
        if (f.kind == ShapeFactKind::Statement) {
            cq::QueryShape s;
            s.select_list = f.s[0];
            s.from = f.s[1];
            s.where = f.s[2];
            s.param_count = static_cast<int>(f.n[0]);
            if (f.n[1]) s.offset = f.n[2];
            if (f.n[3]) s.limit = f.n[4];
            shapes.push_back(std::move(s));
            or_group = -1;
            continue;
        }
        if (shapes.empty()) continue;  // facts always follow a Statement
        cq::QueryShape &s = shapes.back();
        switch (f.kind) {
            case ShapeFactKind::Statement:
                break;
            case ShapeFactKind::OrderKey:
                s.order_by.push_back({f.s[0], f.n[0] != 0});
                break;
            case ShapeFactKind::NotIn: {
                cq::NotInSubquery n;
                n.outer_expression = f.s[0];
                n.subquery_from = f.s[1];
                n.subquery_column = f.s[2];
                n.subquery_where = f.s[3];
                n.subquery_column_nullable = f.n[0] != 0;
                s.not_in_subqueries.push_back(std::move(n));
                break;
            }
            case ShapeFactKind::Like: {
                cq::LikePredicate l;
                l.table = f.s[0];
                l.column = f.s[1];
                l.pattern = f.s[2];
                l.pattern_is_literal = f.n[0] != 0;
                l.case_insensitive = f.n[1] != 0;
                l.negated = f.n[2] != 0;
                s.like_predicates.push_back(std::move(l));
                break;
            }
            case ShapeFactKind::FunctionOnColumn: {
                cq::FunctionOnColumn fc;
                fc.table = f.s[0];
                fc.column = f.s[1];
                fc.function_name = f.s[2];
                fc.expression = f.s[3];
                fc.op = f.s[4];
                fc.compared_value = f.s[5];
                fc.column_indexed = f.n[0] != 0;
                fc.expression_indexed = f.n[1] != 0;
                fc.immutable = f.n[2] != 0;
                s.functions_on_columns.push_back(std::move(fc));
                break;
            }
            case ShapeFactKind::OrDisjunct:
                if (f.n[0] != or_group) {
                    s.or_groups.emplace_back();
                    or_group = static_cast<int>(f.n[0]);
                }
                s.or_groups.back().disjuncts.push_back({f.s[0], f.s[1]});
                break;
            case ShapeFactKind::SelectStar:
                s.select_stars.push_back({f.s[0], static_cast<int>(f.n[0])});
                break;
            case ShapeFactKind::Correlated:
                s.correlated_select_subqueries.push_back({f.s[0], f.s[1]});
                break;
            case ShapeFactKind::CountCompare:
                s.count_comparisons.push_back({f.s[0], f.s[1], f.n[0]});
                break;
            case ShapeFactKind::TypeCompare: {
                cq::TypeComparison t;
                t.column = f.s[0];
                t.column_type = f.s[1];
                t.other_expression = f.s[2];
                t.other_type = f.s[3];
                t.op = f.s[4];
                s.type_comparisons.push_back(std::move(t));
                break;
            }
        }
    }
    return shapes;
}

std::vector<cq::RewriteHint> hints_from_input(const RewriteInput &input, const cq::RewriteConfig &config) {
    std::vector<cq::RewriteHint> all;
    for (const auto &shape : shapes_from_input(input)) {
        auto hints = cq::rewrite_hints(shape, config);
        all.insert(all.end(), std::make_move_iterator(hints.begin()), std::make_move_iterator(hints.end()));
    }
    return all;
}

std::vector<cq::RewriteHint> hints_for_query_text(const char *query_text, std::string *error,
                                                  const char *search_path, const cq::RewriteConfig &config) {
    char *pg_error = nullptr;
    RewriteInput *input = gather_catching(query_text, search_path, &pg_error);
    if (!input) {
        if (error) *error = pg_error ? pg_error : "error";
        return {};
    }
    if (error) error->clear();
    return hints_from_input(*input, config);
}

}  // namespace rubberduck::pg
