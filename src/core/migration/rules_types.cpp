// Column type preferences for columns a migration defines (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE).
#include "core/migration/rules.h"

namespace rubberduck::core::migration::detail {

void check_column_type(RuleContext &ctx, const std::string &relation, const std::string &column,
                       const TypeName &type, bool is_primary_key) {
    std::string base = canonical_type(type.name);
    std::string c = quote_ident(column);
    std::string arr = type.is_array ? "[]" : "";
    if (is_primary_key && !type.is_array &&
        (base == "int4" || base == "int2" || base == "serial" || base == "smallserial")) {
        bool serial = base == "serial" || base == "smallserial";
        ctx.add(
            relation, "prefer_bigint", Severity::Warning,
            "Primary key " + column + " is " + render_type(type) +
                ": it runs out at 2,147,483,647 (32,767 for smallint), and widening it later rewrites the "
                "table and every referencing table.",
            c + (serial ? " bigserial" : " bigint") + "  -- or: bigint GENERATED ALWAYS AS IDENTITY");
    }
    if (base == "varchar" && !type.modifiers.empty()) {
        std::string n = std::to_string(type.modifiers[0]);
        ctx.add(relation, "prefer_text", Severity::Info,
                column + " is varchar(" + n +
                    "): raising the limit later is free, but lowering it or moving to a "
                    "constraint is not; text with a CHECK is as fast and easier to change.",
                type.is_array ? c + " text[]" : c + " text CHECK (char_length(" + c + ") <= " + n + ")");
    }
    if (base == "timestamp") {
        ctx.add(relation, "prefer_timestamptz", Severity::Warning,
                column +
                    " is timestamp without time zone: values lose their time zone and shift when the server "
                    "or client TimeZone changes.",
                c + " timestamptz" + arr);
    }
    if (base == "bpchar") {
        ctx.add(relation, "char_n", Severity::Warning,
                column +
                    " is char(n): values are blank-padded, comparisons ignore trailing spaces, and it is no "
                    "faster than text.",
                c + " text" + arr);
    }
}

}  // namespace rubberduck::core::migration::detail
