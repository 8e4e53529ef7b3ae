// Incremental 64-bit plan fingerprint. The adapter walks a finished plan tree depth-first and feeds, per
// node, its node tag, scanned relation OID and index OID (0 when absent), bracketing each node's children
// with begin_children()/end_children() so different tree shapes over the same nodes hash differently.
// Constants (parameter values, costs, row estimates) must NOT be fed: the fingerprint identifies the plan
// shape.
//
// Mixing: xxHash64's round (multiply, rotate, multiply) per 64-bit word and its avalanche finaliser. POD and
// constexpr: PlanFingerprint can be built in a constant expression and copied into shared memory.
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <type_traits>

namespace rubberduck::core::query {

struct PlanFingerprint {
    static constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
    static constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
    static constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
    static constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
    static constexpr uint64_t kSeed = 0x27D4EB2F165667C5ULL;

    // Structural markers, outside the range of PostgreSQL node tags.
    static constexpr uint64_t kBeginChildren = 0xB0B0B0B0'00000001ULL;
    static constexpr uint64_t kEndChildren = 0xB0B0B0B0'00000002ULL;

    uint64_t state;
    uint64_t words;

    static constexpr PlanFingerprint start() noexcept { return PlanFingerprint{kSeed, 0}; }

    static constexpr uint64_t rotl(uint64_t x, int r) noexcept { return (x << r) | (x >> (64 - r)); }

    constexpr PlanFingerprint &add(uint64_t word) noexcept {
        uint64_t k = word * kPrime2;
        k = rotl(k, 31) * kPrime1;
        state ^= k;
        state = rotl(state, 27) * kPrime1 + kPrime4;
        ++words;
        return *this;
    }

    // One plan node: tag (e.g. T_IndexScan), relation OID and index OID (0 when the node has none).
    constexpr PlanFingerprint &add_node(uint32_t node_tag, uint32_t relation_oid = 0,
                                        uint32_t index_oid = 0) noexcept {
        add((static_cast<uint64_t>(node_tag) << 32) | 0x4E4F4445u);  // "NODE"
        return add((static_cast<uint64_t>(relation_oid) << 32) | index_oid);
    }
    constexpr PlanFingerprint &begin_children() noexcept { return add(kBeginChildren); }
    constexpr PlanFingerprint &end_children() noexcept { return add(kEndChildren); }

    // Final 64-bit value; never 0, so the adapter may use 0 for "no plan seen yet".
    constexpr uint64_t value() const noexcept {
        uint64_t h = state + words * kPrime3;
        h ^= h >> 33;
        h *= kPrime2;
        h ^= h >> 29;
        h *= kPrime3;
        h ^= h >> 32;
        return h == 0 ? 1 : h;
    }
};

static_assert(std::is_trivially_copyable_v<PlanFingerprint> && std::is_standard_layout_v<PlanFingerprint>,
              "PlanFingerprint must stay POD");
static_assert(PlanFingerprint::start().add_node(1, 2, 3).value() !=
                  PlanFingerprint::start().add_node(1, 3, 2).value(),
              "relation and index OIDs must not commute");

}  // namespace rubberduck::core::query
