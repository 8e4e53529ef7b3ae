// rubberduck.indexing_maintenance_window: when autonomous index builds may start.
//
// Syntax: empty (any time) or one or more comma-separated ranges "HH:MM-HH:MM" in the server's local time;
// a range may wrap midnight ("22:00-04:30"); the start is inclusive, the end exclusive; "00:00-24:00" is
// the whole day.
#pragma once
#include "core/common/no_postgres.h"

#include <string>
#include <vector>

namespace rubberduck::core::index {

struct TimeRange {
    int start_minute = 0;  // 0..1439
    int end_minute = 0;    // 0..1440
};

struct MaintenanceWindow {
    std::vector<TimeRange> ranges;  // empty = any time

    // minute_of_day: 0..1439.
    bool contains(int minute_of_day) const;
};

// Throws std::invalid_argument with a readable message on malformed input.
MaintenanceWindow parse_maintenance_window(const std::string &text);

}  // namespace rubberduck::core::index
