#include "support/testing.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <regex>
#include <sstream>
#include <thread>

extern char** environ;

namespace faceatt::testing {
namespace fs = std::filesystem;

std::string SharedDir() {
  if (const char* e = std::getenv("FACEATT_SHARED_DIR")) return e;
  return fs::path(FACEATT_TEST_SHARED_DIR).lexically_normal().string();
}
std::string FacesDir() { return SharedDir() + "/faces"; }
std::string ModelsDir() {
  if (const char* e = std::getenv("FACEATT_TEST_MODELS_DIR")) return e;
  return SharedDir() + "/models";
}
std::string SourceDir() { return FACEATT_TEST_SOURCE_DIR; }
std::string Face(const std::string& relative) { return FacesDir() + "/" + relative; }

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

Config TestConfig() {
  Config c;
  c.paths.models_dir = ModelsDir();
  return c;
}

std::shared_ptr<const Models> RealModels() {
  static std::shared_ptr<const Models> models = [] {
    auto loaded = LoadModels(TestConfig());
    return loaded.ok() ? *loaded : nullptr;
  }();
  if (!models)
    ADD_FAILURE() << "model files are missing in " << ModelsDir() << ": "
                  << LoadModels(TestConfig()).status().ToString();
  return models;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "faceatt-test-XXXXXX").string();
  path_ = ::mkdtemp(tmpl.data());
}
TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

CliResult RunCli(const std::vector<std::string>& args, const std::string& cwd,
                 const std::map<std::string, std::string>& env, const std::string& input) {
  TempDir io;
  const std::string out = io / "out", err = io / "err", in = io / "in";
  WriteFile(in, input);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) _exit(127);
    int fi = ::open(in.c_str(), O_RDONLY),
        fo = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644),
        fe = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fi, 0);
    ::dup2(fo, 1);
    ::dup2(fe, 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    std::string bin = FACEATT_TEST_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

// ---- Fakes ----

Result<std::vector<Detection>> FakeDetector::Detect(const cv::Mat& bgr) {
  seen.push_back(bgr.size());
  if (fail) return Status::Internal("fake detector failure");
  if (bgr.cols < min_width) return std::vector<Detection>{};
  return boxes;
}
std::unique_ptr<FaceDetector> FakeDetector::Clone() const {
  return std::make_unique<FakeDetector>(*this);
}

Result<cv::Mat> FakeAligner::Align(const cv::Mat& bgr, const Box& box) {
  cv::Rect r(box.left, box.top, box.width(), box.height());
  r &= cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (r.area() <= 0) return Status::Internal("box outside image");
  cv::Mat chip;
  cv::resize(bgr(r), chip, cv::Size(kChipSize, kChipSize));
  return chip;
}
std::unique_ptr<FaceAligner> FakeAligner::Clone() const {
  return std::make_unique<FakeAligner>(*this);
}

Result<std::vector<Embedding>> FakeEmbedder::Embed(const std::vector<cv::Mat>& chips) {
  if (fail) return Status::Internal("fake embedder failure");
  std::vector<Embedding> out;
  for (const auto& c : chips) {
    ++chips_embedded;
    cv::Scalar m = cv::mean(c);
    Embedding e;
    for (int i = 0; i < kEmbeddingDim; ++i) e[i] = static_cast<float>(m[i % 3] / 255.0 / 8.0);
    out.push_back(e);
  }
  return out;
}
std::unique_ptr<SqliteStore> OpenTestStore(const std::string& path, const Clock* clock) {
  StoreOptions o;
  o.path = path;
  o.clock = clock;
  auto s = OpenSqliteStore(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

AttendanceRecord AttendanceRow(const char* employee_id, const std::string& type,
                               const std::string& status, int64_t ts_ms) {
  AttendanceRecord r;
  if (employee_id) r.employee_id = employee_id;
  r.type = type;
  r.status = status;
  if (status != kStatusSuccess) r.reason = "unknown";
  r.ts_server_ms = ts_ms;
  return r;
}

StoredEmbedding EmbeddingRow(float x, const std::string& sha) {
  StoredEmbedding e;
  e.model_id = "m:1";
  e.vector.fill(x);
  e.source_sha256 = sha;
  e.source_path = "photos/" + sha + ".jpg";
  return e;
}

std::unique_ptr<FaceEmbedder> FakeEmbedder::Clone() const {
  return std::make_unique<FakeEmbedder>(*this);
}

int ConnectLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string RawHttp(int port, const std::string& request) {
  const int fd = ConnectLoopback(port);
  std::string out;
  if (fd < 0) return out;
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  char buf[4096];
  for (ssize_t n; out.size() < (1 << 20) && (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, n);
  ::close(fd);
  return out;
}

std::string ServeProcess::BaseConfig(const std::string& extra) const {
  return "[paths]\nmodels_dir = \"" + ModelsDir() + "\"\ndata_dir = \"" + dir_.path() +
         "/data\"\n" + extra + "\n[logging]\nfile = false\n";
}

bool ServeProcess::Start(const std::string& config_toml) {
  WriteFile(dir_ / "config.toml", config_toml);
  pid_ = ::fork();
  if (pid_ == 0) {
    const int out = ::open((dir_ / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::string bin = FACEATT_TEST_BINARY, flag = "--config", cfg = dir_ / "config.toml",
                cmd = "serve", port_flag = "--port", port = "0";
    char* argv[] = {bin.data(),       flag.data(), cfg.data(), cmd.data(),
                    port_flag.data(), port.data(), nullptr};
    ::execv(bin.c_str(), argv);
    _exit(127);
  }
  const std::regex listening(R"(listening on http://[^:]+:(\d+))");
  for (int i = 0; i < 1200 && port_ == 0 && Alive(); ++i) {  // models load in a few seconds
    std::smatch m;
    const std::string out = Output();
    if (std::regex_search(out, m, listening)) port_ = std::stoi(m[1]);
    if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_GT(port_, 0) << "faceatt serve did not start:\n" << Output();
  return port_ > 0;
}

bool ServeProcess::Alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

std::string ServeProcess::Output() const { return ReadFile(dir_ / "out"); }

ServeProcess::~ServeProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace faceatt::testing
