// snprintf unqualified: adapter files may see it as PostgreSQL's port.h macro.
// A tiny JSON object writer for signal payloads and action details (no parsing: PostgreSQL's jsonb reads
// them).
#pragma once
#include "core/common/no_postgres.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace rubberduck::core {

inline void json_escape_into(std::string &out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}

class JsonObject {
  public:
    JsonObject &add(std::string_view key, std::string_view value) {
        key_(key);
        json_escape_into(out_, value);
        return *this;
    }
    JsonObject &add(std::string_view key, const char *value) { return add(key, std::string_view(value)); }
    JsonObject &add(std::string_view key, int64_t value) {
        key_(key);
        out_ += std::to_string(value);
        return *this;
    }
    JsonObject &add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
    JsonObject &add(std::string_view key, double value) {
        key_(key);
        if (!std::isfinite(value)) {
            out_ += "null";
        } else {
            char buf[32];
            snprintf(buf, sizeof buf, "%.6g", value);
            out_ += buf;
        }
        return *this;
    }
    JsonObject &add(std::string_view key, bool value) {
        key_(key);
        out_ += value ? "true" : "false";
        return *this;
    }
    // value must already be valid JSON
    JsonObject &add_raw(std::string_view key, std::string_view json) {
        key_(key);
        out_ += json;
        return *this;
    }
    std::string str() const { return out_ + "}"; }

  private:
    void key_(std::string_view key) {
        out_ += first_ ? "" : ",";
        first_ = false;
        json_escape_into(out_, key);
        out_ += ':';
    }
    std::string out_ = "{";
    bool first_ = true;
};

}  // namespace rubberduck::core
