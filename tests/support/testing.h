// Test support: where the shared photos and models are, temporary folders,
// running the faceatt binary, and fakes that can inject failures.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "faceatt/config.h"
#include "faceatt/pipeline.h"
#include "faceatt/store.h"

namespace faceatt::testing {

// ../shared beside the checkout (override: FACEATT_SHARED_DIR).
std::string SharedDir();
std::string FacesDir();                         // SharedDir()/faces
std::string ModelsDir();                        // SharedDir()/models
std::string SourceDir();                        // the repository
std::string Face(const std::string& relative);  // FacesDir()/relative

// Files of a folder (sorted, regular files only).
std::vector<std::string> FilesIn(const std::string& dir);

// A Config pointing at the shared models, detector hog.
Config TestConfig();

// The real models, loaded once per test process. Fails the test (never skips)
// when the model files are missing: CI must not pass without them.
std::shared_ptr<const Models> RealModels();

// A fresh temporary folder, removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs the faceatt binary with args in `cwd`, extra environment, optional stdin text.
CliResult RunCli(const std::vector<std::string>& args, const std::string& cwd,
                 const std::map<std::string, std::string>& env = {}, const std::string& input = "");

// Opens (creating) a SQLite store at `path` (":memory:" by default); fails
// the test and returns nullptr when it cannot.
std::unique_ptr<SqliteStore> OpenTestStore(const std::string& path = ":memory:",
                                           const Clock* clock = nullptr);

// An attendance row to store: a success has no reason, any other status the
// reason "unknown"; ts_ms 0 lets the store's clock stamp it.
AttendanceRecord AttendanceRow(const char* employee_id, const std::string& type = "IN",
                               const std::string& status = kStatusSuccess, int64_t ts_ms = 0);

// An embedding row of model "m:1" whose every value is x, from photos/<sha>.jpg.
StoredEmbedding EmbeddingRow(float x, const std::string& sha = "");

std::string ReadFile(const std::string& path);

// A TCP connection to 127.0.0.1:port with a 10 s receive time-out, or -1.
int ConnectLoopback(int port);
// Sends raw bytes to 127.0.0.1:port and returns what the server answers
// (status line first) until it closes, goes quiet for 10 s, or 1 MB arrived.
std::string RawHttp(int port, const std::string& request);
void WriteFile(const std::string& path, const std::string& bytes);

// The real `faceatt serve` binary in a child process, on a free loopback port,
// with `config_toml` (written into a temporary folder; its [paths] should
// point models_dir at ModelsDir() and data_dir into `dir()`). Start() waits
// for the "listening on" line (models load in a few seconds) and fails the
// test when it never comes; the destructor sends SIGTERM and waits.
class ServeProcess {
 public:
  ServeProcess() = default;
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Config text with models_dir and data_dir (dir()/data) set, then `extra`.
  std::string BaseConfig(const std::string& extra = "") const;
  // Starts the server with `config_toml` and `serve`'s `extra_args`; true once it listens.
  bool Start(const std::string& config_toml, const std::vector<std::string>& extra_args = {});
  bool Alive() const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const TempDir& dir() const { return dir_; }
  std::string Output() const;  // its stdout and stderr so far

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// ---- Fakes ----

// Returns the configured boxes (in working-image coordinates) and records the
// size of each image it was given; fails on demand.
class FakeDetector : public FaceDetector {
 public:
  std::vector<Detection> boxes;
  bool fail = false;
  int min_width = 0;  // images narrower than this: no face found

  std::vector<cv::Size> seen;
  Result<std::vector<Detection>> Detect(const cv::Mat& bgr) override;
  std::unique_ptr<FaceDetector> Clone() const override;
  std::string name() const override { return "fake"; }
};

// Cuts the box out and resizes it to a chip.
class FakeAligner : public FaceAligner {
 public:
  Result<cv::Mat> Align(const cv::Mat& bgr, const Box& box) override;
  std::unique_ptr<FaceAligner> Clone() const override;
  std::string name() const override { return "fake"; }
};

// Embeds a chip as its mean colour repeated (so similar chips are near);
// fails on demand; counts chips.
class FakeEmbedder : public FaceEmbedder {
 public:
  bool fail = false;
  int chips_embedded = 0;
  Result<std::vector<Embedding>> Embed(const std::vector<cv::Mat>& chips) override;
  std::unique_ptr<FaceEmbedder> Clone() const override;
  std::string model_id() const override { return "fake:1"; }
  MatchDefaults defaults() const override { return {0.6, 0.0}; }
  std::string engine() const override { return "fake"; }
};

// Wraps a real store and fails every write after `writes_left` reach zero.
// While `down`, writes, counts and the gallery version fail as a database
// server that cannot be reached does (kUnavailable, kDatabaseUnavailable).
class FailingStore : public Store {
 public:
  explicit FailingStore(Store* inner) : inner_(inner) {}
  std::atomic<int> writes_left{1 << 30};  // atomic: a server calls from its threads
  std::atomic<bool> down{false};
  Result<User> CreateUser(const NewUser& u, const std::vector<StoredEmbedding>& e) override {
    return Write([&] { return inner_->CreateUser(u, e); });
  }
  Status AddEmbeddings(const std::string& id, const std::vector<StoredEmbedding>& e) override {
    return Write([&] { return inner_->AddEmbeddings(id, e); });
  }
  Result<User> GetUser(const std::string& id) override { return inner_->GetUser(id); }
  Result<std::vector<User>> ListUsers() override { return inner_->ListUsers(); }
  Status UpdateUser(const std::string& id, const std::optional<std::string>& n,
                    const std::optional<std::string>& d, const std::optional<bool>& a) override {
    return Write([&] { return inner_->UpdateUser(id, n, d, a); });
  }
  Result<std::vector<StoredEmbedding>> DeleteUser(const std::string& id, bool purge) override {
    return Write([&] { return inner_->DeleteUser(id, purge); });
  }
  Status ContinueIdsAfter(int64_t n) override {
    return Write([&] { return inner_->ContinueIdsAfter(n); });
  }
  Result<std::vector<StoredEmbedding>> ListEmbeddings(const std::string& id) override {
    return inner_->ListEmbeddings(id);
  }
  Result<StoredEmbedding> DeleteEmbedding(const std::string& id, int64_t eid) override {
    return Write([&] { return inner_->DeleteEmbedding(id, eid); });
  }
  Result<std::vector<StoredEmbedding>> LoadEmbeddings(const std::string& m) override {
    return inner_->LoadEmbeddings(m);
  }
  Result<std::vector<std::string>> UsersNeedingReenrollment(const std::string& m) override {
    return inner_->UsersNeedingReenrollment(m);
  }
  Result<std::optional<std::string>> FindImage(const std::string& s,
                                               const std::string& m) override {
    return inner_->FindImage(s, m);
  }
  Result<int64_t> AddAttendance(const AttendanceRecord& r) override {
    return Write([&] { return inner_->AddAttendance(r); });
  }
  Result<int64_t> AddAttendanceAfter(const std::optional<AttendanceQuery>& q,
                                     const AttendanceDecider& d) override {
    return Write([&] { return inner_->AddAttendanceAfter(q, d); });
  }
  Result<std::vector<AttendanceRecord>> QueryAttendance(const AttendanceQuery& q) override {
    return inner_->QueryAttendance(q);
  }
  Result<int64_t> CountAttendance(const AttendanceQuery& q) override {
    return inner_->CountAttendance(q);
  }
  Result<int64_t> AddCorrectedAttendance(const AttendanceRecord& r, const Correction& c) override {
    return Write([&] { return inner_->AddCorrectedAttendance(r, c); });
  }
  Status VoidAttendance(int64_t id, const Correction& c) override {
    return Write([&] { return inner_->VoidAttendance(id, c); });
  }
  Status AmendAttendance(int64_t id, const std::optional<std::string>& t,
                         const std::optional<int64_t>& ts, const Correction& c) override {
    return Write([&] { return inner_->AmendAttendance(id, t, ts, c); });
  }
  Result<AttendanceRecord> GetAttendance(int64_t id) override { return inner_->GetAttendance(id); }
  Result<std::vector<AuditEntry>> AttendanceAudit(int64_t id) override {
    return inner_->AttendanceAudit(id);
  }
  Result<bool> IsRetiredId(const std::string& id) override { return inner_->IsRetiredId(id); }
  Result<int64_t> CountUsers() override {
    if (down) return Down();
    return inner_->CountUsers();
  }
  Result<int64_t> GalleryVersion() override {
    if (down) return Down();
    return inner_->GalleryVersion();
  }
  Result<int64_t> WaitForGalleryChange(int64_t known, int timeout_ms) override {
    if (down) return Down();
    return inner_->WaitForGalleryChange(known, timeout_ms);
  }
  Result<std::unique_ptr<EnrollmentLock>> LockEnrollment() override {
    if (down) return Down();
    return inner_->LockEnrollment();
  }
  Status SetGroupMembership(const std::string& id, const std::string& g, bool member) override {
    return Write([&] { return inner_->SetGroupMembership(id, g, member); });
  }
  Result<std::map<std::string, std::vector<std::string>>> ListGroups() override {
    return inner_->ListGroups();
  }
  Result<int64_t> CountEmbeddings() override { return inner_->CountEmbeddings(); }
  Result<std::vector<StoredEmbedding>> DeleteAllUsers() override {
    return Write([&] { return inner_->DeleteAllUsers(); });
  }
  Status Backup(const std::string& to) override {
    return Write([&] { return inner_->Backup(to); });
  }
  Result<std::vector<FileRef>> ListFileRefs() override { return inner_->ListFileRefs(); }
  Status UpdateFileRef(const FileRef& ref, const std::string& path) override {
    return Write([&] { return inner_->UpdateFileRef(ref, path); });
  }
  Status ReplaceEmbedding(int64_t id, const StoredEmbedding& e) override {
    return Write([&] { return inner_->ReplaceEmbedding(id, e); });
  }
  Result<std::vector<OutboxItem>> DueOutbox(int64_t now_ms, int limit) override {
    return inner_->DueOutbox(now_ms, limit);
  }
  Result<std::vector<OutboxItem>> ClaimOutbox(int64_t now_ms, int limit, const std::string& owner,
                                              int64_t lease_ms) override {
    if (down) return Down();
    return inner_->ClaimOutbox(now_ms, limit, owner, lease_ms);
  }
  Status UpdateOutbox(const OutboxItem& item) override {
    return Write([&] { return inner_->UpdateOutbox(item); });
  }
  Result<std::vector<OutboxItem>> ListOutbox(const std::string& status, int limit) override {
    return inner_->ListOutbox(status, limit);
  }
  Result<int64_t> CountOutbox(const std::string& status) override {
    return inner_->CountOutbox(status);
  }
  Result<std::vector<TableData>> ExportTables() override { return inner_->ExportTables(); }
  Status ImportTables(const std::vector<TableData>& t) override {
    return Write([&] { return inner_->ImportTables(t); });
  }
  Status Check() override { return inner_->Check(); }
  int schema_version() const override { return inner_->schema_version(); }

 private:
  // Runs the write `f` unless the injected failure is due.
  template <typename F>
  auto Write(F f) -> decltype(f()) {
    if (down) return Down();
    if (writes_left-- <= 0) return Status::IoError("injected write failure");
    return f();
  }
  static Status Down() {
    return Status(Code::kUnavailable, "database unavailable: connection refused (injected)",
                  kDatabaseUnavailable);
  }
  Store* inner_;
};

}  // namespace faceatt::testing
