// The database goes away under a running server (issue 17): requests that need
// it answer 503 with reason database_unavailable at once, nothing is
// half-written, and the server recovers by itself when it is back. The
// FailingStore's `down` switch stands for an unreachable database server.
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "faceatt/data_dir.h"
#include "faceatt/server.h"
#include "support/http_client.h"
#include "support/photos.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using json = nlohmann::json;
using testing::Body;
using testing::Form;
using namespace testing::photos;  // NOLINT: the shared photos by name

TEST(DatabaseDownTest, RequestsAnswer503AndTheServerRecoversByItself) {
  testing::TempDir dir;
  Config config = testing::TestConfig();
  config.paths.data_dir = dir / "data";
  config.server.port = 0;
  config.logging.file = false;
  std::filesystem::create_directories(config.paths.data_dir);
  auto store = testing::OpenTestStore(DataDir(config.paths.data_dir).database());
  ASSERT_TRUE(store);
  testing::FailingStore db(store.get());
  auto server = Server::Create(config, testing::RealModels(), &db, {});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_TRUE((*server)->Start().ok());
  httplib::Client c("127.0.0.1", (*server)->port());
  c.set_read_timeout(60, 0);
  auto enrolled = c.Post("/enroll", Form({{"name", "Barack Obama"}}, {kObamaA}));
  ASSERT_TRUE(enrolled && enrolled->status == 200) << (enrolled ? enrolled->body : "");

  db.down = true;
  const auto t0 = std::chrono::steady_clock::now();
  auto refused = c.Post("/identify", Form({{"type", "IN"}, {"device_id", "door"}}, {kObamaProbe}));
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << refused->body;
  json body = Body(refused);
  EXPECT_EQ(body["error"]["code"], "unavailable");
  EXPECT_EQ(body["error"]["reason"], kDatabaseUnavailable);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("database unavailable"),
            std::string::npos);
  EXPECT_LT(took, std::chrono::seconds(10)) << "fails at once, not after a long wait";
  auto second = c.Post("/enroll", Form({{"name", "Joe Biden"}}, {kBiden}));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 503) << second->body;
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  // The gallery stays loaded while the database is away; its lag grows.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  json g = Body(c.Get("/health"))["gallery"];
  EXPECT_TRUE(g.contains("error")) << g.dump();
  EXPECT_GE(g["lag_ms"].get<int64_t>(), 500) << g.dump();

  db.down = false;
  // Nothing was half-written: no attendance row, no second person.
  AttendanceQuery all;
  all.limit = 0;
  EXPECT_EQ(*store->CountAttendance(all), 0);
  EXPECT_EQ(*store->CountUsers(), 1);
  auto back = c.Post("/identify", Form({{"type", "IN"}, {"device_id", "door"}}, {kObamaProbe}));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 200) << back->body;
  EXPECT_EQ(Body(back)["success"], true) << back->body;
  bool synced = false;
  for (int i = 0; i < 40 && !synced; ++i) {
    g = Body(c.Get("/health"))["gallery"];
    synced = !g.contains("error");
    if (!synced) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(synced) << g.dump();
  (*server)->Shutdown();
}

}  // namespace
}  // namespace faceatt
