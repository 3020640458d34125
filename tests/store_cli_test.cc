// The real binary on a real PostgreSQL (tests/support/postgres.h): the same
// commands as on SQLite, selected by --store or FACEATT_STORE_URL, then
// `store copy` to SQLite and the same export from the copy. And what a user
// sees when the URL or the server is wrong.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/postgres.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using nlohmann::json;
using testing::Face;
using testing::FilesIn;
using testing::RunCli;

class StoreCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testing::RealModels()) << "models are required";
    testing::PostgresCluster* pg = testing::PostgresCluster::Shared();
    ASSERT_NE(pg, nullptr);
    url_ = pg->NewDatabase();
    ASSERT_NE(url_, "");
    env_ = {{"FACEATT_PATHS_MODELS_DIR", testing::ModelsDir()},
            {"FACEATT_PATHS_DATA_DIR", work_ / "data"}};
  }
  testing::CliResult Run(std::vector<std::string> args) { return RunCli(args, work_.path(), env_); }

  testing::TempDir work_;
  std::string url_;
  std::map<std::string, std::string> env_;
};

TEST_F(StoreCliTest, EnrollIdentifyExportOnPostgresThenCopyToSqlite) {
  // Two people enrolled through --store.
  const auto amy = FilesIn(Face("people/bbt/amy")), raj = FilesIn(Face("people/bbt/raj"));
  ASSERT_GE(amy.size(), 3u);
  ASSERT_GE(raj.size(), 3u);
  auto e1 =
      Run({"--store", url_, "enroll", "--json", "--largest", "--name", "Amy", amy[0], amy[1]});
  ASSERT_EQ(e1.exit_code, 0) << e1.err;
  EXPECT_EQ(json::parse(e1.out)["employee_id"], "EMP001");
  auto e2 = Run({"--store", url_, "enroll", "--json", "--largest", "--force", "--name", "Raj",
                 raj[0], raj[1]});
  ASSERT_EQ(e2.exit_code, 0) << e2.err;
  // The environment variable selects it as well: identify and record.
  env_["FACEATT_STORE_URL"] = url_;
  auto id = Run({"identify", "--record", "--type", "in", "--json", amy[2]});
  ASSERT_EQ(id.exit_code, 0) << id.err;
  EXPECT_NE(id.out.find("EMP001"), std::string::npos) << id.out;
  auto again = Run({"identify", "--record", "--type", "in", "--json", amy[2]});  // cooldown
  EXPECT_NE(again.out.find("already_recorded"), std::string::npos) << again.out;
  auto users = Run({"users", "list", "--json"});
  ASSERT_EQ(users.exit_code, 0) << users.err;
  auto list = json::parse(users.out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]["name"], "Raj");
  auto exported = Run({"export", "--format", "jsonl", "--include-failed"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("Amy"), std::string::npos);
  // No SQLite file was made in the data folder.
  EXPECT_FALSE(std::filesystem::exists(work_ / "data/faceatt.db"));

  // Copied to SQLite: the same people and the same export.
  env_.erase("FACEATT_STORE_URL");
  const std::string sqlite = "sqlite:" + work_ / "copy.db";
  auto copy = Run({"store", "copy", "--from", url_, "--to", sqlite});
  ASSERT_EQ(copy.exit_code, 0) << copy.err;
  EXPECT_NE(copy.out.find("verified"), std::string::npos);
  EXPECT_NE(copy.err.find("attendance: 2 rows"), std::string::npos) << copy.err;
  auto from_copy = Run({"--store", sqlite, "export", "--format", "jsonl", "--include-failed"});
  ASSERT_EQ(from_copy.exit_code, 0) << from_copy.err;
  EXPECT_EQ(from_copy.out, exported.out);
  // A destination that holds rows is refused unless --force.
  auto refused = Run({"store", "copy", "--from", sqlite, "--to", url_});
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_NE(refused.err.find("--force"), std::string::npos);
  auto back = Run({"store", "copy", "--from", sqlite, "--to", url_, "--force"});
  EXPECT_EQ(back.exit_code, 0) << back.err;
  // New ids continue after the copied ones on the copy.
  auto e3 = Run(
      {"--store", sqlite, "enroll", "--json", "--largest", "--force", "--name", "Amy 2", amy[2]});
  ASSERT_EQ(e3.exit_code, 0) << e3.err;
  EXPECT_EQ(json::parse(e3.out)["employee_id"], "EMP003");
}

TEST_F(StoreCliTest, BadUrlsAndUnreachableServersSayOneLineWithoutThePassword) {
  auto bad = Run({"--store", "mysql://root:hunter2@db/x", "users", "list"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err.find("hunter2"), std::string::npos) << bad.err;
  auto down = Run({"--store", "postgresql://att:hunter2@127.0.0.1:1/faceatt", "users", "list"});
  EXPECT_EQ(down.exit_code, 5);
  EXPECT_EQ(down.err.find("hunter2"), std::string::npos) << down.err;
  EXPECT_NE(down.err.find("postgresql://att:***@127.0.0.1:1/faceatt"), std::string::npos)
      << down.err;
  auto missing = Run({"store", "copy", "--from", "sqlite:" + work_ / "none.db", "--to", url_});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
}

}  // namespace
}  // namespace faceatt
