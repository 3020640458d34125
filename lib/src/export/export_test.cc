#include "faceatt/export.h"

#include <gtest/gtest.h>

#include "faceatt/clock.h"
#include "support/testing.h"

namespace faceatt {
namespace {

TEST(Csv, QuotesOnlyWhatNeedsQuoting) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\rx"), "\"cr\rx\"");
  EXPECT_EQ(CsvRow({"a", "", "b,c"}), "a,,\"b,c\"\r\n");
}

TEST(Csv, RoundTripsAwkwardFields) {
  const std::vector<std::vector<std::string>> rows = {{"id", "name"},
                                                      {"1", "Kim, \"Jr\""},
                                                      {"2", "홍길동"},
                                                      {"3", "two\r\nlines\nhere"},
                                                      {"4", ""}};
  std::string text;
  for (const auto& r : rows) text += CsvRow(r);
  auto parsed = ParseCsv(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, rows);
  // A BOM is skipped, LF-only lines work, an open quote is an error.
  auto bom = ParseCsv("\xEF\xBB\xBFlabel,name\nx,y\n");
  ASSERT_TRUE(bom.ok());
  EXPECT_EQ((*bom)[0][0], "label");
  EXPECT_EQ(bom->size(), 2u);
  EXPECT_EQ(ParseCsv("a,\"open\n").status().code(), Code::kBadInput);
}

TEST(Dates, NextDateCrossesMonthsYearsAndLeapDays) {
  EXPECT_EQ(*NextDate("2026-11-21"), "2026-11-22");
  EXPECT_EQ(*NextDate("2026-12-31"), "2027-01-01");
  EXPECT_EQ(*NextDate("2028-02-28"), "2028-02-29");
  EXPECT_EQ(*NextDate("2027-02-28"), "2027-03-01");
  EXPECT_EQ(NextDate("2027-02-29").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(NextDate("21/11/2026").status().code(), Code::kInvalidArgument);
  // Found by fuzz/datetime_fuzz.cc: every refusal read a destroyed Status
  // (ASan: stack-use-after-scope; scripts/test-sanitize.sh runs this test).
  EXPECT_EQ(NextDate("").status().code(), Code::kInvalidArgument);
}

// Found by fuzz/datetime_fuzz.cc: an offset carried the time into the year 10000,
// which FormatUtc could not write back in the form ParseTimestamp reads.
TEST(Dates, TimestampsOutsideFourDigitYearsInUtcAreRefused) {
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59-23:59").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseTimestamp("0000-01-01T00:00:00+01:00").status().code(), Code::kInvalidArgument);
  auto last = ParseTimestamp("9999-12-31T23:59:59Z");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*ParseTimestamp(FormatUtc(*last)), *last);
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SetTimeZone("Asia/Seoul").ok());
    store_ = testing::OpenTestStore();
    ASSERT_TRUE(store_);
    ASSERT_TRUE(store_->CreateUser({"EMP001", "Kim, \"Jr\"", ""}, {}).ok());
  }
  void Add(const char* type, const char* status, const char* ts, const char* id = "EMP001") {
    ASSERT_TRUE(
        store_->AddAttendance(testing::AttendanceRow(id, type, status, *ParseTimestamp(ts))).ok());
  }
  std::vector<std::vector<std::string>> Csv(const ExportOptions& o) {
    auto text = ExportAttendance(*store_, o);
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (!text.ok()) return {};
    return *ParseCsv(*text);
  }
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(ExportTest, LocalDaysDecideTheRange) {
  Add("IN", kStatusSuccess, "2026-11-20T14:59:59.999Z");  // 23:59:59.999 on the 20th in Seoul
  Add("IN", kStatusSuccess, "2026-11-20T15:00:00Z");      // 00:00 on the 21st
  Add("OUT", kStatusSuccess, "2026-11-21T14:59:59Z");     // 23:59:59 on the 21st
  Add("IN", kStatusSuccess, "2026-11-21T15:00:00Z");      // the 22nd
  ExportOptions o;
  o.from_date = "2026-11-21";
  o.to_date = "2026-11-21";
  auto rows = Csv(o);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][1], "2026-11-21T00:00:00.000+09:00");
  EXPECT_EQ(rows[1][2], "2026-11-21 00:00:00");  // excel_time
  EXPECT_EQ(rows[1][3], "2026-11-21");
  EXPECT_EQ(rows[2][1], "2026-11-21T23:59:59.000+09:00");
  EXPECT_EQ(rows[1][5], "Kim, \"Jr\"");
  o.type = "out";
  EXPECT_EQ(Csv(o).size(), 2u);
}

TEST_F(ExportTest, FailedAttemptsOnlyOnRequestAndNeverInTheSummary) {
  Add("IN", kStatusSuccess, "2026-11-21T00:00:00Z");
  Add("", kStatusUnknown, "2026-11-21T00:01:00Z", nullptr);
  Add("OUT", kStatusSuccess, "2026-11-21T08:15:00Z");
  Add("OUT", kStatusSuccess, "2026-11-21T09:00:00Z");
  ExportOptions o;
  EXPECT_EQ(Csv(o).size(), 4u);
  o.include_failed = true;
  auto all = Csv(o);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[2][8], "unknown");
  EXPECT_EQ(all[2][4], "");
  o.status = kStatusUnknown;  // one status only, whatever include_failed says
  auto unknown = Csv(o);
  ASSERT_EQ(unknown.size(), 2u);
  EXPECT_EQ(unknown[1][8], "unknown");
  o.status = "lost";
  EXPECT_EQ(ExportAttendance(*store_, o).status().code(), Code::kInvalidArgument);
  o = {};
  o.summary_daily = true;
  auto daily = Csv(o);
  ASSERT_EQ(daily.size(), 2u);
  EXPECT_EQ(daily[0], (std::vector<std::string>{"date", "employee_id", "name", "department",
                                                "first_in", "last_out", "hours", "events"}));
  EXPECT_EQ(daily[1][0], "2026-11-21");
  EXPECT_EQ(daily[1][5], "2026-11-21T18:00:00.000+09:00");  // the last OUT
  EXPECT_EQ(daily[1][6], "9.0");
  EXPECT_EQ(daily[1][7], "3");
  o.format = "json";
  auto json = ExportAttendance(*store_, o);
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"hours\": 9.0"), std::string::npos) << *json;
}

TEST_F(ExportTest, RefusesBadInputAndEmptyRangeIsHeaderOnly) {
  ExportOptions o;
  o.from_date = "2026-13-01";
  EXPECT_EQ(ExportAttendance(*store_, o).status().code(), Code::kInvalidArgument);
  o.from_date = "2026-11-22";
  o.to_date = "2026-11-21";
  EXPECT_EQ(ExportAttendance(*store_, o).status().code(), Code::kInvalidArgument);
  o = {};
  o.employee_id = "EMP999";
  EXPECT_EQ(ExportAttendance(*store_, o).status().code(), Code::kNotFound);
  o.employee_id = "../x";
  EXPECT_EQ(ExportAttendance(*store_, o).status().code(), Code::kInvalidArgument);
  o = {};
  o.summary_daily = true;
  o.include_failed = true;
  EXPECT_EQ(ExportAttendance(*store_, o).status().code(), Code::kInvalidArgument);
  o = {};
  o.format = "jsonl";
  EXPECT_EQ(*ExportAttendance(*store_, o), "");
  o.format = "json";
  EXPECT_EQ(*ExportAttendance(*store_, o), "[]\n");
  o.format = "csv";
  EXPECT_EQ(Csv(o).size(), 1u);
}

}  // namespace
}  // namespace faceatt
