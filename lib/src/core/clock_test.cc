#include "faceatt/clock.h"

#include <gtest/gtest.h>

namespace faceatt {
namespace {

TEST(ClockTest, FormatsAndParses) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(*ParseTimestamp("2026-11-21T08:30:00.123Z"), 1795249800123);
  EXPECT_EQ(*ParseTimestamp("2026-11-21T17:30:00.123+09:00"), 1795249800123);
  EXPECT_FALSE(ParseTimestamp("2026-11-21 08:30").ok());
  EXPECT_FALSE(ParseTimestamp("2026-13-01T00:00:00Z").ok());
  ASSERT_TRUE(SetTimeZone("Asia/Seoul").ok());
  EXPECT_EQ(FormatLocal(1795249800123), "2026-11-21T17:30:00+09:00");
  EXPECT_EQ(*LocalDayStart("2026-11-21"), *ParseTimestamp("2026-11-20T15:00:00Z"));
  EXPECT_FALSE(LocalDayStart("2026-02-30").ok());
  EXPECT_FALSE(LocalDayStart("21/11/2026").ok());
  EXPECT_FALSE(LocalDayStart("2026-+1-05").ok());
  EXPECT_FALSE(LocalDayStart("2026- 1-05").ok());
  EXPECT_FALSE(SetTimeZone("Mars/Olympus").ok());
  EXPECT_FALSE(SetTimeZone("../../etc/passwd").ok());
}

}  // namespace
}  // namespace faceatt
