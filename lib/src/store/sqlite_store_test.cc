#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "faceatt/store.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using testing::TempDir;

StoredEmbedding Emb(float x, const std::string& sha = "") { return testing::EmbeddingRow(x, sha); }

std::unique_ptr<SqliteStore> Open(const std::string& path, const Clock* clock = nullptr) {
  return testing::OpenTestStore(path, clock);
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
  // The database as schema 3 left it: no groups table (nor schema 5's objects).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db,
                   "DROP TRIGGER gallery_users_insert; DROP TRIGGER gallery_users_update; "
                   "DROP TRIGGER gallery_users_delete; DROP TRIGGER gallery_embeddings_insert; "
                   "DROP TRIGGER gallery_embeddings_update; "
                   "DROP TRIGGER gallery_embeddings_delete; DROP TRIGGER gallery_groups_insert; "
                   "DROP TRIGGER gallery_groups_delete; DROP TABLE gallery_version; "
                   "DROP TABLE webhook_cooldown; ALTER TABLE webhook_outbox DROP COLUMN "
                   "lease_owner; ALTER TABLE webhook_outbox DROP COLUMN lease_until; "
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
// Nodes started together on a new file each run the migrations: every one
// opens it, and each schema step runs once (a second run would fail on
// "duplicate column").
TEST(SqliteStoreTest, SeveralOpenersOfANewFileMigrateItOnce) {
  for (int round = 0; round < 5; ++round) {
    TempDir dir;
    std::atomic<bool> go{false};
    std::vector<Status> results(6);
    std::vector<int> versions(6, -1);
    std::vector<std::thread> openers;
    for (size_t i = 0; i < results.size(); ++i)
      openers.emplace_back([&, i] {
        while (!go) std::this_thread::yield();
        StoreOptions o;
        o.path = dir / "db";
        auto s = OpenSqliteStore(o);
        results[i] = s.status();
        if (s.ok()) versions[i] = (*s)->schema_version();
      });
    go = true;
    for (auto& t : openers) t.join();
    auto s = Open(dir / "db");
    for (size_t i = 0; i < results.size(); ++i) {
      EXPECT_TRUE(results[i].ok()) << "round " << round << ": " << results[i].ToString();
      EXPECT_EQ(versions[i], s->schema_version());
    }
    EXPECT_TRUE(s->Check().ok());
  }
}

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
