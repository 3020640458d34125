#include "faceatt/report.h"

#include <gtest/gtest.h>

#include "faceatt/attendance.h"
#include "support/testing.h"

namespace faceatt {
namespace {

int64_t At(const std::string& local) { return *ParseTimestamp(local); }

// A real SQLite database in a temporary folder, written through the recorder
// as `serve` writes it.
class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SetTimeZone("Asia/Seoul").ok());
    store_ = testing::OpenTestStore(dir_ / "faceatt.db", &clock_);
    ASSERT_TRUE(store_);
    config_.cooldown_seconds = 60;
    for (const auto& [id, name] : std::vector<std::pair<std::string, std::string>>{
             {"E1", "김민준"}, {"E2", "Penny"}, {"E3", "이서연"}, {"E4", "Raj"}})
      ASSERT_TRUE(store_->CreateUser({id, name, ""}, {}).ok());
  }
  void Scan(const std::string& id, const std::string& local_time, const std::string& type) {
    clock_.Set(At(local_time));
    AttendanceRecorder recorder(store_.get(), config_, &clock_);
    Attempt a;
    a.type = type;
    auto d = recorder.RecordSuccess(id, 0.3, a);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_TRUE(d->recorded) << local_time;
  }
  WorkCalendar Calendar() { return *WorkCalendar::FromConfig(config_); }

  testing::TempDir dir_;
  // People are enrolled well before the days reported.
  ManualClock clock_{At("2026-11-02T08:00:00+09:00")};
  std::unique_ptr<SqliteStore> store_;
  AttendanceConfig config_;
};

// With a 04:00 boundary a 22:00-03:30 shift is one working day: auto makes the
// 00:30 scan the OUT of the evening's IN, and the summary puts it all on Monday.
TEST_F(ReportTest, ShiftAcrossMidnightIsOneDayWithA0400Boundary) {
  config_.day_starts_at = "04:00";
  config_.work_starts_at = "22:00";
  Scan("E1", "2026-11-30T21:55:00+09:00", "auto");  // Monday evening: IN
  Scan("E1", "2026-12-01T00:30:00+09:00", "auto");  // OUT, not a new day's IN
  Scan("E1", "2026-12-01T01:00:00+09:00", "IN");    // back from a break
  Scan("E1", "2026-12-01T03:30:00+09:00", "auto");  // OUT
  Scan("E2", "2026-11-30T22:10:00+09:00", "IN");    // late
  auto rows = DailySummary(*store_, *store_, Calendar(), "2026-11-30", "2026-12-01", "E1",
                           At("2026-12-01T12:00:00+09:00"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  const PersonDay& monday = (*rows)[0];
  EXPECT_EQ(monday.date, "2026-11-30");
  EXPECT_EQ(monday.events, 4);
  EXPECT_EQ(*monday.first_in, At("2026-11-30T21:55:00+09:00"));
  EXPECT_EQ(*monday.last_out, At("2026-12-01T03:30:00+09:00"));
  EXPECT_EQ(monday.worked_ms, (2 * 60 + 35 + 2 * 60 + 30) * 60 * 1000);  // 2h35 + 2h30
  EXPECT_FALSE(monday.late);
  EXPECT_FALSE(monday.absent);
  // Tuesday (begun at 04:00) has no IN: an absence, not the tail of Monday.
  EXPECT_EQ((*rows)[1].date, "2026-12-01");
  EXPECT_TRUE((*rows)[1].absent);
  auto penny = DailySummary(*store_, *store_, Calendar(), "2026-11-30", "2026-11-30", "E2",
                            At("2026-12-01T12:00:00+09:00"));
  ASSERT_TRUE(penny.ok());
  ASSERT_EQ(penny->size(), 1u);
  EXPECT_TRUE((*penny)[0].late);
  // The same scans with a midnight boundary split the shift in two.
  config_.day_starts_at = "00:00";
  auto split = DailySummary(*store_, *store_, Calendar(), "2026-11-30", "2026-12-01", "E1",
                            At("2026-12-01T12:00:00+09:00"));
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split->size(), 2u);
  EXPECT_EQ((*split)[0].events, 1);
  EXPECT_EQ((*split)[1].events, 3);
}

TEST_F(ReportTest, TodaysBoardShowsWhoIsInWhoLeftAndWhoHasNotCome) {
  Scan("E1", "2026-11-30T08:50:00+09:00", "IN");
  Scan("E2", "2026-11-30T08:40:00+09:00", "IN");
  Scan("E2", "2026-11-30T12:00:00+09:00", "OUT");
  Scan("E3", "2026-11-29T09:00:00+09:00", "IN");                                  // yesterday only
  ASSERT_TRUE(store_->UpdateUser("E4", std::nullopt, std::nullopt, false).ok());  // inactive
  // An unknown face and a refused scan do not make anyone present.
  ASSERT_TRUE(store_
                  ->AddAttendance(testing::AttendanceRow(nullptr, "IN", kStatusUnknown,
                                                         At("2026-11-30T09:30:00+09:00")))
                  .ok());
  auto board = TodayBoard(*store_, *store_, Calendar(), At("2026-11-30T13:00:00+09:00"));
  ASSERT_TRUE(board.ok()) << board.status().ToString();
  ASSERT_EQ(board->size(), 3u);  // the inactive person is not expected
  EXPECT_EQ((*board)[0].employee_id, "E1");
  EXPECT_EQ((*board)[0].state, kPresenceIn);
  EXPECT_EQ(*(*board)[0].since, At("2026-11-30T08:50:00+09:00"));
  EXPECT_EQ((*board)[1].employee_id, "E2");
  EXPECT_EQ((*board)[1].state, kPresenceLeft);
  EXPECT_EQ((*board)[1].worked_ms, (3 * 60 + 20) * 60 * 1000);
  EXPECT_EQ((*board)[2].employee_id, "E3");
  EXPECT_EQ((*board)[2].state, kPresenceNotYet);
  EXPECT_FALSE((*board)[2].first_in);

  auto status = PersonStatus(*store_, *store_, Calendar(), "E2", At("2026-11-30T13:00:00+09:00"));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, kPresenceLeft);
  EXPECT_EQ(*status->since, At("2026-11-30T12:00:00+09:00"));
  EXPECT_EQ(PersonStatus(*store_, *store_, Calendar(), "E9", At("2026-11-30T13:00:00+09:00"))
                .status()
                .code(),
            Code::kNotFound);
}

TEST_F(ReportTest, SummaryCountsLateArrivalsAndAbsencesOnWorkingDaysOnly) {
  Scan("E1", "2026-11-27T09:10:00+09:00", "IN");   // Friday, late
  Scan("E1", "2026-11-27T18:00:00+09:00", "OUT");  //
  Scan("E1", "2026-11-30T08:59:00+09:00", "IN");   // Monday, on time
  auto rows = DailySummary(*store_, *store_, Calendar(), "2026-11-27", "2026-11-30", std::nullopt,
                           At("2026-11-30T10:00:00+09:00"));
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  int absences = 0, late = 0, weekend_rows = 0;
  for (const auto& d : *rows) {
    absences += d.absent;
    late += d.late;
    weekend_rows += d.date == "2026-11-28" || d.date == "2026-11-29";
  }
  EXPECT_EQ(weekend_rows, 0);  // Saturday and Sunday are not working days
  EXPECT_EQ(late, 1);
  EXPECT_EQ(absences, 6);  // three other people, Friday and Monday
  // Bad ranges are refused.
  EXPECT_EQ(DailySummary(*store_, *store_, Calendar(), "2026-11-30", "2026-11-01", std::nullopt,
                         At("2026-11-30T10:00:00+09:00"))
                .status()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(DailySummary(*store_, *store_, Calendar(), "2026-13-01", "2026-11-01", std::nullopt,
                         At("2026-11-30T10:00:00+09:00"))
                .status()
                .code(),
            Code::kInvalidArgument);
}

TEST(WorkCalendarTest, RefusesBadTimesAndDays) {
  AttendanceConfig c;
  c.day_starts_at = "24:00";
  EXPECT_EQ(WorkCalendar::FromConfig(c).status().code(), Code::kInvalidArgument);
  c.day_starts_at = "4:00";
  EXPECT_EQ(WorkCalendar::FromConfig(c).status().code(), Code::kInvalidArgument);
  c.day_starts_at = "04:00";
  c.working_days = {"Mon", "Funday"};
  EXPECT_EQ(WorkCalendar::FromConfig(c).status().code(), Code::kInvalidArgument);
  c.working_days = {"sat"};
  ASSERT_TRUE(WorkCalendar::FromConfig(c).ok());
  EXPECT_TRUE(WorkCalendar::FromConfig(c)->IsWorkingDay("2026-11-28"));
  EXPECT_FALSE(WorkCalendar::FromConfig(c)->IsWorkingDay("2026-11-30"));
}

}  // namespace
}  // namespace faceatt
