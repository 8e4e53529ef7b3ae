// Bounds-checked little-endian byte encoding for lasting state. Decoding never reads past the end: a
// truncated or corrupt buffer throws std::invalid_argument, which callers turn into "WARNING, fresh start".
#pragma once
#include "core/common/no_postgres.h"

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rubberduck::core {

class ByteWriter {
  public:
    template <typename T>
    void put(T value) {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto *p = reinterpret_cast<const unsigned char *>(&value);
        bytes_.insert(bytes_.end(), p, p + sizeof(T));
    }
    void put_string(std::string_view s) {
        put<uint32_t>(static_cast<uint32_t>(s.size()));
        bytes_.insert(bytes_.end(), s.begin(), s.end());
    }
    void put_bytes(const void *data, size_t n) {
        const auto *p = static_cast<const unsigned char *>(data);
        bytes_.insert(bytes_.end(), p, p + n);
    }
    const std::vector<unsigned char> &bytes() const { return bytes_; }
    std::vector<unsigned char> take() { return std::move(bytes_); }

  private:
    std::vector<unsigned char> bytes_;
};

class ByteReader {
  public:
    ByteReader(const unsigned char *data, size_t size) : data_(data), size_(size) {}
    explicit ByteReader(const std::vector<unsigned char> &v) : ByteReader(v.data(), v.size()) {}

    template <typename T>
    T get() {
        static_assert(std::is_trivially_copyable_v<T>);
        need(sizeof(T));
        T value;
        std::memcpy(&value, data_ + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }
    std::string get_string(size_t max_len = 1 << 20) {
        auto n = get<uint32_t>();
        if (n > max_len) throw std::invalid_argument("state string longer than allowed");
        need(n);
        std::string s(reinterpret_cast<const char *>(data_ + pos_), n);
        pos_ += n;
        return s;
    }
    void get_bytes(void *out, size_t n) {
        need(n);
        std::memcpy(out, data_ + pos_, n);
        pos_ += n;
    }
    const unsigned char *peek(size_t n) {
        need(n);
        return data_ + pos_;
    }
    void skip(size_t n) {
        need(n);
        pos_ += n;
    }
    size_t remaining() const { return size_ - pos_; }
    size_t position() const { return pos_; }

  private:
    void need(size_t n) const {
        if (n > size_ - pos_) throw std::invalid_argument("state data is truncated");
    }
    const unsigned char *data_;
    size_t size_;
    size_t pos_ = 0;
};

}  // namespace rubberduck::core
