// The Store contract (store.h) checked the same way on every backend: SQLite
// (a file in a temporary folder) and PostgreSQL (a fresh database on the
// throw-away test cluster, tests/support/postgres.h). What only one backend
// has (SQLite's file, WAL and migrations; PostgreSQL's URL, leases and
// cross-process locks) is tested beside it: sqlite_store_test.cc,
// postgres_store_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "faceatt/store.h"
#include "support/backends.h"
#include "support/testing.h"

namespace faceatt {
namespace {

StoredEmbedding Emb(float x, const std::string& sha = "") { return testing::EmbeddingRow(x, sha); }

class StoreConformanceTest : public testing::BothBackendsTest {};
FACEATT_BOTH_BACKENDS(StoreConformanceTest);

TEST_P(StoreConformanceTest, GeneratesIdsAndNeverReusesThem) {
  auto s = Open();
  auto a = s->CreateUser({"", "Ann", ""}, {Emb(0.1f, "a")});
  auto b = s->CreateUser({"", "Bob", "Ops"}, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->employee_id, "EMP001");
  EXPECT_EQ(b->employee_id, "EMP002");
  EXPECT_EQ(a->embeddings, 1);
  ASSERT_TRUE(s->DeleteUser("EMP002", false).ok());
  auto c = s->CreateUser({"", "Cy", ""}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->employee_id, "EMP003");
  // An explicit id that is in the generator's way is skipped over.
  ASSERT_TRUE(s->CreateUser({"EMP004", "Dee", ""}, {}).ok());
  EXPECT_EQ(s->CreateUser({"", "Eve", ""}, {})->employee_id, "EMP005");
  // Deleting the newest does not hand its id out again, even after reopening.
  ASSERT_TRUE(s->DeleteUser("EMP005", false).ok());
  s.reset();
  s = Open();
  EXPECT_EQ(s->CreateUser({"", "Fay", ""}, {})->employee_id, "EMP006");
}

TEST_P(StoreConformanceTest, ContinuesIdsAfterAnImportedNumberAndNeverGoesBack) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser({"EMP001", "Ann", ""}, {}).ok());
  ASSERT_TRUE(s->CreateUser({"EMP040", "Bob", ""}, {}).ok());
  ASSERT_TRUE(s->ContinueIdsAfter(40).ok());
  EXPECT_EQ(s->CreateUser({"", "Cy", ""}, {})->employee_id, "EMP041");
  ASSERT_TRUE(s->ContinueIdsAfter(7).ok());  // lower: no effect
  EXPECT_EQ(s->CreateUser({"", "Dee", ""}, {})->employee_id, "EMP042");
  EXPECT_EQ(s->ContinueIdsAfter(-1).code(), Code::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ValidatesIdsAndNames) {
  auto s = Open();
  EXPECT_EQ(s->CreateUser({"../x", "A", ""}, {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateUser({"", "", ""}, {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateUser({"", "bad\nname", ""}, {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateUser({"", std::string("\xff\xfe", 2), ""}, {}).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(s->CreateUser({"", "홍길동", "개발"}, {}).ok());
  ASSERT_TRUE(s->CreateUser({"X1", "A", ""}, {}).ok());
  EXPECT_EQ(s->CreateUser({"X1", "B", ""}, {}).status().code(), Code::kAlreadyExists);
}

TEST_P(StoreConformanceTest, CreateIsAllOrNothing) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser({"E1", "First", ""}, {Emb(0.1f, "x")}).ok());
  // Taken id: the embeddings of the failed person must not appear anywhere.
  EXPECT_FALSE(s->CreateUser({"E1", "Second", ""}, {Emb(0.2f, "y"), Emb(0.3f, "z")}).ok());
  EXPECT_EQ(*s->CountEmbeddings(), 1);
  EXPECT_EQ(*s->CountUsers(), 1);
  EXPECT_FALSE(s->AddEmbeddings("nobody", {Emb(0.4f)}).ok());
  EXPECT_EQ(*s->CountEmbeddings(), 1);
}

TEST_P(StoreConformanceTest, EmbeddingsRoundTripByModel) {
  auto s = Open();
  StoredEmbedding other = Emb(0.5f, "o");
  other.model_id = "m:2";
  ASSERT_TRUE(s->CreateUser({"A", "Ann", ""}, {Emb(0.25f, "a1"), Emb(0.5f, "a2")}).ok());
  ASSERT_TRUE(s->CreateUser({"B", "Bob", ""}, {other}).ok());
  auto m1 = s->LoadEmbeddings("m:1");
  ASSERT_TRUE(m1.ok());
  ASSERT_EQ(m1->size(), 2u);
  EXPECT_EQ((*m1)[0].employee_id, "A");
  EXPECT_FLOAT_EQ((*m1)[1].vector[127], 0.5f);
  EXPECT_EQ((*m1)[0].source_path, "photos/a1.jpg");
  EXPECT_EQ(s->LoadEmbeddings("")->size(), 3u);
  EXPECT_EQ(*s->UsersNeedingReenrollment("m:1"), std::vector<std::string>{"B"});
  EXPECT_EQ(**s->FindImage("a2", "m:1"), "A");
  EXPECT_FALSE(s->FindImage("a2", "m:2")->has_value());
  // Inactive people are left out of the gallery.
  ASSERT_TRUE(s->UpdateUser("A", std::nullopt, std::nullopt, false).ok());
  EXPECT_TRUE(s->LoadEmbeddings("m:1")->empty());
}

TEST_P(StoreConformanceTest, ListsOnePersonsEmbeddingsOfEveryModel) {
  auto s = Open();
  StoredEmbedding newer = Emb(0.75f, "a3");
  newer.model_id = "m:2";
  newer.thumbnail_path = "thumbnails/A/3.jpg";
  ASSERT_TRUE(s->CreateUser({"A", "Ann", ""}, {Emb(0.25f, "a1"), Emb(0.5f, "a2")}).ok());
  ASSERT_TRUE(s->CreateUser({"B", "Bob", ""}, {Emb(0.1f, "b")}).ok());
  ASSERT_TRUE(s->AddEmbeddings("A", {newer}).ok());
  ASSERT_TRUE(s->CreateUser({"C", "Cy", ""}, {}).ok());
  auto a = s->ListEmbeddings("A");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->size(), 3u);  // both models, oldest first, nobody else's
  for (const auto& e : *a) EXPECT_EQ(e.employee_id, "A");
  EXPECT_EQ((*a)[0].source_sha256, "a1");
  EXPECT_EQ((*a)[2].model_id, "m:2");
  EXPECT_EQ((*a)[2].thumbnail_path, "thumbnails/A/3.jpg");
  EXPECT_FLOAT_EQ((*a)[1].vector[0], 0.5f);
  EXPECT_EQ(s->ListEmbeddings("B")->size(), 1u);
  EXPECT_TRUE(s->ListEmbeddings("C")->empty());
  EXPECT_EQ(s->ListEmbeddings("nobody").status().code(), Code::kNotFound);
  // Unlike the gallery's LoadEmbeddings, an inactive person's are still listed.
  ASSERT_TRUE(s->UpdateUser("A", std::nullopt, std::nullopt, false).ok());
  EXPECT_EQ(s->ListEmbeddings("A")->size(), 3u);
  ASSERT_TRUE(s->DeleteUser("A", false).ok());
  EXPECT_EQ(s->ListEmbeddings("A").status().code(), Code::kNotFound);
}

TEST_P(StoreConformanceTest, DeletesOnePhotoButNeverTheLast) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser({"A", "Ann", ""}, {Emb(0.1f, "a1"), Emb(0.2f, "a2")}).ok());
  ASSERT_TRUE(s->CreateUser({"B", "Bob", ""}, {Emb(0.3f, "b")}).ok());
  auto a = s->ListEmbeddings("A");
  auto b = s->ListEmbeddings("B");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 2u);
  int64_t before = *s->GalleryVersion();
  // Another person's photo, an unknown photo, an unknown person: not found, nothing changes.
  EXPECT_EQ(s->DeleteEmbedding("A", (*b)[0].id).status().code(), Code::kNotFound);
  EXPECT_EQ(s->DeleteEmbedding("A", 999999).status().code(), Code::kNotFound);
  EXPECT_EQ(s->DeleteEmbedding("Z", (*a)[0].id).status().code(), Code::kNotFound);
  auto gone = s->DeleteEmbedding("A", (*a)[0].id);
  ASSERT_TRUE(gone.ok()) << gone.status().ToString();
  EXPECT_EQ(gone->id, (*a)[0].id);
  EXPECT_EQ(gone->source_sha256, "a1");
  EXPECT_GT(*s->GalleryVersion(), before);
  auto left = s->ListEmbeddings("A");
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, (*a)[1].id);
  // The last one stays: a person without a photo could never be identified.
  EXPECT_EQ(s->DeleteEmbedding("A", (*a)[1].id).status().code(), Code::kConflict);
  EXPECT_EQ(s->ListEmbeddings("A")->size(), 1u);
  EXPECT_EQ(*s->CountEmbeddings(), 2);
}

TEST_P(StoreConformanceTest, UpdateAndDeleteKeepAttendanceUnlessPurged) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser({"A", "Ann", ""}, {Emb(0.1f, "a")}).ok());
  ASSERT_TRUE(s->CreateUser({"B", "Bob", ""}, {Emb(0.1f, "b")}).ok());
  ASSERT_TRUE(s->UpdateUser("A", std::string("Ann Lee"), std::string("R&D"), std::nullopt).ok());
  EXPECT_EQ(s->GetUser("A")->name, "Ann Lee");
  EXPECT_EQ(s->GetUser("A")->department, "R&D");
  EXPECT_EQ(s->UpdateUser("Z", std::string("x"), std::nullopt, std::nullopt).code(),
            Code::kNotFound);
  for (const char* who : {"A", "B"})
    ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow(who)).ok());
  auto gone = s->DeleteUser("A", false);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->size(), 1u);
  EXPECT_EQ(s->GetUser("A").status().code(), Code::kNotFound);
  EXPECT_EQ(*s->CountAttendance({}), 2);
  ASSERT_TRUE(s->DeleteUser("B", true).ok());
  EXPECT_EQ(*s->CountAttendance({}), 1);
  EXPECT_EQ(*s->CountEmbeddings(), 0);
}

TEST_P(StoreConformanceTest, AttendanceFiltersAndOrder) {
  ManualClock clock(1'700'000'000'000);
  auto s = Open(&clock);
  auto add = [&](const char* who, const char* type, const char* status) {
    AttendanceRecord r;
    if (who) r.employee_id = who;
    r.type = type;
    r.status = status;
    r.distance = 0.3;
    ASSERT_TRUE(s->AddAttendance(r).ok());
    clock.Advance(60'000);
  };
  add("A", "IN", kStatusSuccess);
  add(nullptr, "IN", kStatusUnknown);
  add("A", "OUT", kStatusSuccess);
  add("B", "IN", kStatusSuccess);
  AttendanceQuery q;
  EXPECT_EQ(s->QueryAttendance(q)->size(), 4u);
  EXPECT_EQ(s->QueryAttendance(q)->front().employee_id, "B");  // newest first
  q.employee_id = "A";
  EXPECT_EQ(s->QueryAttendance(q)->size(), 2u);
  q = {};
  q.status = kStatusUnknown;
  auto unknown = s->QueryAttendance(q);
  ASSERT_EQ(unknown->size(), 1u);
  EXPECT_FALSE(unknown->front().employee_id.has_value());
  q = {};
  q.from_ms = 1'700'000'000'000 + 60'000;
  q.to_ms = 1'700'000'000'000 + 180'000;
  EXPECT_EQ(s->QueryAttendance(q)->size(), 2u);
  EXPECT_EQ(*s->CountAttendance(q), 2);
  q = {};
  q.limit = 1;
  q.offset = 1;
  q.newest_first = false;
  auto page = s->QueryAttendance(q);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_FALSE(page->front().employee_id.has_value());
  EXPECT_EQ(page->front().ts_server_ms, 1'700'000'000'000 + 60'000);
  AttendanceRecord bad;
  bad.status = "maybe";
  EXPECT_EQ(s->AddAttendance(bad).status().code(), Code::kInvalidArgument);
}

// Issue 14: rows keep the name as of the event; delete, reset and a rename
// change nothing kept, and the current name shows beside it.
TEST_P(StoreConformanceTest, HistoryKeepsNamesThroughRenameDeleteAndReset) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser({"EMP001", "Ann Lee", ""}, {}).ok());
  ASSERT_TRUE(s->CreateUser({"EMP002", "홍길동", ""}, {}).ok());
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("EMP001", "IN", kStatusSuccess, 1000)).ok());
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("EMP002", "IN", kStatusSuccess, 2000)).ok());
  ASSERT_TRUE(s->UpdateUser("EMP001", std::string("Ann Park"), std::nullopt, std::nullopt).ok());
  AttendanceQuery all;
  all.newest_first = false;
  auto rows = s->QueryAttendance(all);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].name_at_event, "Ann Lee");
  EXPECT_EQ((*rows)[0].current_name, "Ann Park");
  ASSERT_TRUE(s->DeleteUser("EMP002", false).ok());
  ASSERT_TRUE(s->DeleteAllUsers().ok());
  rows = s->QueryAttendance(all);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].name_at_event, "Ann Lee");
  EXPECT_EQ((*rows)[1].name_at_event, "홍길동");
  EXPECT_FALSE((*rows)[0].current_name.has_value());
  EXPECT_FALSE((*rows)[1].current_name.has_value());
}

// A retired id is refused; re-used on purpose it is a new generation, and the
// old rows stay with the old person.
TEST_P(StoreConformanceTest, RetiredIdIsRefusedAndReuseKeepsOldRowsApart) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser({"EMP002", "Old Hand", ""}, {}).ok());
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("EMP002", "IN", kStatusSuccess, 1000)).ok());
  ASSERT_TRUE(s->DeleteUser("EMP002", false).ok());
  EXPECT_TRUE(*s->IsRetiredId("EMP002"));
  auto refused = s->CreateUser({"EMP002", "Brand New Hire", ""}, {});
  EXPECT_EQ(refused.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(refused.status().reason(), "retired_id");
  EXPECT_EQ(s->GetUser("EMP002").status().code(), Code::kNotFound);  // nothing changed
  NewUser again{"EMP002", "Brand New Hire", ""};
  again.reuse_retired_id = true;
  ASSERT_TRUE(s->CreateUser(again, {}).ok());
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("EMP002", "IN", kStatusSuccess, 2000)).ok());
  AttendanceQuery q;
  q.employee_id = "EMP002";
  q.newest_first = false;
  auto rows = s->QueryAttendance(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].name_at_event, "Old Hand");
  EXPECT_EQ((*rows)[0].generation, 1);
  EXPECT_FALSE((*rows)[0].current_name.has_value());  // not the new hire's
  EXPECT_EQ((*rows)[1].generation, 2);
  EXPECT_EQ((*rows)[1].current_name, "Brand New Hire");
  // Deleted and re-used once more: generation 3.
  ASSERT_TRUE(s->DeleteUser("EMP002", false).ok());
  ASSERT_TRUE(s->CreateUser(again, {}).ok());
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("EMP002", "IN", kStatusSuccess, 3000)).ok());
  rows = s->QueryAttendance(q);
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[2].generation, 3);
}

// Add, void and amend each write one audit row; refused ones change nothing.
TEST_P(StoreConformanceTest, CorrectionsAreAuditedAndNothingIsDeleted) {
  ManualClock clock(5000);
  auto s = Open(&clock);
  ASSERT_TRUE(s->CreateUser({"EMP001", "Ann", ""}, {}).ok());
  auto in = s->AddAttendance(testing::AttendanceRow("EMP001", "IN", kStatusSuccess, 1000));
  ASSERT_TRUE(in.ok());
  const Correction by{"cli:hr", "forgot to check out"};
  AttendanceRecord out = testing::AttendanceRow("EMP001", "OUT", kStatusSuccess, 4000);
  auto added = s->AddCorrectedAttendance(out, by);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_TRUE(s->AmendAttendance(*in, std::nullopt, 1500, {"cli:hr", "clock was slow"}).ok());
  ASSERT_TRUE(s->VoidAttendance(*added, {"key:admin:1234", "entered twice"}).ok());

  // Refused: each leaves the database as it was.
  const auto before = s->QueryAttendance({.include_voided = true});
  EXPECT_EQ(s->VoidAttendance(*added, by).code(), Code::kConflict);
  EXPECT_EQ(s->VoidAttendance(999, by).code(), Code::kNotFound);
  EXPECT_EQ(s->VoidAttendance(*in, {"cli:hr", ""}).code(), Code::kInvalidArgument);
  EXPECT_EQ(s->AmendAttendance(*in, "SIDEWAYS", std::nullopt, by).code(), Code::kInvalidArgument);
  EXPECT_EQ(s->AmendAttendance(*in, std::nullopt, std::nullopt, by).code(), Code::kInvalidArgument);
  EXPECT_EQ(s->AddCorrectedAttendance(testing::AttendanceRow("EMP404", "IN", kStatusSuccess, 1), by)
                .status()
                .code(),
            Code::kNotFound);
  const auto after = s->QueryAttendance({.include_voided = true});
  ASSERT_EQ(before->size(), after->size());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_EQ((*before)[i].ts_server_ms, (*after)[i].ts_server_ms);
    EXPECT_EQ((*before)[i].voided, (*after)[i].voided);
    EXPECT_EQ((*before)[i].corrections, (*after)[i].corrections);
  }

  auto amended = s->GetAttendance(*in);
  EXPECT_EQ(amended->ts_server_ms, 1500);
  EXPECT_EQ(amended->corrections, 1);
  auto trail = s->AttendanceAudit(*in);
  ASSERT_EQ(trail->size(), 1u);
  EXPECT_EQ((*trail)[0].action, kAuditAmend);
  EXPECT_EQ((*trail)[0].actor, "cli:hr");
  EXPECT_EQ((*trail)[0].reason, "clock was slow");
  EXPECT_EQ((*trail)[0].at_ms, 5000);
  EXPECT_NE((*trail)[0].old_value.find(FormatUtc(1000)), std::string::npos);
  EXPECT_NE((*trail)[0].new_value.find(FormatUtc(1500)), std::string::npos);
  auto voided = s->AttendanceAudit(*added);
  ASSERT_EQ(voided->size(), 2u);
  EXPECT_EQ((*voided)[0].action, kAuditAdd);
  EXPECT_EQ((*voided)[1].action, kAuditVoid);
  EXPECT_EQ((*voided)[1].actor, "key:admin:1234");
  // The voided row is kept but left out unless asked.
  EXPECT_EQ(s->QueryAttendance({})->size(), 1u);
  EXPECT_EQ(after->size(), 2u);
  EXPECT_TRUE(s->GetAttendance(*added)->voided);
}

TEST_P(StoreConformanceTest, GroupsAndTheirSnapshotsOnRows) {
  auto s = Open();
  ASSERT_TRUE(s->CreateUser({"E1", "Kim", "Sales"}, {}).ok());
  ASSERT_TRUE(s->CreateUser({"E2", "Lee", ""}, {}).ok());
  ASSERT_TRUE(s->SetGroupMembership("E1", "Sales", true).ok());
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("E1", "IN", kStatusSuccess, 1000)).ok());
  ASSERT_TRUE(s->SetGroupMembership("E2", "Class 3A", true).ok());
  ASSERT_TRUE(s->SetGroupMembership("E2", "Class 3A", true).ok());  // twice: no change
  ASSERT_TRUE(s->SetGroupMembership("E1", "Class 3A", true).ok());
  ASSERT_TRUE(s->SetGroupMembership("E1", "Sales", false).ok());
  EXPECT_EQ(s->SetGroupMembership("E9", "Class 3A", true).code(), Code::kNotFound);
  EXPECT_EQ(s->SetGroupMembership("E1", "", true).code(), Code::kInvalidArgument);
  ASSERT_TRUE(s->SetGroupMembership("E1", "B", true).ok());
  ASSERT_TRUE(s->DeleteUser("E2", false).ok());
  EXPECT_EQ(*s->ListGroups(),
            (std::map<std::string, std::vector<std::string>>{{"B", {"E1"}}, {"Class 3A", {"E1"}}}));
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("E1", "OUT", kStatusSuccess, 2000)).ok());
  AttendanceQuery q;
  q.newest_first = false;
  auto rows = s->QueryAttendance(q);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].groups, "Sales");
  EXPECT_EQ((*rows)[1].groups, "B;Class 3A");  // sorted, ';'-separated
  q.group = "Class 3A";
  EXPECT_EQ(s->QueryAttendance(q)->size(), 1u);
  q.group = "Class";  // a member, not a substring
  EXPECT_EQ(*s->CountAttendance(q), 0);
}

// The cooldown's read-decide-write: rows the query selects reach the decider,
// the record and its webhook rows are stored together, a refusal stores nothing.
TEST_P(StoreConformanceTest, AddAttendanceAfterStoresTheDecisionWithItsEvents) {
  ManualClock clock(1'700'000'000'000);
  auto s = Open(&clock);
  ASSERT_TRUE(s->CreateUser({"E1", "Kim", ""}, {}).ok());
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("E1", "IN", kStatusSuccess, 0)).ok());
  AttendanceQuery recent;
  recent.employee_id = "E1";
  size_t seen = 99;
  auto id = s->AddAttendanceAfter(recent, [&](const std::vector<AttendanceRecord>& rows) {
    seen = rows.size();
    AttendanceStore::AttendanceWrite w{testing::AttendanceRow("E1", "OUT"), {}};
    OutboxItem event;
    event.url = "http://127.0.0.1:9/hook";
    event.event = "attendance.recognized";
    event.body = R"({"employee_id":"E1"})";
    w.outbox.push_back(event);
    return Result<AttendanceStore::AttendanceWrite>(w);
  });
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(s->GetAttendance(*id)->type, "OUT");
  EXPECT_EQ(*s->CountOutbox(kOutboxPending), 1);
  auto refused = s->AddAttendanceAfter(recent, [](const std::vector<AttendanceRecord>&) {
    return Result<AttendanceStore::AttendanceWrite>(Status::Conflict("cooldown"));
  });
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_EQ(*s->CountAttendance({}), 2);
  EXPECT_EQ(*s->CountOutbox(""), 1);
}

// Two openings of one database (two processes, or two nodes) deciding for the
// same person at once: the second sees the first's row, so a cooldown holds.
TEST_P(StoreConformanceTest, ConcurrentDecisionsForOnePersonAreSerialised) {
  auto a = Open(), b = Open();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->CreateUser({"E1", "Kim", ""}, {}).ok());
  AttendanceQuery recent;
  recent.employee_id = "E1";
  recent.status = kStatusSuccess;
  std::atomic<int> recorded{0};
  auto decide = [&](const std::vector<AttendanceRecord>& rows) {
    AttendanceRecord r = testing::AttendanceRow("E1", "IN");
    if (!rows.empty()) r.status = kStatusFailed, r.reason = "already_recorded";
    // Widen the window between the read and the write.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (rows.empty()) ++recorded;
    return Result<AttendanceStore::AttendanceWrite>(AttendanceStore::AttendanceWrite{r, {}});
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      Store* s = t % 2 ? b.get() : a.get();
      for (int i = 0; i < 3; ++i) EXPECT_TRUE(s->AddAttendanceAfter(recent, decide).ok());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(recorded.load(), 1);
  AttendanceQuery successes;
  successes.status = kStatusSuccess;
  EXPECT_EQ(*a->CountAttendance(successes), 1);
  EXPECT_EQ(*a->CountAttendance({}), 18);
}

// Two openings creating people at once never hand out one id twice.
TEST_P(StoreConformanceTest, ConcurrentCreatesGetDistinctIds) {
  auto a = Open(), b = Open();
  ASSERT_TRUE(a && b);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Store* s = t % 2 ? b.get() : a.get();
      for (int i = 0; i < 5; ++i) {
        auto u = s->CreateUser({"", "P", ""}, {Emb(0.1f * t, std::to_string(t * 10 + i))});
        EXPECT_TRUE(u.ok()) << u.status().ToString();
      }
    });
  for (auto& t : threads) t.join();
  auto users = a->ListUsers();
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 20u);
  EXPECT_EQ(users->front().employee_id, "EMP001");
  EXPECT_EQ(users->back().employee_id, "EMP020");
}

TEST_P(StoreConformanceTest, OutboxDueUpdateAndList) {
  ManualClock clock(1'700'000'000'000);
  auto s = Open(&clock);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(s->AddAttendanceAfter(std::nullopt, [&](const std::vector<AttendanceRecord>&) {
                   OutboxItem e;
                   e.url = "http://127.0.0.1:9/hook";
                   e.event = "attendance.unknown";
                   e.body = "{\"n\":" + std::to_string(i) + "}";
                   if (i == 2) e.next_attempt_ms = clock.NowMillis() + 60'000;  // not yet due
                   return Result<AttendanceStore::AttendanceWrite>(AttendanceStore::AttendanceWrite{
                       testing::AttendanceRow(nullptr, "IN", kStatusUnknown), {e}});
                 }).ok());
  auto due = s->DueOutbox(clock.NowMillis(), 10);
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  ASSERT_EQ(due->size(), 2u);
  EXPECT_LT((*due)[0].id, (*due)[1].id);  // oldest first
  EXPECT_EQ((*due)[0].body, "{\"n\":0}");
  OutboxItem done = (*due)[0];
  done.status = kOutboxDelivered;
  done.attempts = 1;
  done.last_http_status = 200;
  done.delivered_ms = clock.NowMillis();
  ASSERT_TRUE(s->UpdateOutbox(done).ok());
  OutboxItem retry = (*due)[1];
  retry.attempts = 1;
  retry.last_error = "connection refused";
  retry.next_attempt_ms = clock.NowMillis() + 30'000;
  ASSERT_TRUE(s->UpdateOutbox(retry).ok());
  EXPECT_EQ(s->UpdateOutbox(OutboxItem{.id = 999}).code(), Code::kNotFound);
  EXPECT_EQ(*s->CountOutbox(kOutboxDelivered), 1);
  EXPECT_EQ(*s->CountOutbox(kOutboxPending), 2);
  clock.Advance(90'000);
  due = s->DueOutbox(clock.NowMillis(), 10);
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].last_error, "connection refused");
  EXPECT_EQ((*due)[0].attempts, 1);
  auto listed = s->ListOutbox("", 0);
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_GT((*listed)[0].id, (*listed)[2].id);  // newest first
  EXPECT_EQ(s->ListOutbox(kOutboxDelivered, 5)->at(0).delivered_ms, done.delivered_ms);
}

TEST_P(StoreConformanceTest, FileRefsReplaceEmbeddingResetAndCheck) {
  auto s = Open();
  StoredEmbedding e = Emb(0.25f, "a1");
  e.thumbnail_path = "thumbnails/a1.jpg";
  e.crop_path = "crops/a1.png";
  ASSERT_TRUE(s->CreateUser({"A", "Ann", ""}, {e}).ok());
  AttendanceRecord r = testing::AttendanceRow("A");
  r.image_ref = "attempts/1.jpg";
  ASSERT_TRUE(s->AddAttendance(r).ok());
  auto refs = s->ListFileRefs();
  ASSERT_TRUE(refs.ok());
  ASSERT_EQ(refs->size(), 4u);
  EXPECT_EQ((*refs)[0].column, "source_path");
  EXPECT_EQ((*refs)[0].sha256, "a1");
  EXPECT_EQ((*refs)[3].path, "attempts/1.jpg");
  ASSERT_TRUE(s->UpdateFileRef((*refs)[1], "thumbnails/moved.jpg").ok());
  EXPECT_EQ(s->UpdateFileRef({"users", "name", 1, "", ""}, "x").code(), Code::kInvalidArgument);
  auto stored = s->ListEmbeddings("A");
  EXPECT_EQ((*stored)[0].thumbnail_path, "thumbnails/moved.jpg");
  StoredEmbedding next = Emb(0.75f, "a2");
  next.model_id = "m:2";
  ASSERT_TRUE(s->ReplaceEmbedding((*stored)[0].id, next).ok());
  ASSERT_TRUE(s->ReplaceEmbedding(999, next).ok());  // no such row: nothing changes
  stored = s->ListEmbeddings("A");
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].model_id, "m:2");
  EXPECT_FLOAT_EQ((*stored)[0].vector[5], 0.75f);
  EXPECT_EQ((*stored)[0].source_path, "photos/a1.jpg");  // kept
  EXPECT_TRUE(s->Check().ok());
  EXPECT_GE(s->schema_version(), 4);
  auto removed = s->DeleteAllUsers();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 1u);
  EXPECT_EQ(*s->CountUsers(), 0);
  EXPECT_EQ(*s->CountAttendance({}), 1);  // attendance is kept
  EXPECT_TRUE(*s->IsRetiredId("A"));
  EXPECT_EQ(s->CreateUser({"", "Bo", ""}, {})->employee_id, "EMP001");
}

}  // namespace
}  // namespace faceatt
