#include "faceatt/attendance.h"

#include <gtest/gtest.h>

#include "support/testing.h"

namespace faceatt {
namespace {

class AttendanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SetTimeZone("Asia/Seoul").ok());
    StoreOptions o;
    o.path = ":memory:";
    o.clock = &clock_;
    store_ = std::move(OpenSqliteStore(o)).value();
    config_.cooldown_seconds = 60;
  }
  AttendanceRecorder Recorder() { return AttendanceRecorder(store_.get(), config_, &clock_); }
  static Attempt With(const std::string& type, const std::string& device = "d1") {
    Attempt a;
    a.type = type;
    a.device_id = device;
    return a;
  }

  // 2026-11-21 08:00 in Seoul (UTC+9) = 2026-11-20 23:00 UTC.
  ManualClock clock_{*ParseTimestamp("2026-11-21T08:00:00+09:00")};
  std::unique_ptr<SqliteStore> store_;
  AttendanceConfig config_;
};

TEST_F(AttendanceTest, AutoIsInThenOutWithinTheLocalDay) {
  auto r = Recorder();
  auto first = r.RecordSuccess("E1", 0.3, With("auto"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->recorded);
  EXPECT_EQ(first->type, "IN");
  clock_.Advance(9 * 3600 * 1000);
  auto second = r.RecordSuccess("E1", 0.3, With("auto"));
  EXPECT_EQ(second->type, "OUT");
  EXPECT_TRUE(second->recorded);
  // Next local day (Seoul midnight, although still the same UTC day earlier): IN again.
  clock_.Set(*ParseTimestamp("2026-11-22T00:30:00+09:00"));
  EXPECT_EQ(r.RecordSuccess("E1", 0.3, With("auto"))->type, "IN");
}

TEST_F(AttendanceTest, CooldownAcrossDevicesKeepsAnAuditRow) {
  auto r = Recorder();
  auto first = r.RecordSuccess("E1", 0.3, With("IN", "door"));
  ASSERT_TRUE(first->recorded);
  clock_.Advance(30'000);
  auto again = r.RecordSuccess("E1", 0.31, With("IN", "kiosk"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->recorded);
  EXPECT_EQ(again->reason, kAlreadyRecorded);
  EXPECT_EQ(again->first_ts_ms, *ParseTimestamp("2026-11-21T08:00:00+09:00"));
  AttendanceQuery q;
  q.status = kStatusSuccess;
  EXPECT_EQ(*store_->CountAttendance(q), 1);
  q.status = kStatusFailed;
  auto audit = store_->QueryAttendance(q);
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(audit->front().reason, kAlreadyRecorded);
  EXPECT_EQ(audit->front().device_id, "kiosk");
  // Other type, or after the cooldown: recorded.
  EXPECT_TRUE(r.RecordSuccess("E1", 0.3, With("OUT"))->recorded);
  clock_.Advance(61'000);
  EXPECT_TRUE(r.RecordSuccess("E1", 0.3, With("IN"))->recorded);
}

TEST_F(AttendanceTest, SecondInOfTheDayFollowsConfig) {
  config_.allow_second_in = false;
  auto r = Recorder();
  ASSERT_TRUE(r.RecordSuccess("E1", 0.3, With("IN"))->recorded);
  clock_.Advance(3 * 3600 * 1000);
  auto second = r.RecordSuccess("E1", 0.3, With("IN"));
  EXPECT_FALSE(second->recorded);
  EXPECT_EQ(second->reason, kAlreadyRecorded);
  EXPECT_NE(second->message.find("checked in today"), std::string::npos);
  config_.allow_second_in = true;
  EXPECT_TRUE(Recorder().RecordSuccess("E1", 0.3, With("IN"))->recorded);
}

TEST_F(AttendanceTest, UnknownAndFailuresAreAudited) {
  auto r = Recorder();
  ASSERT_TRUE(r.RecordUnknown(0.71, With("IN")).ok());
  ASSERT_TRUE(r.RecordFailure("no_face", std::nullopt, With("auto")).ok());
  auto rows = store_->QueryAttendance({});
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->at(1).status, kStatusUnknown);
  EXPECT_NEAR(*rows->at(1).distance, 0.71, 1e-9);
  EXPECT_EQ(rows->at(0).status, kStatusFailed);
  EXPECT_EQ(rows->at(0).reason, "no_face");
  EXPECT_EQ(rows->at(0).type, "");
  EXPECT_EQ(r.RecordSuccess("E1", 0.3, With("sideways")).status().code(), Code::kInvalidArgument);
}

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
  EXPECT_FALSE(SetTimeZone("Mars/Olympus").ok());
  EXPECT_FALSE(SetTimeZone("../../etc/passwd").ok());
}

}  // namespace
}  // namespace faceatt
