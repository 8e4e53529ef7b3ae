// The agents and skills of the product contract (DESIGN.md §2): one place that names them.
#pragma once
#include "core/common/no_postgres.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace rubberduck::core::runtime {

enum class AgentId : int { QueryOptimizer = 0, DataPersistence = 1, Migration = 2, HealthSensor = 3 };
constexpr int kAgentCount = 4;

struct AgentInfo {
    AgentId id;
    std::string_view name;
    std::string_view description;
};

struct SkillInfo {
    int index;
    std::string_view name;
    AgentId agent;
    std::string_view description;
};

constexpr std::array<AgentInfo, kAgentCount> kAgents{{
    {AgentId::QueryOptimizer, "query_optimizer", "per-query statistics, slow queries, N+1, plan regressions"},
    {AgentId::DataPersistence, "data_persistence", "index advice, connection pooling, caching, scaling"},
    {AgentId::Migration, "migration", "migration safety analysis, guarded execution, rollback"},
    {AgentId::HealthSensor, "health_sensor", "health score, anomaly detection, capacity planning"},
}};

constexpr int kSkillCount = 9;
constexpr std::array<SkillInfo, kSkillCount> kSkills{{
    {0, "query_optimization", AgentId::QueryOptimizer,
     "query statistics, slow queries, N+1 patterns, plan regressions, rewrite hints"},
    {1, "indexing", AgentId::DataPersistence,
     "what-if index advice, index health, autonomous create/verify/revert"},
    {2, "connection_pooling", AgentId::DataPersistence,
     "connection pool sizing, leaked and idle-in-transaction sessions"},
    {3, "caching", AgentId::DataPersistence, "buffer cache heat and predictive cache warming"},
    {4, "scaling", AgentId::DataPersistence, "settings and scaling advice"},
    {5, "migration_safety", AgentId::Migration,
     "migration analysis, guarded execution, integrity checks, rollback"},
    {6, "health_monitoring", AgentId::HealthSensor, "metrics history and health score"},
    {7, "anomaly_detection", AgentId::HealthSensor, "anomalies against learned baselines"},
    {8, "capacity_planning", AgentId::HealthSensor, "capacity forecasts and preventive actions"},
}};

inline std::optional<int> find_skill(std::string_view name) {
    for (const auto &s : kSkills)
        if (s.name == name) return s.index;
    return std::nullopt;
}

inline std::optional<AgentId> find_agent(std::string_view name) {
    for (const auto &a : kAgents)
        if (a.name == name) return a.id;
    return std::nullopt;
}

inline std::string_view agent_name(AgentId id) {
    return kAgents[static_cast<int>(id)].name;
}

}  // namespace rubberduck::core::runtime
