#include <locale.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wchar.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>
#include "command.h"

#include "faceatt/clock.h"

namespace faceatt::cli {
namespace fs = std::filesystem;

const char* const kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  nothing recognised (identify: no face matched)\n"
    "  2  usage error: bad flags or configuration\n"
    "  3  bad input: unreadable or unusable image, unknown employee id; reembed: someone\n"
    "     could not be re-embedded (listed); import: a malformed or missing file (named)\n"
    "  4  refused by a rule: face already enrolled as someone else, a photo that is not\n"
    "     the --id person's, id taken or retired, not confirmed; store copy: the\n"
    "     destination holds rows (--force)\n"
    "  5  unavailable: model files, database (or PostgreSQL server) or camera unusable;\n"
    "     serve: the port is taken; store copy: the copy does not verify\n"
    "  10 internal error\n";

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kInvalidArgument:
      return kExitUsage;
    case Code::kBadInput:
    case Code::kNotFound:
    case Code::kResourceExhausted:
      return kExitBadInput;
    case Code::kConflict:
    case Code::kAlreadyExists:
    case Code::kUnauthenticated:  // HTTP only today
    case Code::kPermissionDenied:
      return kExitRefused;
    case Code::kUnavailable:
    case Code::kIoError:
    case Code::kCorruption:
      return kExitUnavailable;
    case Code::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

std::string Fixed(double value, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

size_t DisplayWidth(const std::string& s) {
  // wcwidth reads the thread's LC_CTYPE: a UTF-8 one just for this, so the
  // process locale stays "C".
  static const locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  const locale_t previous = utf8 ? ::uselocale(utf8) : nullptr;
  size_t cols = 0;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    const int w = utf8 ? ::wcwidth(static_cast<wchar_t>(cp)) : 1;
    cols += w < 0 ? 1 : static_cast<size_t>(w);
    i += static_cast<size_t>(len);
  }
  if (utf8) ::uselocale(previous);
  return cols;
}

std::string Pad(const std::string& s, size_t width) {
  const size_t cols = DisplayWidth(s);
  return s + std::string(cols < width ? width - cols : 1, ' ');
}

bool Context::stdout_is_terminal() const { return ::isatty(STDOUT_FILENO) == 1; }
bool Context::stdin_is_terminal() const { return ::isatty(STDIN_FILENO) == 1; }

namespace {
// Relative paths in a config file are relative to the file's folder, so
// `faceatt --config /etc/faceatt/config.toml` works from anywhere.
void Rebase(std::string& path, const fs::path& base) {
  if (path.empty() || path == "auto" || fs::path(path).is_absolute()) return;
  path = (base / path).lexically_normal().string();
}
}  // namespace

Result<Config*> Context::config() {
  if (config_) return config_.get();
  auto env = ProcessEnvironment();
  std::string path = options_.config_path;
  bool required = !path.empty();
  if (path.empty() && env.count("FACEATT_CONFIG")) {
    path = env["FACEATT_CONFIG"];
    required = true;
  }
  if (path.empty()) path = "config.toml";
  for (const std::string& w : EnvironmentWarnings(env)) spdlog::warn("{}", w);
  auto loaded = Config::Load(path, required, env);
  if (loaded.status().code() == Code::kNotFound)  // a config named by flag or env is a usage error
    return Status::InvalidArgument(loaded.status().message());
  FACEATT_ASSIGN_OR_RETURN(Config config, std::move(loaded));
  std::error_code ec;
  if (fs::exists(path, ec)) {
    config_file_ = fs::absolute(path, ec).string();
    const fs::path base = fs::absolute(path, ec).parent_path();
    for (std::string* p : {&config.paths.data_dir, &config.paths.models_dir, &config.paths.log_dir,
                           &config.paths.known_faces_dir, &config.models.recognizer,
                           &config.models.landmarks, &config.models.mmod_model})
      Rebase(*p, base);
  }
  if (!options_.data_dir.empty())
    FACEATT_RETURN_IF_ERROR(config.Set("paths.data_dir", options_.data_dir, "--data-dir"));
  if (!options_.store_url.empty())
    FACEATT_RETURN_IF_ERROR(config.Set("store.url", options_.store_url, "--store"));
  FACEATT_RETURN_IF_ERROR(SetTimeZone(config.attendance.timezone));
  config_ = std::make_unique<Config>(std::move(config));
  return config_.get();
}

Result<DataDir> Context::data_dir() {
  FACEATT_ASSIGN_OR_RETURN(Config * c, config());
  return DataDir(c->paths.data_dir);
}

Result<Store*> Context::store() {
  if (store_) return store_.get();
  FACEATT_ASSIGN_OR_RETURN(Config * c, config());
  DataDir dir(c->paths.data_dir);
  std::error_code ec;
  StoreOptions opts;
  opts.path = dir.database();
  // With a store URL the data folder still holds the files (thumbnails, crops).
  if (c->store.url.empty() && write_nothing_ && !fs::exists(opts.path, ec)) {
    opts.path = ":memory:";
  } else {
    fs::create_directories(dir.root(), ec);
    if (ec)
      return Status::Unavailable("cannot create data folder " + dir.root() + ": " + ec.message());
  }
  opts.id_prefix = c->enroll.id_prefix;
  opts.id_digits = c->enroll.id_digits;
  FACEATT_ASSIGN_OR_RETURN(store_, OpenStore(c->store.url, opts));
  return store_.get();
}

namespace {
// Loading the models writes ~150 MB of fresh memory (the recognizer's weights
// are dequantised, then copied into OpenCV's graph, which repacks them on its
// first run). In 4 KB pages that is ~37,000 page faults, about a third of a
// cold `identify` (docs/benchmarks.md). So the main heap is reserved up front
// with transparent huge pages allowed (Debian's default THP mode is
// "madvise"), where the same memory takes under a hundred 2 MB faults. The
// reservation is address space only: nothing is resident until touched.
// Called once, on the main thread, before the first load (the main arena is
// the one reserved); `serve` later sets its own malloc policy (Server::Start).
void ReserveHeapForModels() {
  constexpr size_t kBlock = size_t{16} << 20, kBlocks = 16;  // 256 MB in all
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  // Blocks under the mmap threshold come from the heap (32 MB is glibc's
  // largest threshold), and freed heap is kept rather than given back.
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(2 * kBlock));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(2 * kBlock * kBlocks));
  void* blocks[kBlocks] = {};
  uintptr_t low = UINTPTR_MAX;
  for (auto& b : blocks) {
    b = malloc(kBlock);
    if (b) low = std::min(low, reinterpret_cast<uintptr_t>(b));
  }
  const uintptr_t start = (low + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(sbrk(0)) & ~(kHugePage - 1);
  if (low != UINTPTR_MAX && end > start)
    madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
  for (void* b : blocks) free(b);
}

}  // namespace

Result<std::shared_ptr<const Models>> Context::models() {
  if (models_) return models_;
  FACEATT_ASSIGN_OR_RETURN(Config * c, config());
  ReserveHeapForModels();
  auto loaded = LoadModels(*c);
  if (!loaded.ok() && loaded.status().code() == Code::kBadInput)  // a damaged model file
    return Status::Unavailable(loaded.status().message());
  FACEATT_ASSIGN_OR_RETURN(models_, std::move(loaded));
  const MatchDefaults d = models_->defaults();
  spdlog::info("models: {}; model defaults: tolerance {}, margin {}; BLAS: {}",
               models_->description(), Fixed(d.tolerance, 2), Fixed(d.margin, 2),
               BlasDescription());
  return models_;
}

Result<FaceService*> Context::service() {
  if (service_) return service_.get();
  FACEATT_ASSIGN_OR_RETURN(Config * c, config());
  FACEATT_ASSIGN_OR_RETURN(Store * s, store());
  FACEATT_ASSIGN_OR_RETURN(auto m, models());
  FACEATT_ASSIGN_OR_RETURN(service_, FaceService::Open(*c, m, s, DataDir(c->paths.data_dir)));
  // Embeddings of another model are never compared with this one's: say who is left out.
  auto stale = s->UsersNeedingReenrollment(m->model_id());
  if (stale.ok() && !stale->empty())
    spdlog::warn(
        "{} people were enrolled with another model and are not recognised with {} until "
        "`faceatt reembed` recomputes their embeddings",
        stale->size(), m->model_id());
  return service_.get();
}

Result<FacePipeline*> Context::pipeline() {
  if (pipeline_) return pipeline_.get();
  FACEATT_ASSIGN_OR_RETURN(auto m, models());
  pipeline_ = m->NewPipeline();
  PipelineOptions o = pipeline_->options();
  o.two_threads = true;  // one photo at a time: both cores on each face
  pipeline_->set_options(o);
  return pipeline_.get();
}

}  // namespace faceatt::cli
