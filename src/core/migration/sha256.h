// SHA-256 (FIPS 180-4) for the migration ledger's checksum of up_sql: the same text always gives the same
// 64-character lowercase hex digest, so an applied version whose SQL was edited afterwards is detected.
#pragma once
#include "core/common/no_postgres.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace rubberduck::core::migration {

std::array<uint8_t, 32> sha256(std::string_view data);
std::string sha256_hex(std::string_view data);  // 64 lowercase hex characters

}  // namespace rubberduck::core::migration
