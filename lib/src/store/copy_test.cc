// store copy: SQLite to PostgreSQL and back keeps every table's rows exactly
// (counts and checksums), ids continue after the copied ones, and a
// destination that holds rows is refused unless forced.
#include <gtest/gtest.h>

#include "faceatt/store_copy.h"
#include "support/postgres.h"
#include "support/testing.h"

namespace faceatt {
namespace {

std::unique_ptr<Store> Open(const std::string& url) {
  auto s = OpenStore(url, StoreOptions{});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

TEST(StoreCopyTest, SqliteToPostgresAndBackIsExact) {
  testing::PostgresCluster* pg = testing::PostgresCluster::Shared();
  ASSERT_NE(pg, nullptr);
  testing::TempDir dir;
  auto sqlite = Open("sqlite:" + dir / "a.db");
  auto postgres = Open(pg->NewDatabase());
  ASSERT_TRUE(sqlite && postgres);
  // A bit of everything: people, a retired id, groups, corrections, an outbox row.
  ASSERT_TRUE(sqlite->CreateUser({"", "Kim", "Sales"}, {testing::EmbeddingRow(0.125f, "k")}).ok());
  ASSERT_TRUE(sqlite->CreateUser({"", "홍길동", ""}, {testing::EmbeddingRow(0.3f, "h")}).ok());
  ASSERT_TRUE(sqlite->SetGroupMembership("EMP001", "Class 3A", true).ok());
  auto in = sqlite->AddAttendance(testing::AttendanceRow("EMP001", "IN", kStatusSuccess, 1000));
  ASSERT_TRUE(in.ok());
  AttendanceRecord unknown = testing::AttendanceRow(nullptr, "IN", kStatusUnknown, 2000);
  unknown.distance = 0.61234567890123;
  ASSERT_TRUE(sqlite->AddAttendance(unknown).ok());
  ASSERT_TRUE(sqlite->AmendAttendance(*in, "OUT", std::nullopt, {"cli:hr", "typo"}).ok());
  ASSERT_TRUE(sqlite->DeleteUser("EMP002", false).ok());
  ASSERT_TRUE(sqlite
                  ->AddAttendanceAfter(
                      std::nullopt,
                      [](const std::vector<AttendanceRecord>&) {
                        OutboxItem e;
                        e.url = "http://127.0.0.1:9/";
                        e.event = "attendance.unknown";
                        e.body = "{}";
                        return Result<AttendanceStore::AttendanceWrite>(
                            AttendanceStore::AttendanceWrite{
                                testing::AttendanceRow(nullptr, "IN", kStatusUnknown, 3000), {e}});
                      })
                  .ok());
  std::vector<std::string> progress;
  CopyOptions options;
  options.progress = [&](const std::string& line) { progress.push_back(line); };
  auto copied = CopyStore(*sqlite, *postgres, options);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_FALSE(progress.empty());
  auto source = SummarizeStore(*sqlite);
  ASSERT_TRUE(source.ok());
  ASSERT_EQ(source->size(), copied->size());
  for (size_t i = 0; i < source->size(); ++i) {
    EXPECT_EQ((*source)[i].rows, (*copied)[i].rows) << (*source)[i].name;
    EXPECT_EQ((*source)[i].sha256, (*copied)[i].sha256) << (*source)[i].name;
  }
  // The copy behaves as the original: names, the retired id, the audit trail.
  EXPECT_EQ(postgres->GetUser("EMP001")->name, "Kim");
  EXPECT_TRUE(*postgres->IsRetiredId("EMP002"));
  EXPECT_EQ(postgres->AttendanceAudit(*in)->size(), 1u);
  auto a = sqlite->ListEmbeddings("EMP001"), b = postgres->ListEmbeddings("EMP001");
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*a)[0].vector, (*b)[0].vector);
  EXPECT_EQ((*a)[0].id, (*b)[0].id);
  EXPECT_EQ((*a)[0].created_at, (*b)[0].created_at);
  // New rows continue after the copied ids.
  EXPECT_EQ(postgres->CreateUser({"", "Lee", ""}, {})->employee_id, "EMP003");
  auto next = postgres->AddAttendance(testing::AttendanceRow("EMP003"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(*next, 4);

  // Back into SQLite: refused while it holds rows, exact with --force.
  auto refused = CopyStore(*postgres, *sqlite, {});
  EXPECT_EQ(refused.status().code(), Code::kConflict);
  EXPECT_EQ(sqlite->CountUsers().value(), 1);  // nothing written
  CopyOptions force;
  force.force = true;
  auto back = CopyStore(*postgres, *sqlite, force);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*sqlite->CountUsers(), 2);
  EXPECT_EQ(sqlite->GetUser("EMP003")->name, "Lee");
}

}  // namespace
}  // namespace faceatt
