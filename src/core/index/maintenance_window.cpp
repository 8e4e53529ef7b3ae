#include "core/index/maintenance_window.h"

#include <cctype>
#include <stdexcept>

namespace rubberduck::core::index {

namespace {

std::string trim(const std::string &s) {
    size_t b = 0;
    size_t e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

// "HH:MM" → minutes; 24:00 allowed only as an end.
int parse_time(const std::string &text, bool is_end, const std::string &whole) {
    std::string t = trim(text);
    auto fail = [&]() -> int {
        throw std::invalid_argument("invalid maintenance window \"" + whole + "\": \"" + t +
                                    "\" is not a time HH:MM (00:00 to 23:59, or 24:00 as an end)");
    };
    auto colon = t.find(':');
    if (colon == std::string::npos || colon == 0 || colon > 2 || t.size() != colon + 3) return fail();
    for (size_t i = 0; i < t.size(); ++i) {
        if (i != colon && !std::isdigit(static_cast<unsigned char>(t[i]))) return fail();
    }
    int h = std::stoi(t.substr(0, colon));
    int m = std::stoi(t.substr(colon + 1));
    if (m > 59) return fail();
    if (h == 24 && m == 0 && is_end) return 1440;
    if (h > 23) return fail();
    return h * 60 + m;
}

}  // namespace

bool MaintenanceWindow::contains(int minute_of_day) const {
    if (ranges.empty()) return true;
    for (const auto &r : ranges) {
        if (r.start_minute < r.end_minute) {
            if (minute_of_day >= r.start_minute && minute_of_day < r.end_minute) return true;
        } else {  // wraps midnight
            if (minute_of_day >= r.start_minute || minute_of_day < r.end_minute) return true;
        }
    }
    return false;
}

MaintenanceWindow parse_maintenance_window(const std::string &text) {
    MaintenanceWindow w;
    std::string all = trim(text);
    if (all.empty()) return w;
    size_t pos = 0;
    while (pos <= all.size()) {
        size_t comma = all.find(',', pos);
        std::string part =
            trim(all.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
        auto dash = part.find('-');
        if (dash == std::string::npos) {
            throw std::invalid_argument("invalid maintenance window \"" + all + "\": \"" + part +
                                        "\" is not a range HH:MM-HH:MM");
        }
        TimeRange r;
        r.start_minute = parse_time(part.substr(0, dash), false, all);
        r.end_minute = parse_time(part.substr(dash + 1), true, all);
        if (r.start_minute == r.end_minute) {
            throw std::invalid_argument("invalid maintenance window \"" + all + "\": \"" + part +
                                        "\" is empty (start equals end)");
        }
        w.ranges.push_back(r);
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return w;
}

}  // namespace rubberduck::core::index
