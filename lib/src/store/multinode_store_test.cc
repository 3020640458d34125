// What several processes on one database rely on (issue 17), on both
// backends: two handles on one database stand for two nodes.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "faceatt/store.h"
#include "support/backends.h"
#include "support/testing.h"

namespace faceatt {
namespace {

class MultiNodeStoreTest : public testing::BothBackendsTest {};
FACEATT_BOTH_BACKENDS(MultiNodeStoreTest);

StoredEmbedding Emb(float x) {
  StoredEmbedding e;
  e.model_id = "m:1";
  e.vector.fill(x);
  return e;
}

int64_t Version(PeopleStore& s) {
  auto v = s.GalleryVersion();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : -1;
}

TEST_P(MultiNodeStoreTest, EveryGalleryChangeRaisesTheVersionAndAttendanceDoesNot) {
  auto s = Open();
  ASSERT_TRUE(s);
  int64_t v = Version(*s);
  auto changed = [&](const char* what) {
    const int64_t now = Version(*s);
    EXPECT_GT(now, v) << what;
    v = now;
  };
  ASSERT_TRUE(s->CreateUser({"", "Ann", ""}, {Emb(0.1f)}).ok());
  changed("enroll");
  ASSERT_TRUE(s->AddEmbeddings("EMP001", {Emb(0.2f)}).ok());
  changed("another photo");
  ASSERT_TRUE(s->UpdateUser("EMP001", "Ann B", std::nullopt, std::nullopt).ok());
  changed("rename");
  ASSERT_TRUE(s->UpdateUser("EMP001", std::nullopt, std::nullopt, false).ok());
  changed("deactivate");
  auto embs = s->ListEmbeddings("EMP001");
  ASSERT_TRUE(embs.ok() && !embs->empty());
  ASSERT_TRUE(s->ReplaceEmbedding(embs->front().id, Emb(0.3f)).ok());
  changed("re-embed");
  ASSERT_TRUE(s->SetGroupMembership("EMP001", "night", true).ok());
  changed("group");
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("EMP001")).ok());
  EXPECT_EQ(Version(*s), v) << "attendance is not a gallery change";
  ASSERT_TRUE(s->DeleteUser("EMP001", false).ok());
  changed("delete");
  ASSERT_TRUE(s->CreateUser({"", "Bob", ""}, {Emb(0.4f)}).ok());
  changed("enroll");
  ASSERT_TRUE(s->DeleteAllUsers().ok());
  changed("reset");
  // It never goes back, even after reopening.
  s.reset();
  s = Open();
  EXPECT_EQ(Version(*s), v);
}

TEST_P(MultiNodeStoreTest, WaitForGalleryChangeSeesAnotherHandlesChange) {
  auto node = Open();
  auto cli = Open();
  ASSERT_TRUE(node && cli);
  const int64_t v = Version(*node);
  // Nothing changes: it returns the same version after the timeout.
  auto same = node->WaitForGalleryChange(v, 150);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, v);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_TRUE(cli->CreateUser({"", "Ann", ""}, {Emb(0.1f)}).ok());
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto changed = node->WaitForGalleryChange(v, 5000);
  const auto waited = std::chrono::steady_clock::now() - t0;
  writer.join();
  ASSERT_TRUE(changed.ok());
  EXPECT_GT(*changed, v);
  EXPECT_LT(waited, std::chrono::seconds(2)) << "the change is seen well before the timeout";
}

OutboxItem Event(const std::string& key = "", int64_t cooldown_ms = 0) {
  OutboxItem o;
  o.url = "http://127.0.0.1:9/hook";
  o.event = "attendance.recognized";
  o.body = "{}";
  o.cooldown_key = key;
  o.cooldown_ms = cooldown_ms;
  return o;
}

// Stores a success row for EMP001 with `events`; returns how many were stored.
int Record(AttendanceStore& s, std::vector<OutboxItem> events, int64_t ts_ms) {
  int stored = -1;
  auto id = s.AddAttendanceAfter(std::nullopt, [&](const auto&) {
    AttendanceStore::AttendanceWrite w{
        testing::AttendanceRow("EMP001", "IN", kStatusSuccess, ts_ms), events, &stored};
    return Result<AttendanceStore::AttendanceWrite>(w);
  });
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return stored;
}

TEST_P(MultiNodeStoreTest, OutboxLeasesGiveEachEventToOneNodeAndADeadNodesToAnother) {
  ManualClock clock(1'700'000'000'000);
  auto a = Open(&clock);
  auto b = Open(&clock);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateUser({"", "Ann", ""}, {}).ok());
  const int64_t now = clock.NowMillis();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Record(*a, {Event()}, now), 1);
  constexpr int64_t kLease = 60'000;
  auto claimed_a = a->ClaimOutbox(now, 3, "node-a", kLease);
  auto claimed_b = b->ClaimOutbox(now, 3, "node-b", kLease);
  ASSERT_TRUE(claimed_a.ok() && claimed_b.ok());
  EXPECT_EQ(claimed_a->size(), 3u);
  ASSERT_EQ(claimed_b->size(), 1u) << "only the row node-a does not hold";
  std::set<int64_t> ids;
  for (const auto& o : *claimed_a) ids.insert(o.id);
  EXPECT_EQ(ids.count(claimed_b->front().id), 0u);
  // node-b delivers its row: the update ends the lease and the row is done.
  OutboxItem done = claimed_b->front();
  done.status = kOutboxDelivered;
  done.attempts = 1;
  done.delivered_ms = now;
  ASSERT_TRUE(b->UpdateOutbox(done).ok());
  // A failed attempt ends the lease too: the row is anyone's at its next attempt.
  OutboxItem retry = claimed_a->front();
  retry.attempts = 1;
  retry.next_attempt_ms = now + 1000;
  ASSERT_TRUE(a->UpdateOutbox(retry).ok());
  EXPECT_TRUE(b->ClaimOutbox(now, 10, "node-b", kLease)->empty()) << "node-a holds the rest";
  auto after_retry = b->ClaimOutbox(now + 1000, 10, "node-b", kLease);
  ASSERT_EQ(after_retry->size(), 1u);
  EXPECT_EQ(after_retry->front().id, retry.id);
  // node-a dies holding two rows: node-b gets them once the lease has run out.
  EXPECT_TRUE(b->ClaimOutbox(now + kLease - 1, 10, "node-b", kLease)->size() <= 1u);
  auto orphans = b->ClaimOutbox(now + kLease, 10, "node-b", kLease);
  ASSERT_TRUE(orphans.ok());
  std::set<int64_t> orphan_ids;
  for (const auto& o : *orphans) orphan_ids.insert(o.id);
  EXPECT_EQ(orphan_ids.count(claimed_a->at(1).id), 1u);
  EXPECT_EQ(orphan_ids.count(claimed_a->at(2).id), 1u);
}

TEST_P(MultiNodeStoreTest, WebhookCooldownIsSharedByEveryHandle) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateUser({"", "Ann", ""}, {}).ok());
  constexpr int64_t kCooldown = 60'000;
  const int64_t t = 1'700'000'000'000;
  // Two URLs announce one event: both rows are stored, or neither.
  EXPECT_EQ(Record(*a, {Event("EMP001", kCooldown), Event("EMP001", kCooldown)}, t), 2);
  EXPECT_EQ(Record(*b, {Event("EMP001", kCooldown)}, t + 5'000), 0) << "the other node's event";
  EXPECT_EQ(Record(*b, {Event("unknown:door", kCooldown)}, t + 5'000), 1) << "another key";
  EXPECT_EQ(Record(*b, {Event("EMP001", kCooldown)}, t + kCooldown), 1) << "cooldown over";
  EXPECT_EQ(Record(*a, {Event()}, t + kCooldown + 1), 1) << "no key: always";
  EXPECT_EQ(*a->CountOutbox(kOutboxPending), 5);
  // Rows are written with their attendance row: a suppressed event still records.
  AttendanceQuery all;
  all.limit = 0;
  EXPECT_EQ(*a->CountAttendance(all), 5);
}

}  // namespace
}  // namespace faceatt
