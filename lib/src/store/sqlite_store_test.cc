#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <sstream>

#include "faceatt/store.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using testing::TempDir;

StoredEmbedding Emb(float x, const std::string& sha = "") {
  StoredEmbedding e;
  e.model_id = "m:1";
  e.vector.fill(x);
  e.source_sha256 = sha;
  e.source_path = "photos/" + sha + ".jpg";
  return e;
}

std::unique_ptr<SqliteStore> Open(const std::string& path, const Clock* clock = nullptr) {
  return testing::OpenTestStore(path, clock);
}

TEST(SqliteStoreTest, GeneratesIdsAndNeverReusesThem) {
  TempDir dir;
  auto s = Open(dir / "db");
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
  s = Open(dir / "db");
  EXPECT_EQ(s->CreateUser({"", "Fay", ""}, {})->employee_id, "EMP006");
}

TEST(SqliteStoreTest, ContinuesIdsAfterAnImportedNumberAndNeverGoesBack) {
  auto s = Open(":memory:");
  ASSERT_TRUE(s->CreateUser({"EMP001", "Ann", ""}, {}).ok());
  ASSERT_TRUE(s->CreateUser({"EMP040", "Bob", ""}, {}).ok());
  ASSERT_TRUE(s->ContinueIdsAfter(40).ok());
  EXPECT_EQ(s->CreateUser({"", "Cy", ""}, {})->employee_id, "EMP041");
  ASSERT_TRUE(s->ContinueIdsAfter(7).ok());  // lower: no effect
  EXPECT_EQ(s->CreateUser({"", "Dee", ""}, {})->employee_id, "EMP042");
  EXPECT_EQ(s->ContinueIdsAfter(-1).code(), Code::kInvalidArgument);
}

TEST(SqliteStoreTest, ValidatesIdsAndNames) {
  TempDir dir;
  auto s = Open(dir / "db");
  EXPECT_EQ(s->CreateUser({"../x", "A", ""}, {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateUser({"", "", ""}, {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateUser({"", "bad\nname", ""}, {}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(s->CreateUser({"", std::string("\xff\xfe", 2), ""}, {}).status().code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(s->CreateUser({"", "홍길동", "개발"}, {}).ok());
  ASSERT_TRUE(s->CreateUser({"X1", "A", ""}, {}).ok());
  EXPECT_EQ(s->CreateUser({"X1", "B", ""}, {}).status().code(), Code::kAlreadyExists);
}

TEST(SqliteStoreTest, CreateIsAllOrNothing) {
  TempDir dir;
  auto s = Open(dir / "db");
  ASSERT_TRUE(s->CreateUser({"E1", "First", ""}, {Emb(0.1f, "x")}).ok());
  // Taken id: the embeddings of the failed person must not appear anywhere.
  EXPECT_FALSE(s->CreateUser({"E1", "Second", ""}, {Emb(0.2f, "y"), Emb(0.3f, "z")}).ok());
  EXPECT_EQ(*s->CountEmbeddings(), 1);
  EXPECT_EQ(*s->CountUsers(), 1);
  EXPECT_FALSE(s->AddEmbeddings("nobody", {Emb(0.4f)}).ok());
  EXPECT_EQ(*s->CountEmbeddings(), 1);
}

TEST(SqliteStoreTest, EmbeddingsRoundTripByModel) {
  TempDir dir;
  auto s = Open(dir / "db");
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

TEST(SqliteStoreTest, ListsOnePersonsEmbeddingsOfEveryModel) {
  TempDir dir;
  auto s = Open(dir / "db");
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

TEST(SqliteStoreTest, UpdateAndDeleteKeepAttendanceUnlessPurged) {
  TempDir dir;
  auto s = Open(dir / "db");
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

TEST(SqliteStoreTest, AttendanceFiltersAndOrder) {
  TempDir dir;
  ManualClock clock(1'700'000'000'000);
  auto s = Open(dir / "db", &clock);
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

TEST(SqliteStoreTest, SchemaIsVersionedAndWal) {
  TempDir dir;
  auto s = Open(dir / "db");
  EXPECT_GE(s->schema_version(), 1);
  EXPECT_TRUE(s->Check().ok());
  s.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  // A database from a newer faceatt is refused, not damaged.
  sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  StoreOptions o;
  o.path = dir / "db";
  auto newer = OpenSqliteStore(o);
  EXPECT_EQ(newer.status().code(), Code::kInvalidArgument);
  EXPECT_NE(newer.status().message().find("newer"), std::string::npos);
}

TEST(SqliteStoreTest, GroupsAndTheirMigrationFromDepartments) {
  TempDir dir;
  {
    auto s = Open(dir / "db");
    ASSERT_TRUE(s->CreateUser({"E1", "Kim", "Sales"}, {}).ok());
    ASSERT_TRUE(s->CreateUser({"E2", "Lee", ""}, {}).ok());
    ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("E1")).ok());
  }
  // The database as schema 3 left it: no groups table.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE user_groups; ALTER TABLE attendance DROP COLUMN groups; "
                         "PRAGMA user_version = 3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = Open(dir / "db");
  ASSERT_TRUE(s);
  auto groups = s->ListGroups();
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ(*groups, (std::map<std::string, std::vector<std::string>>{{"Sales", {"E1"}}}));
  ASSERT_TRUE(s->SetGroupMembership("E2", "Class 3A", true).ok());
  ASSERT_TRUE(s->SetGroupMembership("E2", "Class 3A", true).ok());  // twice: no change
  ASSERT_TRUE(s->SetGroupMembership("E1", "Class 3A", true).ok());
  ASSERT_TRUE(s->SetGroupMembership("E1", "Sales", false).ok());
  EXPECT_EQ(s->SetGroupMembership("E9", "Class 3A", true).code(), Code::kNotFound);
  EXPECT_EQ(s->SetGroupMembership("E1", "", true).code(), Code::kInvalidArgument);
  ASSERT_TRUE(s->DeleteUser("E2", false).ok());
  EXPECT_EQ(*s->ListGroups(),
            (std::map<std::string, std::vector<std::string>>{{"Class 3A", {"E1"}}}));
  // Each row keeps the groups of its moment: the migrated row its department.
  ASSERT_TRUE(s->AddAttendance(testing::AttendanceRow("E1", "OUT")).ok());
  AttendanceQuery q;
  q.newest_first = false;
  auto rows = s->QueryAttendance(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].groups, "Sales");
  EXPECT_EQ((*rows)[1].groups, "Class 3A");
}

TEST(SqliteStoreTest, NotADatabaseIsAnError) {
  TempDir dir;
  testing::WriteFile(dir / "db", std::string(8192, 'z'));
  StoreOptions o;
  o.path = dir / "db";
  auto s = OpenSqliteStore(o);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(dir / "db"), std::string::npos);
}

TEST(SqliteStoreTest, BackupOpensWithTheSameData) {
  TempDir dir;
  auto s = Open(dir / "db");
  ASSERT_TRUE(s->CreateUser({"", "Ann", ""}, {Emb(0.1f, "a")}).ok());
  ASSERT_TRUE(s->Backup(dir / "copy.db").ok());
  auto copy = Open(dir / "copy.db");
  EXPECT_EQ(copy->GetUser("EMP001")->name, "Ann");
  EXPECT_EQ(*copy->CountEmbeddings(), 1);
}

// A writer killed with SIGKILL at an arbitrary moment loses nothing it had
// committed, and leaves no half-created person.
TEST(SqliteStoreTest, KillDuringWritesLosesNothingCommitted) {
  TempDir dir;
  { Open(dir / "db"); }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    auto s = Open(dir / "db");
    for (int i = 0;; ++i) {
      std::vector<StoredEmbedding> e;
      for (int k = 0; k < 3; ++k)
        e.push_back(Emb(0.01f * k, std::to_string(i) + "-" + std::to_string(k)));
      auto u = s->CreateUser({"", "P" + std::to_string(i), ""}, e);
      if (!u.ok()) _exit(3);
      const std::string line = u->employee_id + "\n";
      if (write(fds[1], line.data(), line.size()) < 0) _exit(4);
    }
  }
  close(fds[1]);
  std::string committed;
  char buf[4096];
  // Let it commit a good number of people, then kill it mid-flight.
  while (std::count(committed.begin(), committed.end(), '\n') < 40) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    ASSERT_GT(n, 0);
    committed.append(buf, n);
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(fds[0]);
  auto s = Open(dir / "db");
  ASSERT_TRUE(s->Check().ok());
  std::istringstream lines(committed);
  std::string id;
  int seen = 0;
  while (std::getline(lines, id)) {
    auto u = s->GetUser(id);
    ASSERT_TRUE(u.ok()) << id << " was committed but is gone";
    ++seen;
  }
  EXPECT_GE(seen, 40);
  auto users = s->ListUsers();
  ASSERT_TRUE(users.ok());
  for (const auto& u : *users) EXPECT_EQ(u.embeddings, 3) << u.employee_id;
}

// Issue 14: rows keep the name as of the event; delete, reset and a rename
// change nothing kept, and the current name shows beside it.
TEST(SqliteStoreTest, HistoryKeepsNamesThroughRenameDeleteAndReset) {
  TempDir dir;
  auto s = Open(dir / "db");
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
TEST(SqliteStoreTest, RetiredIdIsRefusedAndReuseKeepsOldRowsApart) {
  TempDir dir;
  auto s = Open(dir / "db");
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
TEST(SqliteStoreTest, CorrectionsAreAuditedAndNothingIsDeleted) {
  TempDir dir;
  ManualClock clock(5000);
  auto s = Open(dir / "db", &clock);
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

// An old (schema 2) database migrates: its rows get the names their people have now.
TEST(SqliteStoreTest, MigratedOldDatabaseKeepsItsRowsNames) {
  TempDir dir;
  const std::string path = dir / "old.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  // Schema 2 as released: the tables rows 1 and 2 of kMigrations create.
  const char* old_schema = R"sql(
CREATE TABLE users (id INTEGER PRIMARY KEY, employee_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  department TEXT NOT NULL DEFAULT '', active INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE embeddings (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id)
  ON DELETE CASCADE, model_id TEXT NOT NULL, vector BLOB NOT NULL, quality REAL NOT NULL DEFAULT 0,
  source_path TEXT NOT NULL DEFAULT '', source_sha256 TEXT NOT NULL DEFAULT '',
  thumbnail_path TEXT NOT NULL DEFAULT '', crop_path TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL);
CREATE TABLE attendance (id INTEGER PRIMARY KEY, employee_id TEXT,
  type TEXT NOT NULL DEFAULT '', status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
  device_id TEXT NOT NULL DEFAULT '', distance REAL, ts_server TEXT NOT NULL,
  ts_client TEXT NOT NULL DEFAULT '', image_ref TEXT NOT NULL DEFAULT '');
CREATE TABLE id_sequence (name TEXT PRIMARY KEY, next INTEGER NOT NULL);
INSERT INTO id_sequence VALUES ('employee_id', 3);
CREATE TABLE retired_ids (employee_id TEXT PRIMARY KEY);
CREATE TABLE webhook_outbox (id INTEGER PRIMARY KEY, url TEXT NOT NULL, event TEXT NOT NULL,
  body TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL, last_error TEXT NOT NULL DEFAULT '',
  last_http_status INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, delivered_at TEXT);
INSERT INTO users VALUES (1, 'EMP001', '김민수', '', 1, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
INSERT INTO attendance (employee_id, type, status, ts_server) VALUES
  ('EMP001', 'IN', 'success', '2026-02-01T00:00:00.000Z'),
  ('EMP002', 'IN', 'success', '2026-02-01T01:00:00.000Z');
INSERT INTO retired_ids VALUES ('EMP002');
PRAGMA user_version = 2;
)sql";
  ASSERT_EQ(sqlite3_exec(db, old_schema, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto s = Open(path);
  EXPECT_GE(s->schema_version(), 3);
  AttendanceQuery all;
  all.newest_first = false;
  auto rows = s->QueryAttendance(all);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].name_at_event, "김민수");
  EXPECT_EQ((*rows)[0].current_name, "김민수");
  EXPECT_EQ((*rows)[1].name_at_event, "");  // deleted before the migration: no name known
  // After the migration a delete keeps the name.
  ASSERT_TRUE(s->DeleteUser("EMP001", false).ok());
  EXPECT_EQ(s->QueryAttendance(all)->at(0).name_at_event, "김민수");
  EXPECT_EQ(s->CreateUser({"EMP002", "New", ""}, {}).status().reason(), "retired_id");
}

}  // namespace
}  // namespace faceatt
