#include "faceatt/attendance.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/testing.h"

namespace faceatt {
namespace {

class AttendanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(SetTimeZone("Asia/Seoul").ok());
    store_ = testing::OpenTestStore(":memory:", &clock_);
    ASSERT_TRUE(store_);
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

TEST_F(AttendanceTest, AutoWithinTheCooldownIsNotACheckOut) {
  auto r = Recorder();
  ASSERT_EQ(r.RecordSuccess("E1", 0.3, With("auto"))->type, "IN");
  clock_.Advance(5'000);  // still in front of the kiosk
  auto again = r.RecordSuccess("E1", 0.3, With("auto"));
  EXPECT_FALSE(again->recorded);
  EXPECT_EQ(again->reason, kAlreadyRecorded);
  EXPECT_EQ(again->type, "IN");
  clock_.Advance(60'000);
  auto later = r.RecordSuccess("E1", 0.3, With("auto"));
  EXPECT_TRUE(later->recorded);
  EXPECT_EQ(later->type, "OUT");
}

TEST_F(AttendanceTest, CooldownReachesBackPastMidnight) {
  clock_.Set(*ParseTimestamp("2026-11-21T23:59:50+09:00"));
  auto r = Recorder();
  ASSERT_TRUE(r.RecordSuccess("E1", 0.3, With("IN"))->recorded);
  clock_.Set(*ParseTimestamp("2026-11-22T00:00:10+09:00"));
  auto again = r.RecordSuccess("E1", 0.3, With("IN"));
  EXPECT_FALSE(again->recorded);
  EXPECT_EQ(again->reason, kAlreadyRecorded);
  // ...but the new day starts fresh for auto once the cooldown is over.
  clock_.Advance(60'000);
  EXPECT_EQ(r.RecordSuccess("E1", 0.3, With("auto"))->type, "IN");
}

// Two processes (two stores and recorders on one file, as serve and a cron
// `identify --record`) seeing the same person at once record them once.
TEST(AttendanceFileTest, CooldownHoldsAcrossConnections) {
  testing::TempDir dir;
  ManualClock clock(*ParseTimestamp("2026-11-21T08:00:00Z"));
  StoreOptions o;
  o.path = dir / "faceatt.db";
  o.clock = &clock;
  AttendanceConfig config;
  constexpr int kConnections = 4, kTries = 5;
  std::vector<std::unique_ptr<SqliteStore>> stores;
  std::vector<std::unique_ptr<AttendanceRecorder>> recorders;
  for (int i = 0; i < kConnections; ++i) {
    stores.push_back(std::move(OpenSqliteStore(o)).value());
    recorders.push_back(std::make_unique<AttendanceRecorder>(stores.back().get(), config, &clock));
  }
  std::atomic<int> recorded{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kConnections; ++i)
    threads.emplace_back([&, i] {
      Attempt a;
      a.type = "IN";
      a.device_id = "door" + std::to_string(i);
      for (int k = 0; k < kTries; ++k) {
        auto d = recorders[i]->RecordSuccess("E1", 0.3, a);
        ASSERT_TRUE(d.ok()) << d.status().ToString();
        (d->recorded ? recorded : refused)++;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(recorded.load(), 1);
  EXPECT_EQ(refused.load(), kConnections * kTries - 1);
}

// Webhook rows go in with the success or unknown row they announce; a refusal
// or a failure announces nothing; a store that fails keeps neither.
TEST_F(AttendanceTest, EventsAreStoredWithTheirRecord) {
  auto r = Recorder();
  int calls = 0;
  Attempt a = With("IN");
  a.events = [&](const AttendanceRecord& row) {
    ++calls;
    OutboxItem item;
    item.url = "http://127.0.0.1:9/hook";
    item.event = row.status;
    item.body = row.employee_id.value_or("?") + " " + row.type;
    return std::vector<OutboxItem>{item, item};  // two receivers
  };
  ASSERT_TRUE(r.RecordSuccess("E1", 0.3, a)->recorded);
  EXPECT_EQ(*store_->CountOutbox(""), 2);
  auto rows = store_->ListOutbox("", 10);
  EXPECT_EQ(rows->front().body, "E1 IN");
  EXPECT_EQ(rows->front().event, kStatusSuccess);
  EXPECT_FALSE(r.RecordSuccess("E1", 0.3, a)->recorded);  // cooldown: no event
  ASSERT_TRUE(r.RecordFailure(kNoFace, std::nullopt, a).ok());
  EXPECT_EQ(*store_->CountOutbox(""), 2);
  ASSERT_TRUE(r.RecordUnknown(0.7, a).ok());
  EXPECT_EQ(*store_->CountOutbox(""), 4);
  EXPECT_EQ(calls, 2);

  testing::FailingStore failing(store_.get());
  failing.writes_left = 0;
  AttendanceRecorder broken(&failing, config_, &clock_);
  clock_.Advance(3600'000);
  EXPECT_FALSE(broken.RecordSuccess("E2", 0.3, a).ok());
  EXPECT_EQ(*store_->CountOutbox(""), 4);
  AttendanceQuery q;
  q.employee_id = "E2";
  EXPECT_EQ(*store_->CountAttendance(q), 0);
}

Identification OneFace(bool matched, const std::string& reason = "", double distance = 0.3) {
  FaceIdentity f;
  f.box = {10, 10, 110, 110};
  f.matched = matched;
  f.employee_id = matched ? "E1" : "";
  f.name = matched ? "Ann" : "";
  f.distance = static_cast<float>(distance);
  f.threshold = 0.42f;
  f.reason = matched ? "" : reason;
  Identification id;
  id.faces.push_back(f);
  return id;
}

TEST_F(AttendanceTest, IdentificationRulesWriteOneRowEach) {
  auto r = Recorder();
  Identification none;
  EXPECT_EQ(r.RecordIdentification(none, With("IN"))->reason, kNoFace);
  Identification two = OneFace(true);
  two.faces.push_back(two.faces.front());
  auto multi = r.RecordIdentification(two, With("IN"));
  EXPECT_EQ(multi->reason, kMultiFace);
  EXPECT_EQ(multi->faces, 2);
  auto blurry = OneFace(false, kBadQuality, -1);
  blurry.faces[0].detail = "too_blurry";
  EXPECT_EQ(r.RecordIdentification(blurry, With("IN"))->reason, kBadQuality);
  auto stranger = r.RecordIdentification(OneFace(false, kUnknown, 0.7), With("IN"));
  EXPECT_EQ(stranger->reason, kUnknown);
  EXPECT_NEAR(*stranger->min_distance, 0.7, 1e-6);
  auto outside =
      r.RecordIdentification(OneFace(true), With("IN"), [](const Box&) { return false; });
  EXPECT_EQ(outside->reason, kOutOfArea);
  auto ok =
      r.RecordIdentification(OneFace(true), With("IN"), [](const Box& b) { return b.left == 10; });
  EXPECT_TRUE(ok->success);
  EXPECT_EQ(ok->decision.type, "IN");
  auto twice = r.RecordIdentification(OneFace(true), With("IN"));
  EXPECT_FALSE(twice->success);
  EXPECT_EQ(twice->reason, kAlreadyRecorded);

  auto rows = store_->QueryAttendance([] {
    AttendanceQuery q;
    q.newest_first = false;
    return q;
  }());
  ASSERT_EQ(rows->size(), 7u);
  const char* reasons[] = {kNoFace,    kMultiFace, kBadQuality,     kUnknown,
                           kOutOfArea, "",         kAlreadyRecorded};
  for (size_t i = 0; i < rows->size(); ++i) EXPECT_EQ((*rows)[i].reason, reasons[i]) << i;
  EXPECT_EQ((*rows)[3].status, kStatusUnknown);
  EXPECT_EQ((*rows)[5].status, kStatusSuccess);
}

}  // namespace
}  // namespace faceatt
