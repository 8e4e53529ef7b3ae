#include "core/state/state_codec.h"

#include <cstring>
#include <stdexcept>

#include "core/common/bytes.h"
#include "core/common/crc32c.h"

namespace rubberduck::core::state {
namespace {
constexpr char kMagic[8] = {'R', 'D', 'U', 'C', 'K', 'S', 'T', '\n'};
constexpr uint32_t kMaxSections = 1024;
}  // namespace

std::vector<unsigned char> encode_state(const StateSections &sections) {
    ByteWriter w;
    w.put_bytes(kMagic, sizeof kMagic);
    w.put<uint32_t>(kStateFormatVersion);
    w.put<uint32_t>(static_cast<uint32_t>(sections.size()));
    for (const auto &[name, section] : sections) {
        w.put_string(name);
        w.put<uint32_t>(section.version);
        w.put<uint64_t>(section.payload.size());
        w.put<uint32_t>(crc32c(section.payload.data(), section.payload.size()));
        w.put_bytes(section.payload.data(), section.payload.size());
    }
    auto bytes = w.take();
    uint32_t crc = crc32c(bytes.data(), bytes.size());
    const auto *p = reinterpret_cast<const unsigned char *>(&crc);
    bytes.insert(bytes.end(), p, p + sizeof crc);
    return bytes;
}

StateSections decode_state(const std::vector<unsigned char> &file) {
    if (file.size() < sizeof kMagic + 3 * sizeof(uint32_t))
        throw std::invalid_argument("state file is truncated");
    if (std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
        throw std::invalid_argument(
            "state file has a wrong magic number (not a rubberduck_agents state file)");
    size_t body = file.size() - sizeof(uint32_t);
    uint32_t stored_crc;
    std::memcpy(&stored_crc, file.data() + body, sizeof stored_crc);
    ByteReader r(file.data(), body);
    r.skip(sizeof kMagic);
    auto version = r.get<uint32_t>();
    if (version != kStateFormatVersion)
        throw std::invalid_argument("state file format version " + std::to_string(version) +
                                    " is not supported (expected " + std::to_string(kStateFormatVersion) +
                                    ")");
    if (crc32c(file.data(), body) != stored_crc)
        throw std::invalid_argument("state file checksum mismatch (file is corrupt or truncated)");
    auto count = r.get<uint32_t>();
    if (count > kMaxSections) throw std::invalid_argument("state file declares too many sections");
    StateSections sections;
    for (uint32_t i = 0; i < count; ++i) {
        std::string name = r.get_string(256);
        StateSection section;
        section.version = r.get<uint32_t>();
        auto len = r.get<uint64_t>();
        auto crc = r.get<uint32_t>();
        if (len > r.remaining()) throw std::invalid_argument("state section '" + name + "' is truncated");
        section.payload.resize(len);
        r.get_bytes(section.payload.data(), len);
        if (crc32c(section.payload.data(), len) != crc)
            throw std::invalid_argument("state section '" + name + "' checksum mismatch");
        sections.emplace(std::move(name), std::move(section));
    }
    if (r.remaining() != 0) throw std::invalid_argument("state file has trailing bytes");
    return sections;
}

}  // namespace rubberduck::core::state
