// End to end: `faceatt import` from the three Python systems, with real parts:
// a MariaDB server (started once for the suite) holding the attendance API's
// schema and rows, dumped with mysqldump and exported with `mysql --batch`;
// face_recognition's descriptors of real photos (dlib's ResNet, run by
// faceatt's dlib engine) in .npy files; the ML service's data/ folder; a
// school-system SQLite file. Then the people are identified, and malformed
// inputs each fail naming file and line with the database unchanged.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "faceatt/image.h"
#include "migrate/npy.h"
#include "support/testing.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Face;
using testing::TempDir;

const std::string kObama = "people/face_recognition/obama/";
const std::string kBiden = "people/face_recognition/biden/";
const std::string kKit = "people/face_recognition/kit_harington/";
const std::string kRose = "people/face_recognition/rose_leslie/";

// Runs a shell command; its output goes to `log`.
int Sh(const std::string& cmd, const std::string& log = "/dev/null") {
  const int rc = std::system(("(" + cmd + ") >" + log + " 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// face_recognition's descriptor of a photo: dlib's ResNet on dlib's engine.
std::vector<double> Descriptor(const std::string& photo) {
  static std::unique_ptr<FacePipeline> pipeline = [] {
    Config c = testing::TestConfig();
    c.models.engine = "dlib";
    auto models = LoadModels(c);
    EXPECT_TRUE(models.ok()) << models.status().ToString();
    return models.ok() ? (*models)->NewPipeline() : nullptr;
  }();
  if (!pipeline) return {};
  auto image = ReadImageFile(photo, {});
  EXPECT_TRUE(image.ok()) << photo;
  auto faces = pipeline->Analyze(*image);
  EXPECT_TRUE(faces.ok() && !faces->empty()) << photo;
  if (!faces.ok() || faces->empty()) return {};
  return {(*faces)[0].embedding.begin(), (*faces)[0].embedding.end()};
}

// A DeepFace Facenet-like 128-D vector: same size, another space.
std::vector<double> OtherModelVector(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0, 1.5);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

void WriteNpy(const std::string& path, const std::vector<double>& v, int rows,
              const std::string& descr, int version) {
  testing::WriteFile(path, migrate::EncodeNpy(v, rows, v.size() / rows, descr, version, rows == 1));
}

// The attendance API's schema, as its SQLAlchemy models created it.
const char* const kKoreanSchema = R"sql(
CREATE DATABASE attendance_db CHARACTER SET utf8mb4;
USE attendance_db;
CREATE TABLE users (
  id INT AUTO_INCREMENT PRIMARY KEY,
  employee_id VARCHAR(50) NOT NULL UNIQUE,
  name VARCHAR(100) NOT NULL,
  profile_image VARCHAR(255),
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE user_embeddings (
  id INT AUTO_INCREMENT PRIMARY KEY,
  employee_id VARCHAR(50) NOT NULL,
  vector_path VARCHAR(255) NOT NULL,
  quality_score FLOAT,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE attendance (
  id INT AUTO_INCREMENT PRIMARY KEY,
  employee_id VARCHAR(50) NOT NULL,
  type VARCHAR(10),
  device_id VARCHAR(100),
  distance FLOAT,
  ts_server DATETIME NOT NULL,
  ts_client VARCHAR(50),
  image_ref VARCHAR(255)
);
INSERT INTO users (employee_id, name, profile_image) VALUES
  ('EMP001', 'Barack Obama', '/srv/app/encodings/EMP001_1709600000.npy'),
  ('EMP002', '조 바이든', '/srv/app/encodings/EMP002_1709600100.npy'),
  ('EMP003', 'Kit Harington', '/srv/app/encodings/EMP003_1709600200.npy'),
  ('EMP007', 'Rose O''Leslie', NULL);
INSERT INTO user_embeddings (employee_id, vector_path, quality_score) VALUES
  ('EMP001', '/srv/app/encodings/EMP001_1709600000.npy', 0.91),
  ('EMP007', 'EMP007_1709600300.npy', 0.88);
INSERT INTO attendance (employee_id, type, device_id, distance, ts_server, ts_client, image_ref) VALUES
  ('EMP001', 'IN', 'kiosk-1', 0.31, '2024-03-05 09:01:02', '2024-03-05T18:01:01+09:00', 'captures/a.jpg'),
  ('EMP002', 'OUT', 'kiosk-2', 0.38, '2024-03-05 18:30:00', NULL, NULL),
  ('UNKNOWN', 'IN', 'kiosk-1', 0.72, '2024-03-05 09:05:00', NULL, 'captures/u.jpg'),
  ('FAILED_NO_FACE', NULL, 'kiosk-1', NULL, '2024-03-05 09:06:00', NULL, NULL);
)sql";

class ImportCliTest : public ::testing::Test {
 protected:
  // One MariaDB server for the suite, started by the first test that needs
  // it (the ML and school tests do not): the schema and rows above, dumped once.
  static void StartServer() {
    if (server_dir_) return;
    server_dir_ = new TempDir();
    const std::string d = server_dir_->path(), log = d + "/server.log";
    const std::string user = ::geteuid() == 0 ? " --user=root" : "";
    // A temporary folder of its own: two servers (ctest -j2) sharing /tmp can
    // collide on the names of their temporary tables.
    fs::create_directories(d + "/tmp");
    if (Sh("mariadb-install-db --no-defaults --auth-root-authentication-method=normal "
           "--skip-test-db --tmpdir=" +
               d + "/tmp --datadir=" + d + "/data" + user,
           log) != 0) {
      setup_error_ =
          "mariadb-install-db failed (Debian package mariadb-server): " + testing::ReadFile(log);
      return;
    }
    // Debian puts the server in /usr/sbin, which a user's PATH may lack.
    const std::string mariadbd =
        fs::exists("/usr/sbin/mariadbd") ? "/usr/sbin/mariadbd" : "mariadbd";
    server_pid_ = ::fork();
    if (server_pid_ == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string datadir = "--datadir=" + d + "/data", sock = "--socket=" + d + "/sock",
                        pid = "--pid-file=" + d + "/pid", err = "--log-error=" + log,
                        tmp = "--tmpdir=" + d + "/tmp";
      if (::geteuid() == 0)
        ::execlp(mariadbd.c_str(), "mariadbd", "--no-defaults", datadir.c_str(), sock.c_str(),
                 pid.c_str(), err.c_str(), tmp.c_str(), "--skip-networking", "--user=root",
                 nullptr);
      else
        ::execlp(mariadbd.c_str(), "mariadbd", "--no-defaults", datadir.c_str(), sock.c_str(),
                 pid.c_str(), err.c_str(), tmp.c_str(), "--skip-networking", nullptr);
      ::_exit(127);
    }
    const std::string client = "mariadb --no-defaults -uroot --socket=" + d + "/sock";
    bool up = false;
    for (int i = 0; i < 300 && !up; ++i) {
      up = Sh(client + " -e 'SELECT 1'") == 0;
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!up) {
      setup_error_ =
          "mariadbd did not start (Debian package mariadb-server): " + testing::ReadFile(log);
      return;
    }
    testing::WriteFile(d + "/schema.sql", kKoreanSchema);
    if (Sh(client + " < " + d + "/schema.sql", log) != 0 ||
        Sh("mysqldump --no-defaults -uroot --socket=" + d + "/sock attendance_db > " + d +
           "/dump.sql") != 0) {
      setup_error_ = "loading or dumping the schema failed: " + testing::ReadFile(log);
      return;
    }
    fs::create_directories(d + "/tsv");
    for (const char* table : {"users", "user_embeddings", "attendance"})
      if (Sh(client + " --batch attendance_db -e 'SELECT * FROM " + table + "' > " + d + "/tsv/" +
             table + ".tsv") != 0)
        setup_error_ = std::string("mysql --batch export of ") + table + " failed";
  }
  static void TearDownTestSuite() {
    if (server_pid_ > 0) {
      ::kill(server_pid_, SIGTERM);
      ::waitpid(server_pid_, nullptr, 0);
    }
    delete server_dir_;
  }

  void SetUp() override {
    ASSERT_TRUE(testing::RealModels()) << "models are required";
    env_ = {{"FACEATT_PATHS_MODELS_DIR", testing::ModelsDir()},
            {"FACEATT_PATHS_DATA_DIR", work_ / "data"}};
  }
  testing::CliResult Run(const std::vector<std::string>& args) {
    return testing::RunCli(args, work_.path(), env_);
  }
  std::string Dump() const {
    StartServer();
    EXPECT_TRUE(setup_error_.empty()) << setup_error_;
    return server_dir_->path() + "/dump.sql";
  }
  std::string Tsv() const {
    StartServer();
    EXPECT_TRUE(setup_error_.empty()) << setup_error_;
    return server_dir_->path() + "/tsv";
  }

  // The attendance API's encodings and images folders for the rows above.
  void WriteKoreanFiles() {
    fs::create_directories(work_ / "enc");
    fs::create_directories(work_ / "img");
    // Obama: face_recognition's float64 (128,) of one photo, a thumbnail of another.
    WriteNpy(work_ / "enc/EMP001_1709600000.npy", Descriptor(Face(kObama + "obama.jpg")), 1, "<f8",
             1);
    fs::copy_file(Face(kObama + "obama2.jpg"), work_ / "img/EMP001_thumb_1709600000.jpg");
    // Biden: a Facenet 128-D vector, with a thumbnail: re-embedded from it.
    WriteNpy(work_ / "enc/EMP002_1709600100.npy", OtherModelVector(128, 2), 1, "<f4", 1);
    fs::copy_file(Face(kBiden + "biden.jpg"), work_ / "img/EMP002_thumb_1709600100.jpg");
    // Kit: the 512-D HOG fallback, no photo: needs enrollment.
    WriteNpy(work_ / "enc/EMP003_1709600200.npy", OtherModelVector(512, 3), 1, "<f4", 2);
    // Rose: a dlib vector with no photo to check it: refused unless trusted.
    WriteNpy(work_ / "enc/EMP007_1709600300.npy", Descriptor(Face(kRose + "img1.jpg")), 1, "<f4",
             3);
  }
  std::vector<std::string> KoreanArgs(const std::string& source, const std::string& path) {
    return {"import", source, path, "--encodings", work_ / "enc", "--images", work_ / "img"};
  }

  // The employee id named for the largest face ("" = nobody).
  std::string Identify(const std::string& photo) {
    auto r = Run({"identify", "--json", photo});
    const json j = json::parse(r.out.empty() ? "{}" : r.out, nullptr, false);
    if (j.is_discarded() || !j.contains("faces") || j["faces"].empty() ||
        !j["faces"][0]["matched"].get<bool>())
      return "";
    return j["faces"][0]["employee_id"];
  }
  struct Counts {
    int64_t users = 0, embeddings = 0, attendance = 0;
    bool operator==(const Counts& o) const {
      return users == o.users && embeddings == o.embeddings && attendance == o.attendance;
    }
  };
  Counts Count() {
    auto s = testing::OpenTestStore(work_ / "data/faceatt.db");
    if (!s) return {};
    return {*s->CountUsers(), *s->CountEmbeddings(), *s->CountAttendance({})};
  }

  static TempDir* server_dir_;
  static pid_t server_pid_;
  static std::string setup_error_;
  TempDir work_;
  std::map<std::string, std::string> env_;
};

TempDir* ImportCliTest::server_dir_ = nullptr;
pid_t ImportCliTest::server_pid_ = -1;
std::string ImportCliTest::setup_error_;

TEST_F(ImportCliTest, MysqldumpOfTheAttendanceApiComesAlongAndIsIdentified) {
  WriteKoreanFiles();
  auto r = Run(KoreanArgs("mysqldump", Dump()));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("people: 4 (4 created, 0 already imported, 2 need enrollment)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("embeddings: 1 imported, 1 re-embedded from photos, 3 refused"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("attendance: 4 added (2 success, 1 unknown, 1 failed), 0 already there"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("512-D vector of another model"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("EMP002_1709600100.npy[0]: distance"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("need photos (enroll them with `faceatt enroll --id ID PHOTO`): EMP003 "
                       "EMP007"),
            std::string::npos)
      << r.out;

  // Names and ids kept; the imported vector and the re-embedded photo both identify.
  auto store = testing::OpenTestStore(work_ / "data/faceatt.db");
  ASSERT_TRUE(store);
  EXPECT_EQ(store->GetUser("EMP002")->name, "조 바이든");
  EXPECT_EQ(store->GetUser("EMP007")->name, "Rose O'Leslie");
  EXPECT_EQ(store->GetUser("EMP001")->embeddings, 1);
  // Attendance keeps times, devices, distances; audit rows keep their reasons.
  AttendanceQuery q;
  q.newest_first = false;
  auto rows = store->QueryAttendance(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u);
  const AttendanceRecord& in = (*rows)[0];
  EXPECT_EQ(in.employee_id, "EMP001");
  EXPECT_EQ(in.type, "IN");
  EXPECT_EQ(in.device_id, "kiosk-1");
  EXPECT_NEAR(*in.distance, 0.31, 1e-6);
  EXPECT_EQ(FormatUtc(in.ts_server_ms), "2024-03-05T09:01:02.000Z");
  EXPECT_EQ(in.ts_client, "2024-03-05T18:01:01+09:00");
  EXPECT_EQ(in.image_ref, "captures/a.jpg");
  EXPECT_EQ((*rows)[1].status, kStatusUnknown);
  EXPECT_FALSE((*rows)[1].employee_id.has_value());
  EXPECT_EQ((*rows)[2].status, kStatusFailed);
  EXPECT_EQ((*rows)[2].reason, "no_face");
  EXPECT_EQ((*rows)[3].type, "OUT");
  store.reset();

  EXPECT_EQ(Identify(Face(kObama + "obama3.jpg")), "EMP001");
  EXPECT_EQ(Identify(Face(kBiden + "biden2.jpg")), "EMP002");

  // Resumable: a second run adds nothing.
  const Counts before = Count();
  r = Run(KoreanArgs("mysqldump", Dump()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 created, 4 already imported"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 added (0 success, 0 unknown, 0 failed), 4 already there"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(Count() == before);

  // Generated ids continue after the highest imported EMP number.
  r = Run({"enroll", "--json", "--name", "Kit", Face(kKit + "john1.jpeg")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["employee_id"], "EMP008");
}

TEST_F(ImportCliTest, MysqlBatchTsvTrustedAndDryRun) {
  WriteKoreanFiles();
  // A dry run reads and checks everything and leaves no database behind.
  auto args = KoreanArgs("tsv", Tsv());
  args.push_back("--dry-run");
  auto r = Run(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("dry run: nothing was written"), std::string::npos);
  EXPECT_NE(r.out.find("people: 4 (4 created"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(work_ / "data/faceatt.db"));
  // --trust-unchecked takes Rose's photo-less 128-D vector.
  args.back() = "--trust-unchecked";
  r = Run(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("embeddings: 2 imported, 1 re-embedded from photos, 2 refused"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("attendance: 4 added"), std::string::npos) << r.out;
  EXPECT_EQ(Identify(Face(kRose + "img2.jpg")), "EMP007");
}

TEST_F(ImportCliTest, MlServiceDataFolderComesAlong) {
  const std::string data = work_ / "mldata";
  fs::create_directories(data + "/embeddings");
  std::vector<double> obama = Descriptor(Face(kObama + "obama.jpg"));
  const std::vector<double> obama2 = Descriptor(Face(kObama + "obama1.jpg"));
  obama.insert(obama.end(), obama2.begin(), obama2.end());
  WriteNpy(data + "/embeddings/obama.npy", obama, 2, "<f8", 2);  // N x 128
  WriteNpy(data + "/embeddings/rose.npy", Descriptor(Face(kRose + "img1.jpg")), 1, ">f4", 1);
  fs::create_directories(data + "/faces/obama");
  fs::copy_file(Face(kObama + "obama2.jpg"), data + "/faces/obama/0001.jpg");
  fs::create_directories(data + "/faces/kit harington");
  fs::copy_file(Face(kKit + "john1.jpeg"), data + "/faces/kit harington/0001.jpg");
  auto r = Run({"import", "ml-data", data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Obama's two agree with his crop; Rose's (no crop) is trusted; Kit has crops only.
  EXPECT_NE(r.out.find("embeddings: 3 imported, 1 re-embedded from photos, 0 refused"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("kit_harington\tkit harington\tcreated, 1 photos re-embedded"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(Identify(Face(kObama + "obama3.jpg")), "obama");
  EXPECT_EQ(Identify(Face(kRose + "img2.jpg")), "rose");
  EXPECT_EQ(Identify(Face(kKit + "john2.jpeg")), "kit_harington");
}

// The school system's schema.
const char* const kSchoolSchema = R"sql(
CREATE TABLE classes (id INTEGER PRIMARY KEY, class_name TEXT NOT NULL, class_code TEXT UNIQUE,
                      teacher_id INTEGER);
CREATE TABLE students (id INTEGER PRIMARY KEY, student_id TEXT UNIQUE NOT NULL,
                       full_name TEXT NOT NULL, class_id INTEGER REFERENCES classes(id),
                       face_enrolled INTEGER DEFAULT 0);
CREATE TABLE face_embeddings (id INTEGER PRIMARY KEY, student_id TEXT NOT NULL,
                              embedding TEXT NOT NULL, created_at TEXT);
CREATE TABLE attendance (id INTEGER PRIMARY KEY, student_id TEXT NOT NULL, class_id INTEGER,
                         marked_at TEXT NOT NULL, confidence_score REAL);
INSERT INTO classes VALUES (1, 'Grade 10 A', '10A', 7), (2, 'Grade 11 B', '11B', 8);
INSERT INTO students VALUES (1, 'S2024001', 'Ji-woo Park', 1, 1), (2, 'S2024002', 'Min Lee', 1, 1),
                            (3, 'S2024003', 'Ana Ruiz', 2, 0);
INSERT INTO attendance VALUES (1, 'S2024001', 1, '2024-09-02 08:55:10', 0.83),
                              (2, 'S2024003', 2, '2024-09-02 09:01:00', 0.79);
)sql";

std::string BuildSchoolDb(const std::string& path, const std::string& extra_sql = "") {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  std::string vec = "[";
  for (int i = 0; i < 512; ++i) vec += (i ? "," : "") + std::to_string(0.01 * (i % 7));
  vec += "]";
  const std::string sql =
      std::string(kSchoolSchema) +
      "INSERT INTO face_embeddings (student_id, embedding) VALUES ('S2024001', '" + vec +
      "'), ('S2024002', '" + vec + "');" + extra_sql;
  char* err = nullptr;
  sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string out = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  return out;
}

TEST_F(ImportCliTest, SchoolSqliteClassesStudentsAndAttendance) {
  ASSERT_EQ(BuildSchoolDb(work_ / "school.db"), "");
  auto r = Run({"import", "school-sqlite", work_ / "school.db", "--utc-offset", "+09:00"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("people: 3 (3 created, 0 already imported, 3 need enrollment)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("embeddings: 0 imported, 0 re-embedded from photos, 2 refused"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("512-D InsightFace vector (another model)"), std::string::npos);
  EXPECT_NE(r.out.find("class Grade 10 A (group): S2024001 S2024002"), std::string::npos)
      << r.out;
  auto store = testing::OpenTestStore(work_ / "data/faceatt.db");
  ASSERT_TRUE(store);
  EXPECT_EQ(store->GetUser("S2024003")->department, "Grade 11 B");
  auto groups = store->ListGroups();  // classes became groups
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  EXPECT_EQ((*groups)["Grade 10 A"], (std::vector<std::string>{"S2024001", "S2024002"}));
  EXPECT_EQ((*groups)["Grade 11 B"], (std::vector<std::string>{"S2024003"}));
  AttendanceQuery q;
  q.employee_id = "S2024001";
  auto rows = store->QueryAttendance(q);
  ASSERT_TRUE(rows.ok() && rows->size() == 1u);
  EXPECT_EQ(FormatUtc((*rows)[0].ts_server_ms), "2024-09-01T23:55:10.000Z");
  EXPECT_EQ((*rows)[0].device_id, "class:10A");
}

TEST_F(ImportCliTest, MalformedInputsNameFileAndLineAndChangeNothing) {
  WriteKoreanFiles();
  ASSERT_EQ(Run(KoreanArgs("mysqldump", Dump())).exit_code, 0);
  const Counts before = Count();
  ASSERT_EQ(before.users, 4);
  const std::string dump = testing::ReadFile(Dump());
  auto line_of = [&](const std::string& text, const std::string& needle) {
    return std::to_string(1 + std::count(text.begin(), text.begin() + text.find(needle), '\n'));
  };
  // Each case: new people and rows would come with it, so "nothing changed" means something.
  const std::string more =
      "INSERT INTO `users` VALUES (9,'EMP009','New Person',NULL,'2024-01-01 00:00:00');\n"
      "INSERT INTO `attendance` VALUES (9,'EMP009','IN','k',0.2,'2024-04-01 "
      "08:00:00',NULL,NULL);\n";
  auto with_more = [&](std::string text) {
    text.insert(text.rfind("UNLOCK TABLES;"), more);
    return text;
  };
  struct Case {
    std::string name, dump, expect;
  };
  auto swap = [&](const std::string& from, const std::string& to) {
    std::string text = with_more(dump);
    return text.replace(text.find(from), from.size(), to);
  };
  const std::string bad_row = swap("'New Person',NULL,", "'New Person',");
  const std::string bad_type = swap("'EMP009','IN'", "'EMP009','LUNCH'");
  const std::string bad_time = swap("'2024-04-01 08:00:00'", "'yesterday'");
  const std::string missing_npy = swap("'New Person',NULL", "'New Person','EMP009_1.npy'");
  const std::string truncated_npy = swap("'New Person',NULL", "'New Person','EMP009_2.npy'");
  const std::string npy = migrate::EncodeNpy(std::vector<double>(128, 0.1), 1, 128, "<f4", 1);
  testing::WriteFile(work_ / "enc/EMP009_2.npy", npy.substr(0, npy.size() - 100));
  const Case cases[] = {
      {"row with a value missing", bad_row, ":" + line_of(bad_row, "(9,'EMP009'") + ": a row of 4"},
      {"type", bad_type, ":" + line_of(bad_type, "'LUNCH'") + ": type 'LUNCH'"},
      {"time", bad_time, ":" + line_of(bad_time, "'yesterday'") + ": timestamp"},
      {"missing npy", missing_npy,
       ":" + line_of(missing_npy, "EMP009_1.npy") + ": EMP009_1.npy not found"},
      {"truncated npy", truncated_npy, "EMP009_2.npy: not a usable .npy file: truncated"},
      {"truncated dump", with_more(dump).substr(0, with_more(dump).find("'New Person'") + 5),
       "unterminated string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    testing::WriteFile(work_ / "bad.sql", c.dump);
    auto r = Run(KoreanArgs("mysqldump", work_ / "bad.sql"));
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bad.sql:"), std::string::npos) << r.err;
    EXPECT_TRUE(Count() == before);
  }
  // A missing images folder, a photo that is no image, a broken TSV, a broken school file.
  auto r = Run(
      {"import", "mysqldump", Dump(), "--encodings", work_ / "enc", "--images", work_ / "nowhere"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("nowhere: images folder not found"), std::string::npos) << r.err;
  testing::WriteFile(work_ / "img/EMP001_thumb_1709700000.jpg", "not a jpeg at all");
  r = Run(KoreanArgs("mysqldump", Dump()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("EMP001_thumb_1709700000.jpg"), std::string::npos) << r.err;
  fs::remove(work_ / "img/EMP001_thumb_1709700000.jpg");
  fs::create_directories(work_ / "tsv");
  testing::WriteFile(work_ / "tsv/users.tsv",
                     "id\temployee_id\tname\n9\tEMP009\tNew\n10\tEMP010\n");
  r = Run(KoreanArgs("tsv", work_ / "tsv"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("users.tsv:3: 2 fields where the header has 3"), std::string::npos) << r.err;
  ASSERT_EQ(BuildSchoolDb(work_ / "school.db",
                          "INSERT INTO attendance VALUES (3, 'S9999', 1, '2024-09-03 08:00', 1);"),
            "");
  r = Run({"import", "school-sqlite", work_ / "school.db"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("school.db: attendance row 3: student S9999 is not in students"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(Count() == before);
}

}  // namespace
}  // namespace faceatt
