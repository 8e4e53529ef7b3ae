#include <gtest/gtest.h>

#include "core/index/maintenance_window.h"

using namespace rubberduck::core::index;

TEST(MaintenanceWindow, EmptyMeansAnyTime) {
    MaintenanceWindow w = parse_maintenance_window("  ");
    EXPECT_TRUE(w.ranges.empty());
    EXPECT_TRUE(w.contains(0));
    EXPECT_TRUE(w.contains(1439));
}

TEST(MaintenanceWindow, SimpleRangeIsHalfOpen) {
    MaintenanceWindow w = parse_maintenance_window("01:30-05:00");
    ASSERT_EQ(w.ranges.size(), 1u);
    EXPECT_EQ(w.ranges[0].start_minute, 90);
    EXPECT_EQ(w.ranges[0].end_minute, 300);
    EXPECT_FALSE(w.contains(89));
    EXPECT_TRUE(w.contains(90));
    EXPECT_TRUE(w.contains(299));
    EXPECT_FALSE(w.contains(300));
}

TEST(MaintenanceWindow, WrapsMidnightAndAcceptsSeveralRanges) {
    MaintenanceWindow w = parse_maintenance_window("22:00-04:30, 12:00-13:00");
    ASSERT_EQ(w.ranges.size(), 2u);
    EXPECT_TRUE(w.contains(23 * 60));
    EXPECT_TRUE(w.contains(0));
    EXPECT_TRUE(w.contains(4 * 60 + 29));
    EXPECT_FALSE(w.contains(4 * 60 + 30));
    EXPECT_TRUE(w.contains(12 * 60 + 30));
    EXPECT_FALSE(w.contains(14 * 60));
}

TEST(MaintenanceWindow, WholeDayWith2400End) {
    MaintenanceWindow w = parse_maintenance_window("00:00-24:00");
    EXPECT_TRUE(w.contains(0));
    EXPECT_TRUE(w.contains(1439));
}

TEST(MaintenanceWindow, RejectsMalformedInput) {
    for (const char *bad : {"2-3", "25:00-01:00", "01:60-02:00", "24:00-01:00", "01:00", "01:00-01:00",
                            "1:00-2:00x", "01:00-02:00,", "aa:bb-cc:dd"}) {
        EXPECT_THROW(parse_maintenance_window(bad), std::invalid_argument) << bad;
    }
    EXPECT_NO_THROW(parse_maintenance_window("1:00-2:00"));
}
