#include "core/migration/statement_model.h"

#include <cctype>
#include <map>

namespace rubberduck::core::migration {

std::string canonical_type(const std::string &raw) {
    std::string name;
    for (char c : raw) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string prefix = "pg_catalog.";
    if (name.compare(0, prefix.size(), prefix) == 0) name = name.substr(prefix.size());
    static const std::map<std::string, std::string> kAliases = {
        {"int", "int4"},
        {"integer", "int4"},
        {"smallint", "int2"},
        {"bigint", "int8"},
        {"serial4", "serial"},
        {"serial8", "bigserial"},
        {"serial2", "smallserial"},
        {"character varying", "varchar"},
        {"char", "bpchar"},
        {"character", "bpchar"},
        {"timestamp without time zone", "timestamp"},
        {"timestamp with time zone", "timestamptz"},
        {"time without time zone", "time"},
        {"time with time zone", "timetz"},
        {"decimal", "numeric"},
        {"boolean", "bool"},
        {"double precision", "float8"},
        {"real", "float4"},
        {"bit varying", "varbit"},
    };
    auto it = kAliases.find(name);
    return it == kAliases.end() ? name : it->second;
}

TypeName type_from_catalog(const std::string &typname, int32_t atttypmod, bool is_array) {
    TypeName t;
    t.name = canonical_type(typname);
    t.is_array = is_array;
    constexpr int32_t kVarHdrSz = 4;  // VARHDRSZ: varchar/bpchar/numeric typmods include it
    if (atttypmod < 0) return t;
    if (t.name == "varchar" || t.name == "bpchar") {
        if (atttypmod >= kVarHdrSz) t.modifiers = {atttypmod - kVarHdrSz};
    } else if (t.name == "numeric") {
        if (atttypmod >= kVarHdrSz) {
            int32_t tm = atttypmod - kVarHdrSz;
            // PG15 stores scale as a signed 11-bit-safe int16 in the low half (negative scales allowed).
            t.modifiers = {(tm >> 16) & 0xffff, static_cast<int16_t>(tm & 0xffff)};
        }
    } else if (t.name == "bit" || t.name == "varbit" || t.name == "timestamp" || t.name == "timestamptz" ||
               t.name == "time" || t.name == "timetz") {
        t.modifiers = {atttypmod};
    } else if (t.name == "interval") {
        if ((atttypmod & 0xffff) != 0xffff) t.modifiers = {atttypmod & 0xffff};
    }
    return t;
}

std::string render_type(const TypeName &type) {
    std::string out = type.name;
    if (!type.modifiers.empty()) {
        out += "(";
        for (size_t i = 0; i < type.modifiers.size(); ++i) {
            if (i) out += ",";
            out += std::to_string(type.modifiers[i]);
        }
        out += ")";
    }
    if (type.is_array) out += "[]";
    return out;
}

const char *constraint_kind_name(ConstraintKind kind) {
    switch (kind) {
        case ConstraintKind::ForeignKey:
            return "FOREIGN KEY";
        case ConstraintKind::Check:
            return "CHECK";
        case ConstraintKind::Unique:
            return "UNIQUE";
        case ConstraintKind::PrimaryKey:
            return "PRIMARY KEY";
        case ConstraintKind::Exclusion:
            return "EXCLUDE";
        case ConstraintKind::NotNull:
            return "NOT NULL";
        case ConstraintKind::Other:
            break;
    }
    return "constraint";
}

const char *alter_table_cmd_name(AlterTableCmdKind kind) {
    switch (kind) {
        case AlterTableCmdKind::AddColumn:
            return "ADD COLUMN";
        case AlterTableCmdKind::AlterColumnType:
            return "ALTER COLUMN TYPE";
        case AlterTableCmdKind::SetNotNull:
            return "SET NOT NULL";
        case AlterTableCmdKind::DropNotNull:
            return "DROP NOT NULL";
        case AlterTableCmdKind::DropColumn:
            return "DROP COLUMN";
        case AlterTableCmdKind::AddConstraint:
            return "ADD CONSTRAINT";
        case AlterTableCmdKind::ValidateConstraint:
            return "VALIDATE CONSTRAINT";
        case AlterTableCmdKind::DropConstraint:
            return "DROP CONSTRAINT";
        case AlterTableCmdKind::RenameColumn:
            return "RENAME COLUMN";
        case AlterTableCmdKind::RenameConstraint:
            return "RENAME CONSTRAINT";
        case AlterTableCmdKind::SetDefault:
            return "SET DEFAULT";
        case AlterTableCmdKind::DropDefault:
            return "DROP DEFAULT";
        case AlterTableCmdKind::SetStatistics:
            return "SET STATISTICS";
        case AlterTableCmdKind::SetColumnOptions:
            return "SET (attribute_option)";
        case AlterTableCmdKind::SetStorage:
            return "SET STORAGE";
        case AlterTableCmdKind::SetTablespace:
            return "SET TABLESPACE";
        case AlterTableCmdKind::SetLogged:
            return "SET LOGGED/UNLOGGED";
        case AlterTableCmdKind::SetRelOptions:
            return "SET (storage_parameter)";
        case AlterTableCmdKind::ClusterOn:
            return "CLUSTER ON";
        case AlterTableCmdKind::EnableDisableTrigger:
            return "ENABLE/DISABLE TRIGGER";
        case AlterTableCmdKind::AttachPartition:
            return "ATTACH PARTITION";
        case AlterTableCmdKind::DetachPartition:
            return "DETACH PARTITION";
        case AlterTableCmdKind::AddIdentity:
            return "IDENTITY";
        case AlterTableCmdKind::ChangeOwner:
            return "OWNER TO";
        case AlterTableCmdKind::Other:
            break;
    }
    return "ALTER TABLE";
}

const char *statement_kind_name(StatementKind kind) {
    switch (kind) {
        case StatementKind::CreateIndex:
            return "CREATE INDEX";
        case StatementKind::DropIndex:
            return "DROP INDEX";
        case StatementKind::Reindex:
            return "REINDEX";
        case StatementKind::AlterTable:
            return "ALTER TABLE";
        case StatementKind::RenameTable:
            return "ALTER TABLE RENAME";
        case StatementKind::DropTable:
            return "DROP TABLE";
        case StatementKind::DropView:
            return "DROP VIEW";
        case StatementKind::Truncate:
            return "TRUNCATE";
        case StatementKind::Vacuum:
            return "VACUUM";
        case StatementKind::Analyze:
            return "ANALYZE";
        case StatementKind::Cluster:
            return "CLUSTER";
        case StatementKind::CreateTable:
            return "CREATE TABLE";
        case StatementKind::CreateView:
            return "CREATE VIEW";
        case StatementKind::Begin:
            return "BEGIN";
        case StatementKind::Commit:
            return "COMMIT";
        case StatementKind::Rollback:
            return "ROLLBACK";
        case StatementKind::Set:
            return "SET";
        case StatementKind::AlterTypeAddValue:
            return "ALTER TYPE ADD VALUE";
        case StatementKind::Insert:
            return "INSERT";
        case StatementKind::Update:
            return "UPDATE";
        case StatementKind::Delete:
            return "DELETE";
        case StatementKind::Select:
            return "SELECT";
        case StatementKind::Other:
            break;
    }
    return "statement";
}

const RelationFacts *CatalogFacts::find(const RelationName &name) const {
    for (const auto &r : relations)
        if (r.name.matches(name)) return &r;
    return nullptr;
}

std::pair<const RelationFacts *, const IndexFacts *> CatalogFacts::find_index(
    const RelationName &index_name) const {
    for (const auto &r : relations) {
        if (!index_name.schema.empty() && !r.name.schema.empty() && r.name.schema != index_name.schema)
            continue;
        for (const auto &i : r.indexes)
            if (i.name == index_name.name) return {&r, &i};
    }
    return {nullptr, nullptr};
}

}  // namespace rubberduck::core::migration
