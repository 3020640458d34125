// Several real `faceatt serve` processes on one database (issue 17): three
// nodes on loopback share one data folder (thumbnails and crops) and one
// database, as nodes behind a reverse proxy do: the data folder's SQLite file,
// or a throw-away PostgreSQL (tests/support/postgres.h). The nodes start once
// per suite (models load in a few seconds each).
#include <httplib.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <type_traits>

#include "faceatt/data_dir.h"
#include "support/http_client.h"
#include "support/photos.h"
#include "support/postgres.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using json = nlohmann::json;
using testing::Body;
using testing::Form;
using namespace testing::photos;  // NOLINT: the shared photos by name
using Clock = std::chrono::steady_clock;

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// The one number `sql` selects from PostgreSQL database `url` (-1 on failure).
int64_t PgCount(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  int64_t n = -1;
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
      n = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
    PQclear(r);
  }
  PQfinish(c);
  return n;
}

// A webhook receiver that, while `hold` is set, keeps each request for
// `hold_ms` and then refuses it (500), so the sender's attempt times out
// holding its lease; otherwise it accepts (204) and counts each delivery id.
class Receiver {
 public:
  Receiver() {
    svr_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      if (hold) {
        ++held;
        Sleep(hold_ms);
        res.status = 500;
        return;
      }
      std::lock_guard lock(mu_);
      ++accepted_[req.get_header_value("X-Faceatt-Delivery")];
      res.status = 204;
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !svr_.is_running(); ++i) Sleep(1);
  }
  ~Receiver() {
    svr_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::map<std::string, int> accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  std::atomic<bool> hold{false};
  std::atomic<int> hold_ms{2500};
  std::atomic<int> held{0};

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, int> accepted_;
};

// The two backends: where the nodes' database is.
struct OnSqlite {
  static std::string Url() { return ""; }  // the data folder's file
};
struct OnPostgres {
  static std::string Url() {
    testing::PostgresCluster* pg = testing::PostgresCluster::Shared();
    return pg ? pg->NewDatabase() : "";
  }
};

template <typename Backend>
class MultiNodeTest : public ::testing::Test {
 protected:
  static constexpr int kNodes = 3;

  static void SetUpTestSuite() {
    data_ = new testing::TempDir;
    receiver_ = new Receiver;
    url_ = Backend::Url();
    if (std::is_same_v<Backend, OnPostgres>) {
      ASSERT_NE(url_, "") << "no PostgreSQL for the test";
    }
    for (int i = 0; i < kNodes; ++i) {
      nodes_[i] = new testing::ServeProcess;
      // Webhook timeout 1 s and the shortest lease, so the dead-node case is quick.
      const std::string config = "[paths]\nmodels_dir = \"" + testing::ModelsDir() +
                                 "\"\ndata_dir = \"" + data_->path() + "\"\n" +
                                 "[store]\nurl = \"" + url_ + "\"\n" +
                                 "[server]\nworkers = 1\n"
                                 "[webhook]\nurls = [\"" +
                                 receiver_->url() + "\"]\n" +
                                 "timeout_seconds = 1\nlease_seconds = 5\ncooldown_seconds = 0\n"
                                 "[logging]\nfile = false\n";
      ASSERT_TRUE(nodes_[i]->Start(config)) << nodes_[i]->Output();
    }
  }
  static void TearDownTestSuite() {
    for (auto*& n : nodes_) {
      delete n;
      n = nullptr;
    }
    delete receiver_;
    delete data_;
  }

  static httplib::Client Node(int i) {
    httplib::Client c("127.0.0.1", nodes_[i]->port());
    c.set_read_timeout(60, 0);
    return c;
  }
  static json Health(int i) { return Body(Node(i).Get("/health")); }
  static httplib::Result Identify(int i, const std::string& photo, const std::string& type,
                                  const std::string& device) {
    return Node(i).Post("/identify", Form({{"type", type}, {"device_id", device}}, {photo}));
  }
  // Reads the shared database directly (what every node sees).
  static int64_t Count(const std::string& sql) {
    if (!url_.empty()) return PgCount(url_, sql);
    sqlite3* db = nullptr;
    int64_t n = -1;
    if (sqlite3_open_v2(DataDir(data_->path()).database().c_str(), &db, SQLITE_OPEN_READONLY,
                        nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(db, 5000);
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
          sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
      sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
  }
  // Milliseconds until node i's gallery holds `people` (-1: not within 5 s).
  static int64_t WaitForPeople(int i, int people) {
    const auto t0 = Clock::now();
    while (Clock::now() - t0 < std::chrono::seconds(5)) {
      if (Health(i).value("gallery_people", -1) == people)
        return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
      Sleep(20);
    }
    return -1;
  }

  static inline std::string url_;
  static inline testing::TempDir* data_ = nullptr;
  static inline Receiver* receiver_ = nullptr;
  static inline testing::ServeProcess* nodes_[kNodes] = {};
};

using Backends = ::testing::Types<OnSqlite, OnPostgres>;
struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, OnSqlite> ? "sqlite" : "postgresql";
  }
};
TYPED_TEST_SUITE(MultiNodeTest, Backends, BackendNames);

// Enroll on A: C identifies the person within a second; delete on B: A stops
// matching them.
TYPED_TEST(MultiNodeTest, EnrollAndDeleteReachEveryNodeWithinASecond) {
  const int before = this->Health(2).value("gallery_people", 0);
  auto enrolled = this->Node(0).Post("/enroll", Form({{"name", "Barack Obama"}}, {kObamaA}));
  ASSERT_TRUE(enrolled && enrolled->status == 200) << (enrolled ? enrolled->body : "");
  const std::string id = Body(enrolled)["employee_id"];
  const int64_t synced_ms = this->WaitForPeople(2, before + 1);
  ASSERT_GE(synced_ms, 0) << "node C never saw the enrollment: " << this->Health(2).dump();
  EXPECT_LT(synced_ms, 1000);
  auto seen = this->Identify(2, kObamaProbe, "IN", "door-c");
  ASSERT_TRUE(seen);
  EXPECT_EQ(Body(seen)["employee_id"], id) << seen->body;
  // The node's own thumbnail route reads the shared folder.
  auto thumb = this->Node(1).Get("/users/" + id + "/thumbnail");
  ASSERT_TRUE(thumb);
  EXPECT_EQ(thumb->status, 200);
  const json gallery = this->Health(2)["gallery"];
  EXPECT_GE(gallery.value("version", int64_t{0}), 1) << gallery.dump();

  auto deleted = this->Node(1).Delete("/users/" + id);
  ASSERT_TRUE(deleted && deleted->status == 200) << (deleted ? deleted->body : "");
  ASSERT_GE(this->WaitForPeople(0, before), 0) << this->Health(0).dump();
  auto gone = this->Identify(0, kObamaProbe2, "OUT", "door-a");
  ASSERT_TRUE(gone);
  EXPECT_NE(Body(gone)["success"], true) << gone->body;
  EXPECT_EQ(Body(gone)["reason"], "unknown") << gone->body;
}

// Three nodes with three clients each identify one person at the same moment,
// with the attendance cooldown on: exactly one IN is recorded.
TYPED_TEST(MultiNodeTest, SimultaneousIdentifiesOnEveryNodeRecordOnce) {
  auto enrolled = this->Node(1).Post("/enroll", Form({{"name", "Joe Biden"}}, {kBiden}));
  ASSERT_TRUE(enrolled && enrolled->status == 200) << (enrolled ? enrolled->body : "");
  const std::string id = Body(enrolled)["employee_id"];
  for (int i = 0; i < TestFixture::kNodes; ++i)
    ASSERT_GE(this->WaitForPeople(i, this->Health(1)["gallery_people"]), 0);
  constexpr int kClients = 3;
  std::atomic<int> recorded{0}, refused{0}, errors{0};
  std::vector<std::thread> clients;
  for (int n = 0; n < TestFixture::kNodes; ++n)
    for (int k = 0; k < kClients; ++k)
      clients.emplace_back([&, n, k] {
        auto r = this->Identify(n, kBidenProbe, "IN", "gate-" + std::to_string(n * kClients + k));
        if (!r || r->status != 200) return void(++errors);
        json b = Body(r);
        if (b["success"] == true) ++recorded;
        if (b["reason"] == "already_recorded") ++refused;
      });
  for (auto& t : clients) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(recorded.load(), 1);
  EXPECT_EQ(refused.load(), TestFixture::kNodes * kClients - 1);
  EXPECT_EQ(
      this->Count("SELECT COUNT(*) FROM attendance WHERE status = 'success' AND employee_id = '" +
                  id + "'"),
      1);
}

// The same face enrolled on every node at the same moment (three photos of
// one man, under three names): one node enrolls him, the others are refused
// as enrolled as someone else, although each node's gallery lacked him when
// its request arrived.
TYPED_TEST(MultiNodeTest, TheSameFaceEnrolledOnEveryNodeAtOnceIsEnrolledOnce) {
  const int64_t before = this->Count("SELECT COUNT(*) FROM users");
  const std::string photos[TestFixture::kNodes] = {kObamaA, kObamaB, kObamaProbe2};
  std::atomic<int> enrolled{0}, refused{0};
  std::vector<std::string> others;
  std::mutex mu;
  std::vector<std::thread> clients;
  for (int n = 0; n < TestFixture::kNodes; ++n)
    clients.emplace_back([&, n] {
      auto r = this->Node(n).Post("/enroll",
                                  Form({{"name", "Same Face " + std::to_string(n)}}, {photos[n]}));
      if (r && r->status == 200) return void(++enrolled);
      if (r && r->status == 409 && Body(r)["error"]["reason"] == "face_enrolled_as_someone_else")
        return void(++refused);
      std::lock_guard lock(mu);
      others.push_back(r ? std::to_string(r->status) + " " + r->body : "no answer");
    });
  for (auto& t : clients) t.join();
  EXPECT_TRUE(others.empty()) << others.front();
  EXPECT_EQ(enrolled.load(), 1);
  EXPECT_EQ(refused.load(), TestFixture::kNodes - 1);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM users"), before + 1);
}

// A node dies (kill -9) while delivering webhook events: once its lease runs
// out another node delivers them; no event is lost and none is accepted twice.
TYPED_TEST(MultiNodeTest, ADeadNodesWebhookEventsAreDeliveredByAnother) {
  const int64_t first_new = this->Count("SELECT coalesce(max(id), 0) FROM webhook_outbox") + 1;
  this->receiver_->hold = true;
  this->receiver_->held = 0;
  constexpr int kEvents = 4;
  for (int e = 0; e < kEvents; ++e) {
    auto r = this->Identify(0, kStranger, "IN", "lobby-" + std::to_string(e));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
  }
  // Wait until node A is holding one of them (its attempt hangs at the receiver).
  const std::string a_owner = ":" + std::to_string(this->nodes_[0]->pid());
  const std::string held_by_a =
      "SELECT COUNT(*) FROM webhook_outbox WHERE id >= " + std::to_string(first_new) +
      " AND lease_owner LIKE '%" + a_owner + "' AND status = 'pending'";
  int64_t a_holds = 0;
  for (int i = 0; i < 100 && (a_holds = this->Count(held_by_a)) == 0; ++i) Sleep(20);
  ASSERT_GT(a_holds, 0) << "node A never claimed an event";
  ASSERT_EQ(::kill(this->nodes_[0]->pid(), SIGKILL), 0);
  ::waitpid(this->nodes_[0]->pid(), nullptr, 0);
  this->receiver_->hold = false;
  // The live nodes deliver everything, A's events after its 5 s lease.
  const std::string pending =
      "SELECT COUNT(*) FROM webhook_outbox WHERE id >= " + std::to_string(first_new) +
      " AND status != 'delivered'";
  for (int i = 0; i < 300 && this->Count(pending) != 0; ++i) Sleep(100);
  EXPECT_EQ(this->Count(pending), 0);
  auto accepted = this->receiver_->accepted();
  for (int64_t id = first_new; id < first_new + kEvents; ++id)
    EXPECT_EQ(accepted[std::to_string(id)], 1) << "event " << id;
}

// PostgreSQL stops under load and comes back: the nodes answer 503
// database_unavailable while it is down (nothing half-written) and record
// again by themselves, without a restart.
class MultiNodePostgresTest : public MultiNodeTest<OnPostgres> {};

TEST_F(MultiNodePostgresTest, DatabaseStopsUnderLoadAndTheNodesRecoverByThemselves) {
  auto enrolled = Node(0).Post("/enroll", Form({{"name", "Barack Obama"}}, {kObamaA}));
  ASSERT_TRUE(enrolled && enrolled->status == 200) << (enrolled ? enrolled->body : "");
  for (int i = 0; i < kNodes; ++i) ASSERT_GE(WaitForPeople(i, 1), 0);
  testing::PostgresCluster* pg = testing::PostgresCluster::Shared();
  ASSERT_NE(pg, nullptr);

  std::atomic<bool> stop{false}, down{false};
  std::atomic<int> ok{0}, ok_success{0}, unavailable{0}, other{0}, ok_while_down{0};
  std::mutex mu;
  std::string other_answer;
  std::vector<std::thread> clients;
  for (int n = 0; n < kNodes; ++n)
    clients.emplace_back([&, n] {
      for (int k = 0; !stop && k < 2000; ++k) {
        auto r = Identify(n, kObamaProbe, "IN", "door-" + std::to_string(n));
        const json b = r ? Body(r) : json();
        if (r && r->status == 200) {
          ++ok;
          if (b["success"] == true) ++ok_success;
          if (down) ++ok_while_down;
        } else if (r && r->status == 503 && b["error"]["reason"] == kDatabaseUnavailable) {
          ++unavailable;
        } else {
          ++other;
          std::lock_guard lock(mu);
          other_answer = r ? std::to_string(r->status) + " " + r->body : "no answer";
        }
      }
    });
  Sleep(1500);
  down = true;
  ASSERT_TRUE(pg->Stop());
  Sleep(2000);
  const int unavailable_while_down = unavailable;
  const json health = Health(1);
  down = false;
  ASSERT_TRUE(pg->Start());
  // Every node records again within a few seconds, each by itself.
  std::vector<bool> back(kNodes, false);
  for (int i = 0; i < 100; ++i) {
    bool all = true;
    for (int n = 0; n < kNodes; ++n) {
      if (!back[n]) {
        auto h = Node(n).Get("/health");
        back[n] = h && h->status == 200;
      }
      all = all && back[n];
    }
    if (all) break;
    Sleep(100);
  }
  Sleep(1000);
  stop = true;
  for (auto& t : clients) t.join();
  for (int n = 0; n < kNodes; ++n) {
    EXPECT_TRUE(back[n]) << "node " << n << " did not recover: " << Health(n).dump();
    EXPECT_TRUE(nodes_[n]->Alive());
  }
  EXPECT_GT(unavailable_while_down, 0) << "no 503 while the database was down";
  EXPECT_EQ(health["status"], "unavailable") << health.dump();
  EXPECT_EQ(other.load(), 0) << other_answer;
  EXPECT_GT(ok.load(), ok_while_down.load()) << "identifies answered after the restart";
  // Every success answered is a stored success, and no other was stored.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attendance WHERE status = 'success'"), ok_success.load());
  EXPECT_EQ(ok_success.load(), 1) << "the cooldown held through the outage";
}

}  // namespace
}  // namespace faceatt
