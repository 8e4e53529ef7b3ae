// Abstract description of one migration statement plus the catalog facts the analysis reads.
// The PostgreSQL adapter fills these from the raw parse tree (pg_parse_query) and the live catalog; the core
// never sees a PostgreSQL node. Each field's comment names the parse-tree source it is meant to come from.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/migration/lock_modes.h"

namespace rubberduck::core::migration {

// A relation as written (RangeVar: schemaname may be empty) or as found in the catalog (schema filled).
struct RelationName {
    std::string schema;  // empty = not qualified in the statement
    std::string name;    // already case-folded by the parser

    bool empty() const { return name.empty(); }
    std::string display() const { return schema.empty() ? name : schema + "." + name; }
    // Same name, and same schema when both sides name one (an unqualified name matches any schema).
    bool matches(const RelationName &other) const {
        return name == other.name && (schema.empty() || other.schema.empty() || schema == other.schema);
    }
};

// A type as the raw parser gives it (TypeName: last name component, decoded typmods, array bounds).
// Aliases are normalised by the core: int/integer/int4, bigint/int8, character varying/varchar, character/
// char/bpchar, timestamp [without time zone], timestamptz, serial/bigserial/smallserial...
struct TypeName {
    std::string name;            // e.g. "int4", "varchar", "numeric", "timestamptz", "serial"
    std::vector<int> modifiers;  // e.g. {255} for varchar(255), {10, 2} for numeric(10,2); empty = none
    bool is_array = false;
};

// The canonical spelling of a type name (e.g. "integer" -> "int4", "character varying" -> "varchar").
std::string canonical_type(const std::string &name);
// Builds a TypeName from pg_attribute (typname, atttypmod): decodes varchar/bpchar/numeric/bit/time typmods.
TypeName type_from_catalog(const std::string &typname, int32_t atttypmod, bool is_array = false);
// "varchar(255)", "numeric(10,2)", "int8[]".
std::string render_type(const TypeName &type);

// ColumnDef (CreateStmt tableElts, AT_AddColumn def).
struct ColumnDef {
    std::string name;
    TypeName type;
    bool has_default = false;
    std::string default_expr;  // the default's SQL text (for rendering alternatives); may be empty
    bool default_volatile =
        false;              // contain_volatile_functions() on the default, e.g. random(), clock_timestamp()
    bool not_null = false;  // NOT NULL constraint on the column
    bool is_serial_or_identity = false;  // serial/bigserial/smallserial type or GENERATED ... AS IDENTITY
    bool is_primary_key = false;         // PRIMARY KEY constraint on the column
    bool is_unique = false;              // UNIQUE constraint on the column
    bool is_generated_stored = false;    // GENERATED ALWAYS AS (...) STORED
};

enum class ConstraintKind { ForeignKey, Check, Unique, PrimaryKey, Exclusion, NotNull, Other };
const char *constraint_kind_name(ConstraintKind kind);

// Constraint node (CONSTR_FOREIGN, CONSTR_CHECK, ...).
struct ConstraintDef {
    ConstraintKind kind = ConstraintKind::Other;
    std::string name;                  // conname; may be empty (PostgreSQL generates one)
    std::vector<std::string> columns;  // fk_attrs / keys
    bool not_valid = false;            // skip_validation (NOT VALID)
    std::string using_index;  // indexname (ADD CONSTRAINT ... USING INDEX idx); empty = builds an index
    RelationName referenced;  // pktable for FOREIGN KEY
    std::vector<std::string> referenced_columns;  // pk_attrs
    std::string expression;                       // CHECK expression text, e.g. "price > 0"
    std::string fk_actions;                       // e.g. "ON DELETE CASCADE" (rendered into alternatives)
};

// AlterTableCmd subtypes (AT_*). RenameStmt on a column or constraint is also described as an ALTER TABLE
// with one RenameColumn / RenameConstraint command.
enum class AlterTableCmdKind {
    AddColumn,        // AT_AddColumn: column_def
    AlterColumnType,  // AT_AlterColumnType: column, new_type, old_type (from catalog if the adapter knows it)
    SetNotNull,       // AT_SetNotNull: column
    DropNotNull,      // AT_DropNotNull: column
    DropColumn,       // AT_DropColumn: column
    AddConstraint,    // AT_AddConstraint / AT_AddIndexConstraint: constraint
    ValidateConstraint,    // AT_ValidateConstraint: name
    DropConstraint,        // AT_DropConstraint: name
    RenameColumn,          // RenameStmt OBJECT_COLUMN: column, new_name
    RenameConstraint,      // RenameStmt OBJECT_TABCONSTRAINT: name, new_name
    SetDefault,            // AT_ColumnDefault with a raw default: column, default_expr, default_volatile
    DropDefault,           // AT_ColumnDefault without default: column
    SetStatistics,         // AT_SetStatistics
    SetColumnOptions,      // AT_SetOptions / AT_ResetOptions (attribute options)
    SetStorage,            // AT_SetStorage
    SetTablespace,         // AT_SetTableSpace (copies the table)
    SetLogged,             // AT_SetLogged / AT_SetUnLogged (rewrites)
    SetRelOptions,         // AT_SetRelOptions / AT_ResetRelOptions
    ClusterOn,             // AT_ClusterOn / AT_DropCluster
    EnableDisableTrigger,  // AT_EnableTrig*, AT_DisableTrig*
    AttachPartition,       // AT_AttachPartition: partition
    DetachPartition,       // AT_DetachPartition: partition, concurrently
    AddIdentity,           // AT_AddIdentity / AT_SetIdentity / AT_DropIdentity
    ChangeOwner,           // AT_ChangeOwner
    Other,                 // anything else: ACCESS EXCLUSIVE unless `lock` says otherwise
};
const char *alter_table_cmd_name(AlterTableCmdKind kind);

struct AlterTableCmd {
    AlterTableCmdKind kind = AlterTableCmdKind::Other;
    std::string column;                // column the command targets
    ColumnDef column_def;              // AddColumn
    TypeName new_type;                 // AlterColumnType
    std::optional<TypeName> old_type;  // AlterColumnType: filled from pg_attribute when the adapter knows it
    bool has_using = false;            // AlterColumnType ... USING expr
    std::string using_expr;
    ConstraintDef constraint;       // AddConstraint
    std::string name;               // constraint name for Validate/Drop/RenameConstraint
    std::string new_name;           // RenameColumn / RenameConstraint
    std::string default_expr;       // SetDefault
    bool default_volatile = false;  // SetDefault
    RelationName partition;         // Attach/DetachPartition
    bool concurrently = false;      // DETACH PARTITION ... CONCURRENTLY
    bool missing_ok = false;        // IF EXISTS
    bool cascade = false;           // DROP ... CASCADE
    std::optional<LockMode> lock;   // override (e.g. from AlterTableGetLockLevel) for Other
};

struct IndexDef {
    std::string name;  // idxname; empty = generated
    bool concurrently = false;
    bool unique = false;
    bool if_not_exists = false;
    std::vector<std::string> columns;  // index element text: column names or "(expr)"
    std::string where;                 // partial-index predicate text; empty = none
    std::string method;                // accessMethod; empty = btree
};

enum class SetScope { Session, Local };
// VariableSetStmt.
struct SetVariable {
    std::string name;   // lowercase, e.g. "lock_timeout"
    std::string value;  // as written: "'2s'", "2000", "0", "DEFAULT"
    SetScope scope = SetScope::Session;
    bool reset = false;  // RESET / SET ... TO DEFAULT
};

// InsertStmt / UpdateStmt / DeleteStmt.
struct DmlInfo {
    bool has_where = false;
    double estimated_rows = -1;  // rows affected if the adapter estimated it (EXPLAIN); -1 = unknown
    bool for_update = false;     // SELECT ... FOR UPDATE/SHARE (RowShare instead of AccessShare)
};

enum class StatementKind {
    CreateIndex,        // IndexStmt: relation, index
    DropIndex,          // DropStmt OBJECT_INDEX: relations = indexes, concurrently
    Reindex,            // ReindexStmt: relation (table, or index name with reindex_index), concurrently
    AlterTable,         // AlterTableStmt (and RenameStmt on columns/constraints): relation, alter_cmds
    RenameTable,        // RenameStmt OBJECT_TABLE/INDEX/VIEW/...: relation, new_name, rename_index
    DropTable,          // DropStmt OBJECT_TABLE: relations
    DropView,           // DropStmt OBJECT_VIEW / OBJECT_MATVIEW: relations
    Truncate,           // TruncateStmt: relations
    Vacuum,             // VacuumStmt (is_vacuumcmd): relations (empty = whole database), vacuum_full
    Analyze,            // VacuumStmt (!is_vacuumcmd): relations
    Cluster,            // ClusterStmt: relation (empty = all previously clustered tables)
    CreateTable,        // CreateStmt: relation, columns, table_constraints
    CreateView,         // ViewStmt: relation (the view), relations = tables read, or_replace
    Begin,              // TransactionStmt TRANS_STMT_BEGIN / START
    Commit,             // TRANS_STMT_COMMIT / PREPARE
    Rollback,           // TRANS_STMT_ROLLBACK
    Set,                // VariableSetStmt: set
    AlterTypeAddValue,  // AlterEnumStmt with newVal (not RENAME VALUE): type_name, new_value
    Insert,             // InsertStmt: relation = target, relations = tables read, dml
    Update,             // UpdateStmt: relation = target, relations = tables read (FROM), dml
    Delete,             // DeleteStmt: relation = target, relations = tables read (USING), dml
    Select,             // SelectStmt: relations = tables read (not CTE names), dml.for_update
    Other,              // anything else: reported with `lock` if given
};
const char *statement_kind_name(StatementKind kind);

struct StatementDescription {
    StatementKind kind = StatementKind::Other;
    std::string text;  // the statement's SQL text
    int location = 0;  // byte offset of the statement in the migration (RawStmt.stmt_location)

    RelationName relation;                // the primary relation
    std::vector<RelationName> relations;  // multi-target kinds (see StatementKind)
    bool missing_ok = false;              // IF EXISTS
    bool cascade = false;                 // DROP ... CASCADE / TRUNCATE ... CASCADE

    IndexDef index;                         // CreateIndex
    bool concurrently = false;              // DropIndex / Reindex
    bool reindex_index = false;             // Reindex: `relation` names an index, not a table
    std::vector<AlterTableCmd> alter_cmds;  // AlterTable
    std::string new_name;                   // RenameTable
    bool rename_index = false;       // RenameTable: the relation renamed is an index (SHARE UPDATE EXCLUSIVE)
    bool vacuum_full = false;        // Vacuum
    std::vector<ColumnDef> columns;  // CreateTable
    std::vector<ConstraintDef> table_constraints;  // CreateTable
    bool if_not_exists = false;                    // CreateTable
    bool or_replace = false;                       // CreateView
    SetVariable set;                               // Set
    std::string type_name;                         // AlterTypeAddValue
    std::string new_value;                         // AlterTypeAddValue
    DmlInfo dml;                                   // Insert/Update/Delete/Select
    std::optional<LockMode> lock;                  // Other: the lock the adapter knows it takes on `relation`
};

// ---- catalog facts -----------------------------------------------------------------------------------

struct ColumnFacts {
    std::string name;
    TypeName type;  // use type_from_catalog(typname, atttypmod)
    bool not_null = false;
};

struct IndexFacts {
    std::string name;
    std::vector<std::string> columns;  // column names, or expression text
    bool unique = false;
    bool primary = false;
    bool valid = true;  // pg_index.indisvalid (a failed CONCURRENTLY build leaves it false)
    double bytes = 0;
};

struct ConstraintFacts {
    std::string name;
    ConstraintKind kind = ConstraintKind::Other;
    std::vector<std::string> columns;
    bool validated = true;    // pg_constraint.convalidated
    std::string expression;   // CHECK text (pg_get_constraintdef's inner expression is fine)
    RelationName referenced;  // FK target
};

struct RelationFacts {
    RelationName name;  // schema filled
    double rows = 0;    // pg_class.reltuples; -1 = never vacuumed/analysed (the core estimates from bytes)
    double bytes = 0;   // pg_relation_size (heap)
    bool is_view = false;
    std::vector<ColumnFacts> columns;  // empty = unknown (column checks are skipped)
    std::vector<IndexFacts> indexes;
    std::vector<ConstraintFacts> constraints;
    std::vector<std::string> dependent_views;  // views (and matviews) depending on this relation
};

// Measured on this server by the adapter (or left at these defaults, chosen for a modest SSD machine).
struct ServerThroughput {
    double rewrite_rows_per_s = 500000;  // table rewrite (ALTER TYPE, volatile default, VACUUM FULL)
    double rewrite_bytes_per_s = 150e6;
    double scan_rows_per_s = 5e6;  // seq scan for validation (CHECK, NOT NULL)
    double scan_bytes_per_s = 800e6;
    double index_build_rows_per_s = 1e6;  // btree build (sort + write), on top of the scan
    double fk_validate_rows_per_s = 1e6;  // FOREIGN KEY validation (anti-join against the parent)
    double dml_rows_per_s = 100000;       // UPDATE/DELETE rows with WAL and index maintenance
    double metadata_ms = 1;               // a catalog-only change
};

// What the adapter reads from the live catalog before analysing. Only relations the migration names are
// needed.
struct CatalogFacts {
    int server_version_num = 150000;  // PG_VERSION_NUM / server_version_num
    ServerThroughput throughput;
    std::vector<RelationFacts> relations;

    // The relation matching `name` (unqualified names match any schema; first match wins), or nullptr.
    const RelationFacts *find(const RelationName &name) const;
    // The table owning index `index_name` and that index, or {nullptr, nullptr}.
    std::pair<const RelationFacts *, const IndexFacts *> find_index(const RelationName &index_name) const;
};

}  // namespace rubberduck::core::migration
