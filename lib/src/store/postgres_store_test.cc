// What only the PostgreSQL backend has: its URL and its errors, the schema
// table, and the outbox lease between nodes. The shared contract is checked
// in store_conformance_test.cc.
#include "faceatt/postgres_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>
#include <thread>

#include "support/postgres.h"
#include "support/testing.h"

namespace faceatt {
namespace {

std::string FreshDatabase() {
  testing::PostgresCluster* pg = testing::PostgresCluster::Shared();
  return pg ? pg->NewDatabase() : "";
}

std::unique_ptr<PostgresStore> Open(const std::string& url, const Clock* clock = nullptr,
                                    int64_t lease_ms = 60'000) {
  StoreOptions o;
  o.clock = clock;
  PostgresOptions p;
  p.url = url;
  p.outbox_lease_ms = lease_ms;
  auto s = OpenPostgresStore(o, p);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

void Exec(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
      << PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
}

TEST(PostgresStoreTest, RedactsPasswords) {
  EXPECT_EQ(RedactUrl("postgresql://att:s3cret@db.example:5432/faceatt"),
            "postgresql://att:***@db.example:5432/faceatt");
  EXPECT_EQ(RedactUrl("postgres://att@db/faceatt?sslmode=require&password=s3cret"),
            "postgres://att@db/faceatt?sslmode=require&password=***");
  EXPECT_EQ(RedactUrl("postgresql://att@db/faceatt"), "postgresql://att@db/faceatt");
}

// A server that is not there, a role that does not exist, a URL of no known
// kind: one clear error, and the password in none of them.
TEST(PostgresStoreTest, ConnectionErrorsAreUnavailableAndHideThePassword) {
  testing::PostgresCluster* pg = testing::PostgresCluster::Shared();
  ASSERT_NE(pg, nullptr);
  StoreOptions o;
  auto down = OpenStore("postgresql://att:s3cret@127.0.0.1:1/faceatt", o);
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
  EXPECT_EQ(down.status().message().find("s3cret"), std::string::npos) << down.status().message();
  EXPECT_NE(down.status().message().find("127.0.0.1"), std::string::npos);
  auto nobody = OpenStore(
      "postgresql://nobody:s3cret@127.0.0.1:" + std::to_string(pg->port()) + "/postgres", o);
  EXPECT_EQ(nobody.status().code(), Code::kUnavailable);
  EXPECT_NE(nobody.status().message().find("nobody"), std::string::npos);
  EXPECT_EQ(nobody.status().message().find("s3cret"), std::string::npos);
  auto odd = OpenStore("mysql://root:s3cret@db/x", o);
  EXPECT_EQ(odd.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(odd.status().message().find("s3cret"), std::string::npos);
}

TEST(PostgresStoreTest, SchemaIsVersionedAndANewerOneIsRefused) {
  const std::string url = FreshDatabase();
  ASSERT_NE(url, "");
  {
    auto s = Open(url);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->schema_version(), 5);
    ASSERT_TRUE(s->CreateUser({"E1", "Kim", ""}, {testing::EmbeddingRow(0.5f, "k")}).ok());
  }
  {
    auto again = Open(url);  // opening again migrates nothing and keeps the rows
    ASSERT_TRUE(again);
    EXPECT_EQ(again->GetUser("E1")->embeddings, 1);
  }
  Exec(url, "INSERT INTO schema_migrations VALUES (99, 'later')");
  StoreOptions o;
  auto newer = OpenStore(url, o);
  EXPECT_EQ(newer.status().code(), Code::kInvalidArgument);
  EXPECT_NE(newer.status().message().find("newer"), std::string::npos);
}

// Several nodes starting at once against an empty database: one migrates,
// the others wait for it and find the schema made.
TEST(PostgresStoreTest, NodesStartingTogetherMigrateOnce) {
  const std::string url = FreshDatabase();
  ASSERT_NE(url, "");
  std::vector<std::thread> nodes;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i)
    nodes.emplace_back([&] {
      if (Open(url)) ++opened;
    });
  for (auto& t : nodes) t.join();
  EXPECT_EQ(opened.load(), 4);
}

// A claimed event is invisible to other nodes until it is updated or its
// lease ends (its node died): then another node claims it.
TEST(PostgresStoreTest, OutboxClaimsAreLeased) {
  const std::string url = FreshDatabase();
  ASSERT_NE(url, "");
  ManualClock clock(1'700'000'000'000);
  auto a = Open(url, &clock, 30'000), b = Open(url, &clock, 30'000);
  ASSERT_TRUE(a && b);
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(a->AddAttendanceAfter(std::nullopt, [&](const std::vector<AttendanceRecord>&) {
                   OutboxItem e;
                   e.url = "http://127.0.0.1:9/hook";
                   e.event = "attendance.unknown";
                   e.body = "{}";
                   return Result<AttendanceStore::AttendanceWrite>(AttendanceStore::AttendanceWrite{
                       testing::AttendanceRow(nullptr, "IN", kStatusUnknown), {e}});
                 }).ok());
  auto first = a->DueOutbox(clock.NowMillis(), 3);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 3u);
  auto second = b->DueOutbox(clock.NowMillis(), 10);
  ASSERT_EQ(second->size(), 1u);  // only the one a did not claim
  EXPECT_GT((*second)[0].id, (*first)[2].id);
  OutboxItem done = (*first)[0];
  done.status = kOutboxDelivered;
  done.delivered_ms = clock.NowMillis();
  ASSERT_TRUE(a->UpdateOutbox(done).ok());
  OutboxItem retry = (*first)[1];
  retry.attempts = 1;
  retry.next_attempt_ms = clock.NowMillis();  // due again at once: the update ends the lease
  ASSERT_TRUE(a->UpdateOutbox(retry).ok());
  auto third = b->DueOutbox(clock.NowMillis(), 10);
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ((*third)[0].id, retry.id);
  // a dies holding (*first)[2]; after the lease b delivers it (and its own again).
  clock.Advance(31'000);
  auto after = b->DueOutbox(clock.NowMillis(), 10);
  std::vector<int64_t> ids;
  for (const auto& o : *after) ids.push_back(o.id);
  EXPECT_NE(std::find(ids.begin(), ids.end(), (*first)[2].id), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), done.id), ids.end());
}

// A store keeps working after the server restarts: the broken connections
// are dropped and new ones made; while it is down calls fail kUnavailable.
TEST(PostgresStoreTest, RecoversAfterTheServerRestarts) {
  testing::PostgresCluster* pg = testing::PostgresCluster::Shared();
  ASSERT_NE(pg, nullptr);
  const std::string url = pg->NewDatabase();
  auto s = Open(url);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->CreateUser({"E1", "Kim", ""}, {}).ok());
  ASSERT_TRUE(pg->Stop());
  auto down = s->CountUsers();
  EXPECT_EQ(down.status().code(), Code::kUnavailable) << down.status().ToString();
  auto write = s->CreateUser({"E2", "Lee", ""}, {});
  EXPECT_EQ(write.status().code(), Code::kUnavailable);
  ASSERT_TRUE(pg->Start());
  auto up = s->CountUsers();
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(*up, 1);
  // Restarted while nobody called: the pooled connections died idle, and the
  // first calls after it (a read, a transaction) still succeed.
  ASSERT_TRUE(pg->Stop());
  ASSERT_TRUE(pg->Start());
  EXPECT_TRUE(s->CreateUser({"E3", "Park", ""}, {}).ok());
  EXPECT_EQ(*s->CountUsers(), 2);
}

// Two nodes enrolling at once: the second waits for the first's lock.
TEST(PostgresStoreTest, EnrollmentLockSerialisesNodes) {
  const std::string url = FreshDatabase();
  ASSERT_NE(url, "");
  auto a = Open(url), b = Open(url);
  ASSERT_TRUE(a && b);
  auto held = a->LockEnrollment();
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  std::atomic<bool> b_has_it{false};
  std::thread other([&] {
    auto lock = b->LockEnrollment();
    EXPECT_TRUE(lock.ok());
    b_has_it = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(b_has_it.load());  // still waiting for a
  held->reset();
  other.join();
  EXPECT_TRUE(b_has_it.load());
  EXPECT_TRUE(a->LockEnrollment().ok());  // b's lock was released with its object
}

// reset-users' backup on PostgreSQL: a pg_dump archive, whole or absent.
TEST(PostgresStoreTest, BackupIsAPgDumpArchive) {
  const std::string url = FreshDatabase();
  ASSERT_NE(url, "");
  auto s = Open(url);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->CreateUser({"E1", "Kim", ""}, {testing::EmbeddingRow(0.5f, "k")}).ok());
  testing::TempDir dir;
  const std::string file = dir / "faceatt.db";
  Status st = s->Backup(file);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(testing::ReadFile(file).substr(0, 5), "PGDMP");  // pg_dump's custom format
  EXPECT_FALSE(std::filesystem::exists(file + ".partial"));
  EXPECT_FALSE(std::filesystem::exists(file + ".log"));
  EXPECT_EQ(
      std::system(("pg_restore --list " + file + " | grep -q 'TABLE DATA public users'").c_str()),
      0);
  // Into a folder that does not exist: an error, and no file.
  EXPECT_FALSE(s->Backup(dir / "missing/faceatt.db").ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
}

}  // namespace
}  // namespace faceatt
