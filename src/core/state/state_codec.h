// The lasting-state file format: named, versioned sections, each with its own CRC-32C, and a CRC over the
// whole file. Decoding validates everything and throws std::invalid_argument on a wrong magic, a wrong format
// version, a truncation or a checksum mismatch, so that the caller can warn and start fresh.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rubberduck::core::state {

constexpr uint32_t kStateFormatVersion = 1;

struct StateSection {
    uint32_t version = 0;
    std::vector<unsigned char> payload;
};

using StateSections = std::map<std::string, StateSection>;

std::vector<unsigned char> encode_state(const StateSections &sections);
StateSections decode_state(const std::vector<unsigned char> &file);

}  // namespace rubberduck::core::state
