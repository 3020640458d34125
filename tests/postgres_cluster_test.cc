// The throw-away PostgreSQL of tests/support/postgres.h: fresh databases are
// independent, and the server stops and starts again on the same port.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "support/postgres.h"

namespace faceatt::testing {
namespace {

// One statement's first value as text ("" on error, with the error in `error`).
std::string Query(const std::string& url, const std::string& sql, std::string* error = nullptr) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string out;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    if (error) *error = PQresultErrorMessage(r);
    PQclear(r);
  } else if (error) {
    *error = PQerrorMessage(c);
  }
  PQfinish(c);
  return out;
}

TEST(PostgresClusterTest, FreshDatabasesAreIndependent) {
  PostgresCluster* pg = PostgresCluster::Shared();
  ASSERT_NE(pg, nullptr);
  const std::string a = pg->NewDatabase(), b = pg->NewDatabase();
  ASSERT_NE(a, "");
  ASSERT_NE(a, b);
  Query(a, "CREATE TABLE t (x int); INSERT INTO t VALUES (7)");
  EXPECT_EQ(Query(a, "SELECT x FROM t"), "7");
  std::string error;
  EXPECT_EQ(Query(b, "SELECT x FROM t", &error), "");
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
}

TEST(PostgresClusterTest, StopsAndStartsAgain) {
  PostgresCluster* pg = PostgresCluster::Shared();
  ASSERT_NE(pg, nullptr);
  const std::string db = pg->NewDatabase();
  Query(db, "CREATE TABLE t (x int); INSERT INTO t VALUES (3)");
  ASSERT_TRUE(pg->Stop());
  std::string error;
  EXPECT_EQ(Query(db, "SELECT 1", &error), "");
  EXPECT_NE(error, "");
  ASSERT_TRUE(pg->Start());
  EXPECT_EQ(Query(db, "SELECT x FROM t"), "3");  // the data survives the restart
}

}  // namespace
}  // namespace faceatt::testing
