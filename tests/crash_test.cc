// Crash safety (issue 12): `faceatt bulk-enroll` and `faceatt serve` killed with
// SIGKILL at random moments (fixed seed, a bounded number of kills). After each
// kill the database passes PRAGMA integrity_check, everything acknowledged is
// there (whole people for bulk-enroll; every identify answered 200 for serve),
// each recorded event has one webhook outbox row per URL, and a re-run finishes
// the rest.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "faceatt/store.h"
#include "support/testing.h"

namespace faceatt {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::RunCli;
using testing::TempDir;

// Fixed: the same kill moments on every run.
constexpr unsigned kSeed = 12;

std::map<std::string, std::string> Env() {
  return {{"FACEATT_PATHS_MODELS_DIR", testing::ModelsDir()}};
}

// Starts the faceatt binary in `cwd` with stdout to `out`, stderr discarded.
pid_t Spawn(const std::string& cwd, const std::vector<std::string>& args,
            const std::map<std::string, std::string>& env, const std::string& out) {
  // Gone before the child starts: read too early, the last run's output would
  // name the last run's (killed) server's port.
  fs::remove(out);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) _exit(127);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    if (!std::freopen(out.c_str(), "w", stdout)) _exit(127);
    if (!std::freopen("/dev/null", "w", stderr)) _exit(127);
    std::vector<char*> argv = {const_cast<char*>(FACEATT_TEST_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(FACEATT_TEST_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// Kills with SIGKILL; true when the process was still running.
bool Kill(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// Rows of a query on the database, each column as text (NULL as "").
std::vector<std::vector<std::string>> Query(const std::string& db, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db;
    sqlite3_close(h);
    return rows;
  }
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(s); ++i) {
      const auto* text = sqlite3_column_text(s, i);
      row.push_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return rows;
}

void ExpectIntact(const std::string& db) {
  auto check = Query(db, "PRAGMA integrity_check");
  ASSERT_EQ(check.size(), 1u);
  EXPECT_EQ(check[0][0], "ok");
}

// Employee id -> number of embeddings.
std::map<std::string, int> EmbeddingsPerPerson(const std::string& db) {
  std::map<std::string, int> out;
  for (const auto& r : Query(db,
                             "SELECT u.employee_id, COUNT(*) FROM embeddings e "
                             "JOIN users u ON u.id = e.user_id GROUP BY u.employee_id"))
    out[r[0]] = std::stoi(r[1]);
  return out;
}

TEST(CrashTest, BulkEnrollKilledAtRandomMomentsKeepsWholePeopleAndResumes) {
  TempDir t;
  std::vector<std::string> people;
  for (const auto& e : fs::directory_iterator(testing::Face("lfw")))
    if (e.is_directory()) people.push_back(e.path().filename().string());
  std::sort(people.begin(), people.end());
  ASSERT_GE(people.size(), 40u) << "lfw/ in ../shared/faces is required";
  fs::create_directories(t / "kf");
  for (size_t i = 30; i < 40; ++i)
    fs::copy(testing::Face("lfw/" + people[i]), t / ("kf/" + people[i]),
             fs::copy_options::recursive);
  const auto started = std::chrono::steady_clock::now();
  auto ref = RunCli({"--data-dir", "ref", "bulk-enroll", "kf", "--jobs", "2"}, t.path(), Env());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const auto full = EmbeddingsPerPerson(t / "ref/faceatt.db");
  // Kills land anywhere in a run as long as the reference one took (model
  // loading included), however fast this machine and build are.
  const int run_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - started)
                                          .count());

  std::mt19937 random(kSeed);
  std::uniform_int_distribution<int> delay_ms(run_ms / 10, run_ms * 9 / 10);
  constexpr int kKills = 4;
  int killed = 0;
  for (int k = 0; k < kKills; ++k) {
    const pid_t pid = Spawn(t.path(), {"--data-dir", "data", "bulk-enroll", "kf", "--jobs", "2"},
                            Env(), t / "bulk.out");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    killed += Kill(pid);
    if (!fs::exists(t / "data/faceatt.db")) continue;
    ExpectIntact(t / "data/faceatt.db");
    // Whole people only: each one stored has all the embeddings the full run gave.
    for (const auto& [id, n] : EmbeddingsPerPerson(t / "data/faceatt.db")) {
      ASSERT_TRUE(full.count(id)) << id;
      EXPECT_EQ(n, full.at(id)) << id << " after kill " << k;
    }
  }
  EXPECT_GE(killed, 1) << "every run finished before its kill: nothing was tested";
  auto resumed = RunCli({"--data-dir", "data", "bulk-enroll", "kf"}, t.path(), Env());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectIntact(t / "data/faceatt.db");
  EXPECT_EQ(EmbeddingsPerPerson(t / "data/faceatt.db"), full);
}

// The port `faceatt serve --port 0` printed, once it is listening (0 on time-out).
int WaitForPort(const std::string& out, pid_t pid) {
  for (int i = 0; i < 600; ++i) {
    const std::string text = fs::exists(out) ? testing::ReadFile(out) : "";
    const size_t at = text.find("listening on http://127.0.0.1:");
    if (at != std::string::npos) return std::atoi(text.c_str() + at + 30);
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

TEST(CrashTest, ServeKilledUnderLoadKeepsEveryAcknowledgedRecordAndItsOutboxRows) {
  TempDir t;
  const std::string obama = testing::Face("people/face_recognition/obama/obama.jpg");
  auto enrolled = RunCli(
      {"--data-dir", "data", "enroll", "--json", "--name", "Barack Obama", obama}, t.path(), Env());
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  const std::string id = json::parse(enrolled.out)["employee_id"];
  auto env = Env();
  // Every identify is recorded and announced; two receivers that never answer,
  // so the events stay in the outbox.
  env["FACEATT_ATTENDANCE_COOLDOWN_SECONDS"] = "0";
  env["FACEATT_WEBHOOK_COOLDOWN_SECONDS"] = "0";
  env["FACEATT_WEBHOOK_URLS"] = "http://127.0.0.1:9/a,http://127.0.0.1:9/b";
  const std::string probe =
      testing::ReadFile(testing::Face("people/face_recognition/obama/obama2.jpg"));
  const std::string db = t / "data/faceatt.db";

  std::mt19937 random(kSeed);
  std::uniform_int_distribution<int> load_ms(200, 2500);
  constexpr int kKills = 3;
  int acknowledged = 0;
  for (int k = 0; k <= kKills; ++k) {
    const pid_t pid =
        Spawn(t.path(), {"--data-dir", "data", "serve", "--port", "0"}, env, t / "serve.out");
    const int port = WaitForPort(t / "serve.out", pid);
    ASSERT_GT(port, 0) << "serve did not start (round " << k << ")";
    // A client sends identifies one after another until the kill.
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0};
    std::thread client([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(30, 0);
      httplib::MultipartFormDataItems form = {{"type", "IN", "", ""},
                                              {"device_id", "kiosk-1", "", ""},
                                              {"image", probe, "obama2.jpg", "image/jpeg"}};
      while (!stop) {
        auto r = c.Post("/identify", form);
        if (r && r->status == 200 && json::parse(r->body, nullptr, false).value("success", false))
          ++ok;
      }
    });
    if (k < kKills) {
      std::this_thread::sleep_for(std::chrono::milliseconds(load_ms(random)));
      stop = true;
      EXPECT_TRUE(Kill(pid)) << "serve ended before its kill";
    } else {  // the re-run: it serves after all the kills, then stops cleanly
      for (int i = 0; i < 600 && ok == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      stop = true;
      client.join();
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    if (client.joinable()) client.join();
    acknowledged += ok;

    ExpectIntact(db);
    const auto rows = Query(db,
                            "SELECT ts_server, employee_id FROM attendance "
                            "WHERE status = 'success' AND employee_id = '" +
                                id + "'");
    // Every answered identify is there (a kill between commit and answer adds one more).
    EXPECT_GE(static_cast<int>(rows.size()), acknowledged) << "after round " << k;
    // One outbox row per recorded event per URL, stored in the same transaction.
    std::map<std::string, int> per_ts;
    for (const auto& o : Query(db, "SELECT url, body FROM webhook_outbox")) {
      const json body = json::parse(o[1], nullptr, false);
      ASSERT_TRUE(body.is_object()) << o[1];
      EXPECT_EQ(body["event"], "attendance.recognized");
      per_ts[body["ts"].get<std::string>() + " " + o[0]]++;
    }
    EXPECT_EQ(per_ts.size(), 2 * rows.size()) << "after round " << k;
    for (const auto& r : rows)
      for (const char* url : {"http://127.0.0.1:9/a", "http://127.0.0.1:9/b"})
        EXPECT_EQ(per_ts[r[0] + " " + url], 1) << r[0] << " " << url;
  }
  EXPECT_GT(acknowledged, 0);
}

// Issue 14: a second serve on a port the first holds fails to bind and exits 5
// (httplib's default SO_REUSEPORT let both listen and split the requests).
TEST(CrashTest, SecondServeOnATakenPortExits5) {
  TempDir t;
  const pid_t first =
      Spawn(t.path(), {"--data-dir", "data", "serve", "--port", "0"}, Env(), t / "first.out");
  const int port = WaitForPort(t / "first.out", first);
  ASSERT_GT(port, 0) << "the first serve did not start";
  auto second =
      RunCli({"--data-dir", "data", "serve", "--port", std::to_string(port)}, t.path(), Env());
  EXPECT_EQ(second.exit_code, 5) << second.out << second.err;
  EXPECT_NE(second.err.find(std::to_string(port)), std::string::npos) << second.err;
  // The first one still answers.
  httplib::Client c("127.0.0.1", port);
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  ::kill(first, SIGTERM);
  int status = 0;
  ::waitpid(first, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace faceatt
