// CRC-32C (Castagnoli), the checksum PostgreSQL itself uses for WAL; software table version (state files are
// small).
#pragma once
#include "core/common/no_postgres.h"

#include <cstddef>
#include <cstdint>

namespace rubberduck::core {

uint32_t crc32c(const void *data, size_t size, uint32_t crc = 0);

}  // namespace rubberduck::core
