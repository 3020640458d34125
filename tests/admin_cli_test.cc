// End-to-end tests of the admin commands: bulk-enroll, identify --record,
// users, reset-users, fix-paths, export. Real photos (lfw/ subsets) and models.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <thread>
#include <tuple>

#include "faceatt/export.h"
#include "faceatt/store.h"
#include "support/testing.h"

namespace faceatt {
namespace {
namespace fs = std::filesystem;
using testing::RunCli;
using testing::TempDir;

std::map<std::string, std::string> Env() {
  return {{"FACEATT_PATHS_MODELS_DIR", testing::ModelsDir()}};
}

// Copies `count` LFW people (sorted, from `first`) into dir/<label>/.
std::vector<std::string> CopyPeople(const std::string& dir, size_t first, size_t count) {
  std::vector<std::string> all;
  for (const auto& e : fs::directory_iterator(testing::Face("lfw")))
    if (e.is_directory()) all.push_back(e.path().filename().string());
  std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  fs::create_directories(dir);
  for (size_t i = first; i < first + count && i < all.size(); ++i) {
    fs::copy(testing::Face("lfw/" + all[i]), dir + "/" + all[i], fs::copy_options::recursive);
    out.push_back(all[i]);
  }
  return out;
}

std::unique_ptr<SqliteStore> Open(const std::string& db) {
  StoreOptions o;
  o.path = db;
  auto s = OpenSqliteStore(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

// What a database holds about people: employee id, name, and per embedding the
// source file name, its hash and its vector.
struct Snapshot {
  std::map<std::string, std::string> users;
  std::map<std::string, std::pair<std::string, Embedding>> embeddings;  // "id/file" -> sha, vector
};
Snapshot Take(const std::string& db) {
  Snapshot s;
  auto store = Open(db);
  if (!store) return s;
  auto users = store->ListUsers();
  auto rows = store->LoadEmbeddings("");
  EXPECT_TRUE(users.ok() && rows.ok());
  if (!users.ok() || !rows.ok()) return s;
  for (const auto& u : *users) s.users[u.employee_id] = u.name;
  for (const auto& e : *rows)
    s.embeddings[e.employee_id + "/" + fs::path(e.source_path).filename().string()] = {
        e.source_sha256, e.vector};
  return s;
}
void ExpectSame(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.users, b.users);
  ASSERT_EQ(a.embeddings.size(), b.embeddings.size());
  for (const auto& [key, v] : a.embeddings) {
    auto it = b.embeddings.find(key);
    ASSERT_NE(it, b.embeddings.end()) << key;
    EXPECT_EQ(v.first, it->second.first) << key;
    EXPECT_LT(Distance(v.second, it->second.second), 1e-4) << key;
  }
}

TEST(BulkEnrollCli, SecondRunEnrollsNothing) {
  TempDir t;
  const auto labels = CopyPeople(t / "kf", 0, 6);
  // A dry run first: says what it would do, leaves no data folder behind.
  auto dry = RunCli({"--data-dir", "data", "bulk-enroll", "kf", "--dry-run"}, t.path(), Env());
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would be enrolled"), std::string::npos) << dry.out;
  EXPECT_FALSE(fs::exists(t / "data")) << "a dry run created the data folder";
  auto r1 =
      RunCli({"--data-dir", "data", "bulk-enroll", "kf", "--jobs", "2", "--report", "r1.json"},
             t.path(), Env());
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  EXPECT_NE(r1.out.find("people: 6 created"), std::string::npos) << r1.out;
  auto before = Take(t / "data/faceatt.db");
  EXPECT_EQ(before.users.size(), 6u);
  EXPECT_GE(before.embeddings.size(), 12u);
  // Crops per label, thumbnails per embedding.
  for (const auto& label : labels)
    EXPECT_FALSE(testing::FilesIn(t / ("data/faces/" + label)).empty()) << label;
  auto report1 = nlohmann::json::parse(testing::ReadFile(t / "r1.json"));
  EXPECT_EQ(report1["summary"]["images_enrolled"].get<size_t>(), before.embeddings.size());

  auto r2 =
      RunCli({"--data-dir", "data", "bulk-enroll", "kf", "--report", "r2.csv"}, t.path(), Env());
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_NE(r2.out.find("people: 0 created, 0 updated"), std::string::npos) << r2.out;
  EXPECT_NE(r2.out.find(" 0 enrolled"), std::string::npos) << r2.out;
  ExpectSame(before, Take(t / "data/faceatt.db"));
  auto rows = ParseCsv(testing::ReadFile(t / "r2.csv"));
  ASSERT_TRUE(rows.ok());
  ASSERT_GT(rows->size(), 1u);
  EXPECT_EQ((*rows)[0][3], "outcome");
  for (size_t i = 1; i < rows->size(); ++i) EXPECT_NE((*rows)[i][3], "enrolled") << (*rows)[i][1];
  // Not a terminal: plain progress lines, no carriage-return bar.
  EXPECT_EQ(r2.err.find('\r'), std::string::npos);
}

TEST(BulkEnrollCli, JobsOneAndTwoGiveTheSameDatabase) {
  TempDir t;
  CopyPeople(t / "kf", 10, 6);
  auto a = RunCli({"--data-dir", "d1", "bulk-enroll", "kf", "--jobs", "1"}, t.path(), Env());
  auto b = RunCli({"--data-dir", "d2", "bulk-enroll", "kf", "--jobs", "2"}, t.path(), Env());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto sa = Take(t / "d1/faceatt.db");
  EXPECT_EQ(sa.users.size(), 6u);
  ExpectSame(sa, Take(t / "d2/faceatt.db"));
}

TEST(BulkEnrollCli, KilledRunLeavesWholePeopleAndResumes) {
  TempDir t;
  CopyPeople(t / "kf", 20, 12);
  // The reference: one uninterrupted run.
  auto ref = RunCli({"--data-dir", "ref", "bulk-enroll", "kf", "--jobs", "1"}, t.path(), Env());
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const Snapshot full = Take(t / "ref/faceatt.db");

  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(t.path().c_str()) != 0) _exit(127);
    ::setenv("FACEATT_PATHS_MODELS_DIR", testing::ModelsDir().c_str(), 1);
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    ::execl(FACEATT_TEST_BINARY, FACEATT_TEST_BINARY, "--data-dir", "data", "bulk-enroll", "kf",
            "--jobs", "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once a few people have their crops written (some committed, some not).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    std::error_code ec;
    size_t folders = 0;
    for (auto it = fs::directory_iterator(t / "data/faces", ec);
         !ec && it != fs::directory_iterator(); ++it)
      ++folders;
    if (folders >= 4 || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";

  // Whole people only: everyone stored has exactly the embeddings the full run gave them.
  const Snapshot part = Take(t / "data/faceatt.db");
  EXPECT_GE(part.users.size(), 1u);
  EXPECT_LT(part.users.size(), full.users.size());
  for (const auto& [id, name] : part.users) {
    size_t want = 0, have = 0;
    for (const auto& [key, v] : full.embeddings) want += key.rfind(id + "/", 0) == 0;
    for (const auto& [key, v] : part.embeddings) have += key.rfind(id + "/", 0) == 0;
    EXPECT_EQ(have, want) << id << " " << name;
  }
  auto resumed =
      RunCli({"--data-dir", "data", "bulk-enroll", "kf", "--jobs", "2"}, t.path(), Env());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ExpectSame(full, Take(t / "data/faceatt.db"));
}

TEST(BulkEnrollCli, RefusesUnsafeLabelsAndUsesPeopleCsv) {
  TempDir t;
  const auto labels = CopyPeople(t / "kf", 30, 2);
  fs::create_directories(t / "kf/EMP042_Hong Gildong");
  fs::copy(testing::FilesIn(testing::Face("lfw/Tony_Blair")).front(),
           t / "kf/EMP042_Hong Gildong/a.jpg");
  fs::create_directories(t / "kf/bad\x01label");
  fs::copy(testing::FilesIn(t / ("kf/" + labels[1])).front(), t / "kf/bad\x01label/a.jpg");
  testing::WriteFile(t / "kf/people.csv", "label,employee_id,name,department\n" + labels[1] +
                                              ",E-77,\"Kim, \"\"Jr\"\"\",Sales\n");
  auto r =
      RunCli({"--data-dir", "data", "bulk-enroll", "kf", "--report", "r.csv"}, t.path(), Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rejected bad_label: 1"), std::string::npos) << r.out;
  auto store = Open(t / "data/faceatt.db");
  auto kim = store->GetUser("E-77");
  ASSERT_TRUE(kim.ok()) << kim.status().ToString();
  EXPECT_EQ(kim->name, "Kim, \"Jr\"");
  EXPECT_EQ(kim->department, "Sales");
  auto hong = store->GetUser("EMP042");
  ASSERT_TRUE(hong.ok());
  EXPECT_EQ(hong->name, "Hong Gildong");
  EXPECT_EQ(*store->CountUsers(), 3);  // the bad label made nobody
  EXPECT_FALSE(fs::exists(t / "data/faces/bad\x01label"));

  // A people.csv that points a label outside is refused before anything runs.
  testing::WriteFile(t / "kf/people.csv", "label,employee_id,name\n../../etc,EMP9,X\n");
  auto bad = RunCli({"--data-dir", "data", "bulk-enroll", "kf"}, t.path(), Env());
  EXPECT_EQ(bad.exit_code, 3) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("not a safe folder name"), std::string::npos) << bad.err;
  // A missing folder is bad input too.
  EXPECT_EQ(RunCli({"--data-dir", "data", "bulk-enroll", "nowhere"}, t.path(), Env()).exit_code, 3);
}

// Three people enrolled from kf/, for the commands below.
std::vector<std::string> EnrollThree(const TempDir& t) {
  auto labels = CopyPeople(t / "kf", 40, 3);
  auto r = RunCli({"--data-dir", "data", "bulk-enroll", "kf"}, t.path(), Env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return labels;
}

TEST(IdentifyRecordCli, RecordsSuccessCooldownUnknownAndFailure) {
  TempDir t;
  auto labels = EnrollThree(t);
  const std::string photo = testing::FilesIn(t / ("kf/" + labels[0])).front();
  auto first = RunCli(
      {"--data-dir", "data", "identify", "--record", "--type", "IN", "--device", "door1", photo},
      t.path(), Env());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("recorded: EMP001"), std::string::npos) << first.out;
  auto again = RunCli({"--data-dir", "data", "identify", "--record", "--type", "in", photo},
                      t.path(), Env());
  EXPECT_NE(again.out.find("refused: EMP001"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("already_recorded"), std::string::npos) << again.out;
  // Someone not enrolled, and a photo without a face.
  const std::string stranger =
      testing::FilesIn(testing::Face("lfw/" + std::string("Tony_Blair"))).front();
  // With attendance.keep_photos the unknown face's crop is kept (evidence).
  auto keep = Env();
  keep["FACEATT_ATTENDANCE_KEEP_PHOTOS"] = "true";
  auto unknown =
      RunCli({"--data-dir", "data", "identify", "--record", "--json", stranger}, t.path(), keep);
  EXPECT_EQ(unknown.exit_code, 1) << unknown.err;
  auto j = nlohmann::json::parse(unknown.out);
  EXPECT_EQ(j["attendance"]["status"], "unknown");
  const std::string noface = testing::FilesIn(testing::Face("noface")).front();
  auto none = RunCli({"--data-dir", "data", "identify", "--record", noface}, t.path(), Env());
  EXPECT_NE(none.out.find("not recorded: no_face"), std::string::npos) << none.out;
  // Several faces: nobody is recorded, as serve refuses them (multi_face).
  auto group = RunCli({"--data-dir", "data", "identify", "--record", "--json",
                       testing::Face("group/face_recognition__two_people.jpg")},
                      t.path(), Env());
  EXPECT_EQ(nlohmann::json::parse(group.out)["attendance"]["reason"], "multi_face") << group.out;
  EXPECT_EQ(RunCli({"--data-dir", "data", "identify", "--record", "--type", "LUNCH", photo},
                   t.path(), Env())
                .exit_code,
            2);

  auto store = Open(t / "data/faceatt.db");
  AttendanceQuery q;
  q.newest_first = false;
  auto rows = store->QueryAttendance(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ((*rows)[0].status, kStatusSuccess);
  EXPECT_EQ((*rows)[0].type, "IN");
  EXPECT_EQ((*rows)[0].device_id, "door1");
  EXPECT_EQ((*rows)[1].reason, "already_recorded");
  EXPECT_EQ((*rows)[2].status, kStatusUnknown);
  EXPECT_EQ((*rows)[0].image_ref, "");  // keep_photos is off by default
  ASSERT_EQ((*rows)[2].image_ref.rfind("attempts/", 0), 0u) << (*rows)[2].image_ref;
  EXPECT_FALSE(cv::imread(t / ("data/" + (*rows)[2].image_ref)).empty());
  EXPECT_EQ((*rows)[3].reason, "no_face");
  EXPECT_EQ((*rows)[4].reason, "multi_face");
  EXPECT_EQ((*rows)[4].status, kStatusFailed);
}

TEST(UsersCli, ListShowRenameDelete) {
  TempDir t;
  EnrollThree(t);
  auto list = RunCli({"--data-dir", "data", "users", "list", "--json"}, t.path(), Env());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto users = nlohmann::json::parse(list.out);
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0]["employee_id"], "EMP001");
  EXPECT_GT(users[0]["embeddings"].get<int>(), 0);

  auto show = RunCli({"--data-dir", "data", "users", "show", "EMP002", "--json"}, t.path(), Env());
  ASSERT_EQ(show.exit_code, 0) << show.err;
  auto s = nlohmann::json::parse(show.out);
  ASSERT_FALSE(s["thumbnails"].empty());
  std::vector<std::string> files;
  for (const auto& e : s["thumbnails"]) {
    files.push_back(e["thumbnail"]);
    files.push_back(e["crop"]);
  }
  for (const auto& f : files) EXPECT_TRUE(fs::exists(f)) << f;

  auto rename =
      RunCli({"--data-dir", "data", "users", "rename", "EMP001", "홍길동"}, t.path(), Env());
  ASSERT_EQ(rename.exit_code, 0) << rename.err;
  EXPECT_EQ(Open(t / "data/faceatt.db")->GetUser("EMP001")->name, "홍길동");

  {
    auto store = Open(t / "data/faceatt.db");
    ASSERT_TRUE(store->AddAttendance(testing::AttendanceRow("EMP002")).ok());
  }
  auto del = RunCli({"--data-dir", "data", "users", "delete", "EMP002"}, t.path(), Env());
  ASSERT_EQ(del.exit_code, 0) << del.err;
  for (const auto& f : files) EXPECT_FALSE(fs::exists(f)) << f;
  auto store = Open(t / "data/faceatt.db");
  EXPECT_EQ(store->GetUser("EMP002").status().code(), Code::kNotFound);
  AttendanceQuery q;
  q.employee_id = "EMP002";
  EXPECT_EQ(*store->CountAttendance(q), 1);  // kept without --purge
  store.reset();

  EXPECT_EQ(RunCli({"--data-dir", "data", "users", "delete", "EMP002"}, t.path(), Env()).exit_code,
            3);
  EXPECT_EQ(RunCli({"--data-dir", "data", "users", "show", "EMP404"}, t.path(), Env()).exit_code,
            3);
  EXPECT_EQ(RunCli({"--data-dir", "data", "users", "show", "../EMP001"}, t.path(), Env()).exit_code,
            2);
  EXPECT_EQ(
      RunCli({"--data-dir", "data", "users", "rename", "EMP003", "bad\nname"}, t.path(), Env())
          .exit_code,
      2);
  auto purge =
      RunCli({"--data-dir", "data", "users", "delete", "EMP003", "--purge"}, t.path(), Env());
  EXPECT_EQ(purge.exit_code, 0) << purge.err;
}

TEST(ResetUsersCli, KeepsAttendanceAndLeavesABackupThatOpens) {
  TempDir t;
  EnrollThree(t);
  {
    auto store = Open(t / "data/faceatt.db");
    ASSERT_TRUE(store->AddAttendance(testing::AttendanceRow("EMP001")).ok());
  }
  auto refused = RunCli({"--data-dir", "data", "reset-users"}, t.path(), Env());
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_NE(refused.err.find("--yes"), std::string::npos);
  EXPECT_EQ(*Open(t / "data/faceatt.db")->CountUsers(), 3);

  auto r = RunCli({"--data-dir", "data", "reset-users", "--yes"}, t.path(), Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto store = Open(t / "data/faceatt.db");
  EXPECT_EQ(*store->CountUsers(), 0);
  EXPECT_EQ(*store->CountEmbeddings(), 0);
  EXPECT_EQ(*store->CountAttendance({}), 1);
  EXPECT_FALSE(fs::exists(t / "data/thumbnails"));
  EXPECT_FALSE(fs::exists(t / "data/faces"));
  // Backups only (opening one in WAL mode adds its -wal/-shm beside it).
  auto Backups = [&] {
    std::vector<std::string> out;
    for (const auto& f : testing::FilesIn(t / "data/backups"))
      if (f.size() > 3 && f.substr(f.size() - 3) == ".db") out.push_back(f);
    return out;
  };
  auto backups = Backups();
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_NE(r.out.find(backups[0]), std::string::npos) << r.out;
  auto backup = Open(backups[0]);
  ASSERT_TRUE(backup);
  EXPECT_TRUE(backup->Check().ok());
  EXPECT_EQ(*backup->CountUsers(), 3);
  EXPECT_GT(*backup->CountEmbeddings(), 0);

  auto again =
      RunCli({"--data-dir", "data", "reset-users", "--yes", "--no-backup"}, t.path(), Env());
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Backups().size(), 1u);
}

// The seed service stored absolute paths: makes every reference in t/data
// absolute and returns the data folder's absolute path.
std::string MakeReferencesAbsolute(const TempDir& t) {
  const std::string root = fs::canonical(t / "data").string();
  auto store = Open(t / "data/faceatt.db");
  auto refs = store->ListFileRefs();
  EXPECT_TRUE(refs.ok());
  if (refs.ok())
    for (const auto& ref : *refs)
      if (ref.path[0] != '/') {
        EXPECT_TRUE(store->UpdateFileRef(ref, root + "/" + ref.path).ok());
      }
  return root;
}

TEST(FixPathsCli, RepairsADataFolderMovedElsewhere) {
  TempDir t;
  EnrollThree(t);
  const std::string old_root = MakeReferencesAbsolute(t);
  std::string moved_crop, gone_thumb;
  {
    auto store = Open(t / "data/faceatt.db");
    auto rows = std::move(store->LoadEmbeddings("")).value();
    moved_crop = rows[0].crop_path;
    gone_thumb = rows[1].thumbnail_path;
  }
  fs::rename(t / "data", t / "moved");
  // One crop moved to another folder inside the data folder, one thumbnail lost.
  const std::string crop_name = fs::path(moved_crop).filename().string();
  fs::create_directories(t / "moved/old-crops");
  fs::rename(t / ("moved/" + fs::path(moved_crop).lexically_relative(old_root).string()),
             t / ("moved/old-crops/" + crop_name));
  fs::remove(t / ("moved/" + fs::path(gone_thumb).lexically_relative(old_root).string()));

  auto dry = RunCli({"--data-dir", "moved", "fix-paths", "--dry-run"}, t.path(), Env());
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("dry run"), std::string::npos) << dry.out;
  auto dry_refs = Open(t / "moved/faceatt.db")->ListFileRefs();
  ASSERT_TRUE(dry_refs.ok());
  for (const auto& ref : *dry_refs)
    if (ref.column != "source_path") {
      EXPECT_EQ(ref.path[0], '/') << "dry run changed " << ref.path;
    }

  auto fix = RunCli({"--data-dir", "moved", "fix-paths"}, t.path(), Env());
  ASSERT_EQ(fix.exit_code, 0) << fix.err;
  EXPECT_NE(fix.out.find(", 1 relocated, 1 missing"), std::string::npos) << fix.out;
  int missing = 0;
  auto fixed_refs = Open(t / "moved/faceatt.db")->ListFileRefs();
  ASSERT_TRUE(fixed_refs.ok());
  for (const auto& ref : *fixed_refs) {
    if (ref.column == "source_path") continue;  // the photos live outside the data folder
    if (ref.column == "crop_path" && fs::path(ref.path).filename() == crop_name) {
      EXPECT_EQ(ref.path, "old-crops/" + crop_name);
    }
    if (ref.path == gone_thumb) {
      ++missing;  // reported, left as it was
      continue;
    }
    EXPECT_NE(ref.path[0], '/') << ref.path;
    EXPECT_TRUE(fs::exists(t / ("moved/" + ref.path))) << ref.path;
  }
  EXPECT_EQ(missing, 1);
  auto again = RunCli({"--data-dir", "moved", "fix-paths"}, t.path(), Env());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("0 rewritten, 0 relocated, 1 missing"), std::string::npos) << again.out;
}

// A data folder copied (the old one still there) is made to point at the copy.
TEST(FixPathsCli, RepairsACopiedDataFolder) {
  TempDir t;
  EnrollThree(t);
  MakeReferencesAbsolute(t);
  fs::copy(t / "data", t / "copy", fs::copy_options::recursive);
  auto fix = RunCli({"--data-dir", "copy", "fix-paths"}, t.path(), Env());
  ASSERT_EQ(fix.exit_code, 0) << fix.err;
  auto refs = Open(t / "copy/faceatt.db")->ListFileRefs();
  ASSERT_TRUE(refs.ok());
  int inside = 0;
  for (const auto& ref : *refs) {
    if (ref.column == "source_path")
      continue;  // photos outside the data folder stay where they are
    EXPECT_NE(ref.path[0], '/') << ref.path;
    EXPECT_TRUE(fs::exists(t / ("copy/" + ref.path))) << ref.path;
    ++inside;
  }
  EXPECT_GT(inside, 0);
  // The original folder's database is untouched.
  auto originals = Open(t / "data/faceatt.db")->ListFileRefs();
  for (const auto& ref : *originals) EXPECT_EQ(ref.path[0], '/') << ref.path;
}

// Two people with awkward names and events around midnight in Seoul.
void SeedAttendance(const std::string& data) {
  StoreOptions o;
  o.path = data + "/faceatt.db";
  fs::create_directories(data);
  auto opened = OpenSqliteStore(o);
  ASSERT_TRUE(opened.ok());
  auto store = std::move(opened).value();
  ASSERT_TRUE(store->CreateUser({"EMP001", "Kim, \"Jr\"", "R&D, Seoul"}, {}).ok());
  ASSERT_TRUE(store->CreateUser({"EMP002", "홍길동", ""}, {}).ok());
  auto add = [&](const char* id, const char* type, const char* status, const char* ts) {
    ASSERT_TRUE(
        store->AddAttendance(testing::AttendanceRow(id, type, status, *ParseTimestamp(ts))).ok());
  };
  add("EMP001", "IN", kStatusSuccess, "2026-11-20T14:59:59Z");  // 23:59:59 on the 20th in Seoul
  add("EMP001", "IN", kStatusSuccess, "2026-11-21T00:00:00Z");  // 09:00 on the 21st
  add("EMP002", "IN", kStatusSuccess, "2026-11-20T15:00:00Z");  // 00:00 on the 21st
  add(nullptr, "", kStatusUnknown, "2026-11-21T01:00:00Z");
  add("EMP001", "OUT", kStatusSuccess, "2026-11-21T09:30:00Z");  // 18:30 on the 21st
}

TEST(ExportCli, RoundTripsNamesAndRespectsTimeZoneDays) {
  TempDir t;
  SeedAttendance(t / "data");
  // No models anywhere: export must not need them.
  std::map<std::string, std::string> env = {{"FACEATT_PATHS_MODELS_DIR", t / "no-models"},
                                            {"FACEATT_ATTENDANCE_TIMEZONE", "Asia/Seoul"}};
  auto r = RunCli({"--data-dir", "data", "export", "--from", "2026-11-21", "--to", "2026-11-21"},
                  t.path(), env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ParseCsv(r.out);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u) << r.out;  // header + 3 successes on the 21st in Seoul
  EXPECT_EQ((*rows)[0][0], "id");
  EXPECT_EQ((*rows)[1][4], "EMP002");
  EXPECT_EQ((*rows)[1][5], "홍길동");
  EXPECT_EQ((*rows)[1][1], "2026-11-21T00:00:00.000+09:00");
  EXPECT_EQ((*rows)[2][5], "Kim, \"Jr\"");
  EXPECT_EQ((*rows)[2][6], "R&D, Seoul");
  EXPECT_NE(r.out.find("\"Kim, \"\"Jr\"\"\""), std::string::npos);  // RFC 4180 quoting
  EXPECT_NE(r.out.find("\r\n"), std::string::npos);

  // The same day in UTC holds other events.
  env["FACEATT_ATTENDANCE_TIMEZONE"] = "UTC";
  auto utc = RunCli({"--data-dir", "data", "export", "--from", "2026-11-21", "--to", "2026-11-21",
                     "--format", "json"},
                    t.path(), env);
  ASSERT_EQ(utc.exit_code, 0) << utc.err;
  auto j = nlohmann::json::parse(utc.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["timestamp"], "2026-11-21T00:00:00.000+00:00");
  EXPECT_EQ(j[0]["name"], "Kim, \"Jr\"");

  // --include-failed, jsonl, -o written atomically, --excel BOM.
  env["FACEATT_ATTENDANCE_TIMEZONE"] = "Asia/Seoul";
  auto all = RunCli(
      {"--data-dir", "data", "export", "--include-failed", "--format", "jsonl", "-o", "out.jsonl"},
      t.path(), env);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_TRUE(all.out.empty());
  const std::string lines = testing::ReadFile(t / "out.jsonl");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 5);
  EXPECT_NE(lines.find("\"status\":\"unknown\""), std::string::npos);
  for (const auto& f : fs::directory_iterator(t.path()))
    EXPECT_EQ(f.path().filename().string().find(".tmp"), std::string::npos) << f.path();
  auto excel = RunCli({"--data-dir", "data", "export", "--excel"}, t.path(), env);
  EXPECT_EQ(excel.out.rfind("\xEF\xBB\xBFid,", 0), 0u);

  // Daily summary: first IN 09:00, last OUT 18:30 on the 21st for EMP001.
  auto daily =
      RunCli({"--data-dir", "data", "export", "--summary", "daily", "--employee", "EMP001"},
             t.path(), env);
  ASSERT_EQ(daily.exit_code, 0) << daily.err;
  auto d = ParseCsv(daily.out);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 3u) << daily.out;  // the 20th and the 21st
  EXPECT_EQ((*d)[2][0], "2026-11-21");
  EXPECT_EQ((*d)[2][4], "2026-11-21T09:00:00.000+09:00");
  EXPECT_EQ((*d)[2][6], "9.5");
  EXPECT_EQ((*d)[2][7], "2");

  // Empty range: header only. Bad input: exit codes.
  auto empty = RunCli({"--data-dir", "data", "export", "--from", "2030-01-01"}, t.path(), env);
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_EQ(ParseCsv(empty.out)->size(), 1u);
  EXPECT_EQ(
      RunCli({"--data-dir", "data", "export", "--from", "2026-02-30"}, t.path(), env).exit_code, 2);
  EXPECT_EQ(RunCli({"--data-dir", "data", "export", "--to", "yesterday"}, t.path(), env).exit_code,
            2);
  EXPECT_EQ(RunCli({"--data-dir", "data", "export", "--from", "2026-11-22", "--to", "2026-11-21"},
                   t.path(), env)
                .exit_code,
            2);
  EXPECT_EQ(RunCli({"--data-dir", "data", "export", "--type", "LUNCH"}, t.path(), env).exit_code,
            2);
  EXPECT_EQ(
      RunCli({"--data-dir", "data", "export", "--employee", "EMP404"}, t.path(), env).exit_code, 3);
  EXPECT_EQ(RunCli({"--data-dir", "data", "export", "--format", "xml"}, t.path(), env).exit_code,
            2);
  // A failed export leaves no output file behind.
  EXPECT_NE(
      RunCli({"--data-dir", "data", "export", "--from", "bad", "-o", "never.csv"}, t.path(), env)
          .exit_code,
      0);
  EXPECT_FALSE(fs::exists(t / "never.csv"));
}

// Display columns of UTF-8 text as a terminal shows it: Hangul syllables take two.
size_t Columns(const std::string& s) {
  size_t cols = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    cols += cp >= 0xAC00 && cp <= 0xD7A3 ? 2 : 1;
    i += len;
  }
  return cols;
}

// Issue 14: groups from the CLI, and `report today` with Korean names aligned.
TEST(AdminCliTest, GroupsAndTodaysBoardWithKoreanNames) {
  TempDir t;
  fs::create_directories(t / "data");
  {
    auto store = Open(t / "data/faceatt.db");
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->CreateUser({"E1", "김민준", ""}, {}).ok());
    ASSERT_TRUE(store->CreateUser({"E2", "Penny", ""}, {}).ok());
    ASSERT_TRUE(store->CreateUser({"E3", "이서연", ""}, {}).ok());
    for (auto [id, type, when] : {std::tuple{"E1", "IN", "2026-11-30T08:50:00+09:00"},
                                  std::tuple{"E2", "IN", "2026-11-30T08:40:00+09:00"},
                                  std::tuple{"E2", "OUT", "2026-11-30T12:00:00+09:00"}})
      ASSERT_TRUE(store
                      ->AddAttendance(
                          testing::AttendanceRow(id, type, kStatusSuccess, *ParseTimestamp(when)))
                      .ok());
  }
  auto env = Env();
  env["FACEATT_ATTENDANCE_TIMEZONE"] = "Asia/Seoul";
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", "data"});
    return RunCli(args, t.path(), env);
  };
  auto added = cli({"groups", "add", "Class 3A", "E1", "E3"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_NE(added.out.find("Class 3A"), std::string::npos);
  // An unknown id changes nothing.
  EXPECT_EQ(cli({"groups", "add", "Class 3A", "E2", "NOBODY"}).exit_code, 3);
  EXPECT_EQ(*Open(t / "data/faceatt.db")->ListGroups(),
            (std::map<std::string, std::vector<std::string>>{{"Class 3A", {"E1", "E3"}}}));

  auto board = cli({"report", "today", "--at", "2026-11-30T13:00:00+09:00"});
  ASSERT_EQ(board.exit_code, 0) << board.err;
  EXPECT_NE(board.out.find("1 in, 1 left, 1 not come yet"), std::string::npos) << board.out;
  // Every row's STATE column starts at the same display column as the header's.
  std::istringstream lines(board.out);
  std::string line;
  std::getline(lines, line);  // the summary line
  std::getline(lines, line);
  const size_t state_col = Columns(line.substr(0, line.find("STATE")));
  int rows = 0;
  for (; std::getline(lines, line); ++rows) {
    size_t at = line.find(" in ");
    if (at == std::string::npos) at = line.find(" left ");
    if (at == std::string::npos) at = line.find(" absent ");
    ASSERT_NE(at, std::string::npos) << line;
    EXPECT_EQ(Columns(line.substr(0, at + 1)), state_col) << line;
  }
  EXPECT_EQ(rows, 3);
  auto scoped = cli(
      {"report", "today", "--group", "Class 3A", "--json", "--at", "2026-11-30T13:00:00+09:00"});
  ASSERT_EQ(scoped.exit_code, 0) << scoped.err;
  auto people = nlohmann::json::parse(scoped.out);
  ASSERT_EQ(people.size(), 2u);
  EXPECT_EQ(people[0]["employee_id"], "E1");
  EXPECT_EQ(people[0]["state"], "in");
  EXPECT_EQ(people[1]["state"], "absent");
  EXPECT_EQ(cli({"report", "today", "--group", "Class 9Z"}).exit_code, 3);
  EXPECT_EQ(cli({"report", "daily", "--from", "2026-11-30", "--to", "2026-11-01"}).exit_code, 2);
}

// Issue 14: a CSV for spreadsheets: BOM by default (Korean names in Excel),
// --no-bom without; formula cells neutralised; Excel's date-time beside ISO.
TEST(ExportCli, BomByDefaultFormulaCellsNeutralisedAndExcelTime) {
  TempDir t;
  SeedAttendance(t / "data");
  {
    StoreOptions o;
    o.path = t / "data/faceatt.db";
    auto store = std::move(OpenSqliteStore(o)).value();
    ASSERT_TRUE(
        store->CreateUser({"EMP003", "=HYPERLINK(\"http://x.example\",\"pay\")", "@SUM(A1)"}, {})
            .ok());
    auto row = testing::AttendanceRow("EMP003", "IN", kStatusSuccess,
                                      *ParseTimestamp("2026-11-21T02:00:00Z"));
    row.device_id = "-2+3";
    row.ts_client = "+cmd";
    ASSERT_TRUE(store->AddAttendance(row).ok());
  }
  std::map<std::string, std::string> env = {{"FACEATT_PATHS_MODELS_DIR", t / "no-models"},
                                            {"FACEATT_ATTENDANCE_TIMEZONE", "Asia/Seoul"}};
  auto r = RunCli({"--data-dir", "data", "export", "--from", "2026-11-21", "--to", "2026-11-21"},
                  t.path(), env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("\xEF\xBB\xBFid,timestamp,excel_time,", 0), 0u) << r.out.substr(0, 40);
  auto rows = ParseCsv(r.out);
  ASSERT_TRUE(rows.ok());
  const auto& header = (*rows)[0];
  auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  bool korean = false, formula = false;
  for (size_t i = 1; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    korean |= row[col("name")] == "홍길동";
    if (row[col("employee_id")] != "EMP003") continue;
    formula = true;
    EXPECT_EQ(row[col("name")], "'=HYPERLINK(\"http://x.example\",\"pay\")");
    EXPECT_EQ(row[col("department")], "'@SUM(A1)");
    EXPECT_EQ(row[col("device_id")], "'-2+3");
    EXPECT_EQ(row[col("ts_client")], "'+cmd");
    EXPECT_EQ(row[col("excel_time")], "2026-11-21 11:00:00");
    EXPECT_EQ(row[col("timestamp")], "2026-11-21T11:00:00.000+09:00");
  }
  EXPECT_TRUE(korean) << r.out;
  EXPECT_TRUE(formula) << r.out;
  auto plain = RunCli({"--data-dir", "data", "export", "--no-bom"}, t.path(), env);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.rfind("id,", 0), 0u);
  // JSON keeps values as they are: neutralising is for spreadsheets.
  auto j = RunCli({"--data-dir", "data", "export", "--format", "json", "--employee", "EMP003"},
                  t.path(), env);
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(nlohmann::json::parse(j.out)[0]["department"], "@SUM(A1)");
  EXPECT_EQ(RunCli({"--data-dir", "data", "export", "--no-bom", "--format", "json"}, t.path(), env)
                .exit_code,
            2);
}

// Issue 14: export --group keeps the rows whose group snapshot (as of the
// event) holds that exact group, and every row carries its groups column.
TEST(ExportCli, GroupFilterUsesTheRowsGroupSnapshot) {
  TempDir t;
  fs::create_directories(t / "data");
  {
    auto store = Open(t / "data/faceatt.db");
    ASSERT_TRUE(store);
    for (auto [id, name] : {std::pair{"E1", "김민준"}, {"E2", "Penny"}, {"E3", "이서연"}})
      ASSERT_TRUE(store->CreateUser({id, name, ""}, {}).ok());
    ASSERT_TRUE(store->SetGroupMembership("E1", "3A", true).ok());
    ASSERT_TRUE(store->SetGroupMembership("E2", "3AB", true).ok());  // a name, not a substring
    ASSERT_TRUE(store->SetGroupMembership("E3", "Staff", true).ok());
    ASSERT_TRUE(store->SetGroupMembership("E3", "3A", true).ok());
    for (const char* id : {"E1", "E2", "E3"})
      ASSERT_TRUE(store
                      ->AddAttendance(testing::AttendanceRow(
                          id, "IN", kStatusSuccess, *ParseTimestamp("2026-11-30T08:50:00+09:00")))
                      .ok());
    // E1 leaves 3A: the earlier row stays 3A's, a later one is not.
    ASSERT_TRUE(store->SetGroupMembership("E1", "3A", false).ok());
    ASSERT_TRUE(store
                    ->AddAttendance(testing::AttendanceRow(
                        "E1", "OUT", kStatusSuccess, *ParseTimestamp("2026-11-30T17:00:00+09:00")))
                    .ok());
  }
  auto env = Env();
  env["FACEATT_ATTENDANCE_TIMEZONE"] = "Asia/Seoul";
  auto r = RunCli({"--data-dir", "data", "export", "--group", "3A"}, t.path(), env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rows = ParseCsv(r.out);
  ASSERT_TRUE(rows.ok());
  const auto& header = (*rows)[0];
  const size_t groups = std::find(header.begin(), header.end(), "groups") - header.begin();
  const size_t id = std::find(header.begin(), header.end(), "employee_id") - header.begin();
  ASSERT_LT(groups, header.size());
  ASSERT_EQ(rows->size(), 3u) << r.out;
  EXPECT_EQ((*rows)[1][id], "E1");
  EXPECT_EQ((*rows)[1][groups], "3A");
  EXPECT_EQ((*rows)[2][id], "E3");
  EXPECT_EQ((*rows)[2][groups], "3A;Staff");
  // Without --group every row, each with its snapshot (E1's OUT: none).
  auto all = ParseCsv(RunCli({"--data-dir", "data", "export"}, t.path(), env).out);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ((*all)[2][groups], "3AB");
  EXPECT_EQ((*all)[4][groups], "");
  auto json = RunCli({"--data-dir", "data", "export", "--group", "Staff", "--format", "json"},
                     t.path(), env);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["employee_id"], "E3");
  EXPECT_EQ(j[0]["groups"], "3A;Staff");
  EXPECT_EQ(RunCli({"--data-dir", "data", "export", "--group", ""}, t.path(), env).exit_code, 2);
  EXPECT_EQ(RunCli({"--data-dir", "data", "export", "--group", "9Z"}, t.path(), env).exit_code, 3);
}

// Issue 14 over the CLI: add (a forgotten check-out at its real time), amend,
// void, each audited with the CLI user; refused corrections change nothing;
// a deleted person's rows keep the name; a retired --id is refused unless
// --reuse-retired-id, and then the old rows stay with the old person.
TEST(AttendanceCli, CorrectionsAuditedHistoryKeptRetiredIdRefused) {
  TempDir t;
  auto env = Env();
  env["FACEATT_ATTENDANCE_TIMEZONE"] = "Asia/Seoul";
  env["USER"] = "hr-kim";
  const std::string obama = testing::Face("people/face_recognition/obama/obama.jpg");
  const std::string biden = testing::Face("people/face_recognition/biden/biden.jpg");
  auto enrolled =
      RunCli({"--data-dir", "data", "enroll", "--id", "EMP002", "--name", "Barack Obama", obama},
             t.path(), env);
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.err;
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--data-dir", "data", "attendance"});
    return RunCli(args, t.path(), env);
  };
  auto in = run({"add", "EMP002", "--type", "IN", "--at", "2026-11-20T09:05", "--reason",
                 "badge reader down", "--json"});
  ASSERT_EQ(in.exit_code, 0) << in.err;
  const int64_t in_id = nlohmann::json::parse(in.out)["id"];
  EXPECT_EQ(nlohmann::json::parse(in.out)["ts_server"], "2026-11-20T00:05:00.000Z");
  auto out = run({"add", "EMP002", "--type", "OUT", "--at", "2026-11-20 18:00", "--reason",
                  "forgot to check out", "--by", "lead"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  auto dup = run({"add", "EMP002", "--type", "OUT", "--at", "2026-11-20T18:00:00+09:00", "--reason",
                  "second entry", "--json"});
  ASSERT_EQ(dup.exit_code, 0) << dup.err;
  const int64_t dup_id = nlohmann::json::parse(dup.out)["id"];
  ASSERT_EQ(run({"amend", std::to_string(in_id), "--at", "2026-11-20T08:55", "--reason",
                 "clock was slow"})
                .exit_code,
            0);
  ASSERT_EQ(run({"void", std::to_string(dup_id), "--reason", "entered twice"}).exit_code, 0);

  // Refused: exit codes, and the database is as it was.
  auto snapshot = [&] {
    return run({"list", "--json", "--include-voided"}).out +
           run({"history", std::to_string(in_id), "--json"}).out +
           run({"history", std::to_string(dup_id), "--json"}).out;
  };
  const std::string before = snapshot();
  EXPECT_EQ(run({"void", std::to_string(dup_id), "--reason", "again"}).exit_code, 4);
  EXPECT_EQ(run({"amend", "999", "--type", "IN", "--reason", "x"}).exit_code, 3);
  EXPECT_EQ(run({"amend", std::to_string(in_id), "--reason", "nothing to change"}).exit_code, 2);
  EXPECT_EQ(run({"add", "EMP002", "--type", "IN", "--at", "yesterday", "--reason", "x"}).exit_code,
            2);
  EXPECT_EQ(
      run({"add", "EMP404", "--type", "IN", "--at", "2026-11-20T09:00", "--reason", "x"}).exit_code,
      3);
  EXPECT_EQ(snapshot(), before);

  auto history = run({"history", std::to_string(in_id), "--json"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  auto h = nlohmann::json::parse(history.out);
  EXPECT_EQ(h["ts_server"], "2026-11-19T23:55:00.000Z");
  EXPECT_EQ(h["corrected"], true);
  ASSERT_EQ(h["corrections"].size(), 2u);  // the add, then the amend
  EXPECT_EQ(h["corrections"][1]["action"], "amend");
  EXPECT_EQ(h["corrections"][1]["by"], "cli:hr-kim");
  EXPECT_EQ(h["corrections"][1]["reason"], "clock was slow");
  EXPECT_EQ(h["corrections"][1]["old"]["ts_server"], "2026-11-20T00:05:00.000Z");
  auto listed = nlohmann::json::parse(run({"list", "--json"}).out);
  EXPECT_EQ(listed.size(), 2u);  // the voided one is left out
  EXPECT_EQ(nlohmann::json::parse(run({"list", "--json", "--include-voided"}).out).size(), 3u);

  // Export: voided out by default; in with --include-voided, with the trail.
  auto csv = RunCli({"--data-dir", "data", "export", "--no-bom"}, t.path(), env);
  EXPECT_EQ(ParseCsv(csv.out)->size(), 3u) << csv.out;
  auto trail = RunCli({"--data-dir", "data", "export", "--format", "json", "--include-voided",
                       "--with-corrections"},
                      t.path(), env);
  ASSERT_EQ(trail.exit_code, 0) << trail.err;
  auto rows = nlohmann::json::parse(trail.out);
  ASSERT_EQ(rows.size(), 3u);
  int voided = 0;
  for (const auto& r : rows) {
    voided += r["voided"].get<bool>();
    EXPECT_GE(r["corrections"].size(), 1u);
  }
  EXPECT_EQ(voided, 1);

  // Deleting the person keeps the rows' name; the id is retired.
  ASSERT_EQ(RunCli({"--data-dir", "data", "users", "delete", "EMP002"}, t.path(), env).exit_code,
            0);
  auto kept = nlohmann::json::parse(run({"list", "--json"}).out);
  ASSERT_EQ(kept.size(), 2u);
  for (const auto& r : kept) {
    EXPECT_EQ(r["name_at_event"], "Barack Obama");
    EXPECT_TRUE(r["current_name"].is_null());
  }
  auto refused =
      RunCli({"--data-dir", "data", "enroll", "--id", "EMP002", "--name", "Brand New Hire", biden},
             t.path(), env);
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_NE(refused.err.find("retired"), std::string::npos) << refused.err;
  auto reused = RunCli({"--data-dir", "data", "enroll", "--id", "EMP002", "--name",
                        "Brand New Hire", "--reuse-retired-id", biden},
                       t.path(), env);
  ASSERT_EQ(reused.exit_code, 0) << reused.err;
  for (const auto& r : nlohmann::json::parse(run({"list", "--json"}).out)) {
    EXPECT_EQ(r["name_at_event"], "Barack Obama");
    EXPECT_TRUE(r["current_name"].is_null()) << "the old rows went to the new hire";
  }
}

}  // namespace
}  // namespace faceatt
