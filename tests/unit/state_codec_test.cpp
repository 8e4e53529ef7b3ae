#include <gtest/gtest.h>

#include "core/common/bytes.h"
#include "core/common/crc32c.h"
#include "core/common/json_writer.h"
#include "core/state/state_codec.h"

using namespace rubberduck::core;
using namespace rubberduck::core::state;

namespace {
StateSections sample() {
    StateSections s;
    ByteWriter w;
    w.put<uint64_t>(12345);
    w.put_string("hello");
    s["runtime"] = {3, w.take()};
    s["empty"] = {1, {}};
    return s;
}
}  // namespace

TEST(Crc32c, KnownVector) {
    EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(StateCodec, RoundTrip) {
    auto decoded = decode_state(encode_state(sample()));
    ASSERT_EQ(decoded.size(), 2u);
    EXPECT_EQ(decoded["runtime"].version, 3u);
    ByteReader r(decoded["runtime"].payload);
    EXPECT_EQ(r.get<uint64_t>(), 12345u);
    EXPECT_EQ(r.get_string(), "hello");
    EXPECT_TRUE(decoded["empty"].payload.empty());
}

TEST(StateCodec, EveryTruncationIsRejected) {
    auto bytes = encode_state(sample());
    for (size_t n = 0; n < bytes.size(); ++n) {
        std::vector<unsigned char> cut(bytes.begin(), bytes.begin() + n);
        EXPECT_THROW(decode_state(cut), std::invalid_argument) << "length " << n;
    }
}

TEST(StateCodec, EverySingleByteCorruptionIsRejected) {
    auto bytes = encode_state(sample());
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto bad = bytes;
        bad[i] ^= 0x5A;
        EXPECT_THROW(decode_state(bad), std::invalid_argument) << "byte " << i;
    }
}

TEST(StateCodec, WrongMagicAndVersionAreExplained) {
    std::vector<unsigned char> junk(64, 'x');
    try {
        decode_state(junk);
        FAIL();
    } catch (const std::invalid_argument &e) {
        EXPECT_NE(std::string(e.what()).find("magic"), std::string::npos);
    }
}

TEST(ByteReader, ReadsNeverPassTheEnd) {
    std::vector<unsigned char> three = {1, 2, 3};
    ByteReader r(three);
    EXPECT_THROW(r.get<uint32_t>(), std::invalid_argument);
    ByteWriter w;
    w.put<uint32_t>(1000);  // string length larger than the data
    ByteReader r2(w.bytes());
    EXPECT_THROW(r2.get_string(), std::invalid_argument);
}

TEST(JsonWriter, EscapesAndTypes) {
    JsonObject o;
    o.add("s", "a\"b\n").add("n", int64_t{7}).add("d", 1.5).add("b", true).add_raw("o", "{}");
    EXPECT_EQ(o.str(), R"({"s":"a\"b\n","n":7,"d":1.5,"b":true,"o":{}})");
}
