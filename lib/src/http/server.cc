#include "faceatt/server.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "faceatt/attendance.h"
#include "faceatt/face_service.h"
#include "faceatt/image.h"
#include "http/metrics.h"

namespace faceatt {
namespace {

using json = nlohmann::json;
using httplib::Request;
using httplib::Response;
namespace fs = std::filesystem;

// How long a request waits for a free pipeline before 503 (it already holds a
// place in the bounded queue).
constexpr int64_t kQueueWaitMs = 30'000;
// Threads for long-lived streams (SSE, MJPEG) beyond the pipeline queue.
constexpr int kStreamThreads = 8;
// Events kept for SSE subscribers that fall behind.
constexpr size_t kEventBacklog = 256;
// SSE keep-alive comment interval, in 1 s waits.
constexpr int kSsePingEvery = 15;

double Round4(double v) { return std::round(v * 1e4) / 1e4; }
double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kBadInput:
      return 422;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kConflict:
      return 409;
    case Code::kUnavailable:
      return 503;
    case Code::kResourceExhausted:
      return 413;
    case Code::kIoError:
    case Code::kCorruption:
    case Code::kInternal:
      return 500;
  }
  return 500;
}

void SendJson(Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}
void SendError(Response& res, int status, const std::string& code, const std::string& message) {
  SendJson(res, status, {{"error", {{"code", code}, {"message", message}}}});
}
void SendStatus(Response& res, const Status& st) {
  SendError(res, HttpStatusFor(st.code()), CodeName(st.code()), st.message());
}

// Strict base64 (standard or URL alphabet, padding optional, whitespace ignored),
// also accepting a data URL ("data:image/jpeg;base64,...").
Result<std::string> DecodeBase64(std::string_view text) {
  if (text.substr(0, 5) == "data:") {
    const auto comma = text.find(',');
    if (comma == std::string_view::npos ||
        text.substr(0, comma).find(";base64") == std::string_view::npos)
      return Status::InvalidArgument(
          "image: a data URL must be base64 (data:image/...;base64,...)");
    text.remove_prefix(comma + 1);
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else if (c == '=') {
      ++pad;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
      continue;
    else
      return Status::InvalidArgument("image: not valid base64");
    if (pad) return Status::InvalidArgument("image: not valid base64 (data after padding)");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6) return Status::InvalidArgument("image: not valid base64 (truncated)");
  if (out.empty()) return Status::InvalidArgument("image: empty");
  return out;
}

json UserJson(const User& u) {
  return {{"employee_id", u.employee_id}, {"name", u.name},
          {"department", u.department},   {"active", u.active},
          {"created_at", u.created_at},   {"updated_at", u.updated_at},
          {"embeddings", u.embeddings}};
}
json BoxJson(const Box& b) {
  return {{"left", b.left}, {"top", b.top}, {"right", b.right}, {"bottom", b.bottom}};
}
json OrNull(const std::string& s) { return s.empty() ? json() : json(s); }

// Parses a request body as a JSON object; a malformed body is a 400.
Result<json> ParseJsonObject(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("malformed JSON body");
  if (!j.is_object()) return Status::InvalidArgument("the JSON body must be an object");
  return j;
}
// A string member ("" when absent); kInvalidArgument when it is not a string.
Result<std::string> JsonString(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Status::InvalidArgument(std::string(key) + " must be a string");
  return it->get<std::string>();
}
std::string FormValue(const Request& req, const char* key) {
  return req.has_file(key) ? req.get_file_value(key).content : std::string();
}
bool IsJson(const Request& req) {
  return req.get_header_value("Content-Type").find("application/json") != std::string::npos;
}

// Pipelines, one per worker; callers wait in a bounded queue.
class PipelinePool {
 public:
  PipelinePool(const Models& models, const PipelineOptions& options, int workers, int queue_length)
      : max_waiting_(queue_length) {
    PipelineOptions o = options;
    o.two_threads = true;  // one client's request gets both cores; several share them
    for (int i = 0; i < workers; ++i) {
      free_.push_back(models.NewPipeline());
      free_.back()->set_options(o);
    }
  }
  class Lease {
   public:
    Lease(PipelinePool* pool, std::unique_ptr<FacePipeline> p) : pool_(pool), p_(std::move(p)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (p_) pool_->Return(std::move(p_));
    }
    FacePipeline& operator*() { return *p_; }

   private:
    PipelinePool* pool_;
    std::unique_ptr<FacePipeline> p_;
  };
  Result<Lease> Acquire() {
    std::unique_lock lock(mu_);
    if (free_.empty()) {
      if (waiting_ >= max_waiting_)
        return Status::Unavailable("server busy: every pipeline is working and the queue is full");
      ++waiting_;
      const bool got = cv_.wait_for(lock, std::chrono::milliseconds(kQueueWaitMs),
                                    [&] { return !free_.empty(); });
      --waiting_;
      if (!got) return Status::Unavailable("server busy: no pipeline became free in time");
    }
    auto p = std::move(free_.back());
    free_.pop_back();
    return Lease(this, std::move(p));
  }
  int waiting() const {
    std::lock_guard lock(mu_);
    return waiting_;
  }

 private:
  void Return(std::unique_ptr<FacePipeline> p) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(p));
    }
    cv_.notify_one();
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<FacePipeline>> free_;
  int waiting_ = 0;
  int max_waiting_;
};

// Recognition and attendance events for /events subscribers.
class EventHub {
 public:
  void Publish(const std::string& type, const json& data) {
    {
      std::lock_guard lock(mu_);
      events_.push_back({++seq_, "event: " + type + "\ndata: " + data.dump() + "\n\n"});
      if (events_.size() > kEventBacklog) events_.pop_front();
    }
    cv_.notify_all();
  }
  int64_t seq() const {
    std::lock_guard lock(mu_);
    return seq_;
  }
  // Events after `after` (waiting at most 1 s); updates `after`. False when stopping.
  bool Next(int64_t& after, std::string& out) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || seq_ > after; });
    if (stop_) return false;
    for (const auto& [s, text] : events_)
      if (s > after) out += text;
    after = seq_;
    return true;
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<int64_t, std::string>> events_;
  int64_t seq_ = 0;
  bool stop_ = false;
};

// Annotates and encodes each camera frame once for every MJPEG viewer.
class Streamer {
 public:
  Streamer(Camera* camera, std::unique_ptr<FacePipeline> pipeline, CameraConfig config,
           http::Metrics* metrics)
      : camera_(camera),
        pipeline_(std::move(pipeline)),
        config_(std::move(config)),
        metrics_(metrics) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Streamer() { Stop(); }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void AddViewer() {
    {
      std::lock_guard lock(mu_);
      ++viewers_;
    }
    cv_.notify_all();
  }
  void RemoveViewer() {
    std::lock_guard lock(mu_);
    --viewers_;
  }
  // The next encoded frame after `after` (at most 1 s wait); nullptr when none.
  // `stopping` is set when the server is shutting down.
  std::shared_ptr<const std::string> Next(int64_t& after, bool& stopping) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || seq_ > after; });
    stopping = stop_;
    if (stop_ || seq_ <= after) return nullptr;
    after = seq_;
    return jpeg_;
  }
  int viewers() const {
    std::lock_guard lock(mu_);
    return viewers_;
  }

  // Detects faces and draws the guide on a copy of `frame`.
  static cv::Mat Annotate(FacePipeline& pipeline, const cv::Mat& frame, double min_face) {
    std::vector<Box> boxes;
    AnalyzeOptions opts;
    opts.embed = false;
    auto faces = pipeline.Analyze(frame, opts);
    if (faces.ok())
      for (const auto& f : *faces) boxes.push_back(f.box);
    cv::Mat out = frame.clone();
    DrawOverlay(out, CheckGuide(frame.size(), boxes, min_face));
    return out;
  }

 private:
  void Loop() {
    int64_t frame_seq = 0;
    const int64_t period_ms = 1000 / std::max(1, config_.fps);
    int64_t last_ms = 0;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stop_ || viewers_ > 0; });
        if (stop_) return;
      }
      auto frame = camera_->WaitNewer(frame_seq, 500);
      if (!frame) continue;
      frame_seq = frame->seq;
      const int64_t wait = last_ms + period_ms - WallMs();
      if (wait > 0) {
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stop_; })) return;
      }
      last_ms = WallMs();
      cv::Mat annotated;
      try {
        annotated = Annotate(*pipeline_, frame->image, config_.guide_min_face);
      } catch (const std::exception& e) {
        annotated = frame->image;
      }
      auto jpeg = EncodeJpeg(annotated, config_.jpeg_quality);
      if (!jpeg.ok()) continue;
      metrics_->Count("faceatt_mjpeg_frames_encoded_total", "");
      {
        std::lock_guard lock(mu_);
        jpeg_ = std::make_shared<const std::string>(std::move(*jpeg));
        ++seq_;
      }
      cv_.notify_all();
    }
  }

  Camera* camera_;
  std::unique_ptr<FacePipeline> pipeline_;
  CameraConfig config_;
  http::Metrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int viewers_ = 0;
  int64_t seq_ = 0;
  std::shared_ptr<const std::string> jpeg_;
  std::thread thread_;
};

enum class Role { kPublic, kReader, kDevice, kAdmin };

// Constant-time comparison of a presented key with a configured one.
// Both are hashed first, so neither the time nor an early length check says
// how long a configured key is.
bool SameKey(const std::string& a, const std::string& b) {
  unsigned char ha[SHA256_DIGEST_LENGTH], hb[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), ha);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), hb);
  return CRYPTO_memcmp(ha, hb, sizeof ha) == 0;
}

// The Host header names this machine's loopback ("localhost:8000", "[::1]").
bool LoopbackHost(const std::string& host_header) {
  std::string h = host_header;
  if (!h.empty() && h.front() == '[') {
    h = h.substr(0, h.find(']') + 1);
  } else if (auto colon = h.rfind(':'); colon != std::string::npos) {
    h = h.substr(0, colon);
  }
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  return h == "localhost" || h == "[::1]" || h.rfind("127.", 0) == 0;
}

}  // namespace

struct Server::Impl {
  Config config;
  std::shared_ptr<const Models> models;
  Store* store;
  ServerOptions options;
  SystemClock system_clock;
  const Clock* clock;
  std::unique_ptr<FaceService> service;
  std::unique_ptr<AttendanceRecorder> recorder;
  std::unique_ptr<WebhookDispatcher> webhooks;
  std::unique_ptr<Camera> camera;
  std::unique_ptr<Streamer> streamer;
  std::unique_ptr<PipelinePool> pool;
  EventHub events;
  http::Metrics metrics;
  httplib::Server svr;
  std::thread listen_thread;
  std::string host;
  int port = 0;
  bool started = false;
  bool shut_down = false;
  std::atomic<bool> stopping{false};
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

  bool no_keys() const {
    return config.server.admin_keys.empty() && config.server.device_keys.empty() &&
           config.server.reader_keys.empty();
  }

  // The role of the key a request presents (kPublic when none or unknown).
  Role RoleOf(const Request& req) const {
    std::string key = req.get_header_value("X-API-Key");
    const std::string auth = req.get_header_value("Authorization");
    if (key.empty() && auth.size() > 7 && strncasecmp(auth.c_str(), "Bearer ", 7) == 0)
      key = auth.substr(7);
    if (key.empty()) return Role::kPublic;
    Role role = Role::kPublic;  // every key is compared, whatever matched first
    for (const auto& k : config.server.reader_keys)
      if (SameKey(key, k) && role < Role::kReader) role = Role::kReader;
    for (const auto& k : config.server.device_keys)
      if (SameKey(key, k) && role < Role::kDevice) role = Role::kDevice;
    for (const auto& k : config.server.admin_keys)
      if (SameKey(key, k)) role = Role::kAdmin;
    return role;
  }

  // True when the request may go on; otherwise the 401/403 answer is written.
  bool Authorize(const Request& req, Response& res, Role needed) {
    if (needed == Role::kPublic || no_keys()) return true;
    const Role have = RoleOf(req);
    if (have == Role::kAdmin || have == needed) return true;
    if (have == Role::kPublic) {
      const bool presented = !req.get_header_value("X-API-Key").empty() ||
                             !req.get_header_value("Authorization").empty();
      res.set_header("WWW-Authenticate", "Bearer");
      SendError(res, 401, "unauthorized",
                presented ? "the API key is not valid"
                          : "an API key is required (Authorization: Bearer KEY or X-API-Key)");
      return false;
    }
    SendError(res, 403, "forbidden", "this API key's role may not use this endpoint");
    return false;
  }

  using Handler = std::function<void(const Request&, Response&)>;
  void Route(const char* method, const std::string& pattern, const std::string& name, Role role,
             Handler handler) {
    auto wrapped = [this, name, role, handler = std::move(handler), method](const Request& req,
                                                                            Response& res) {
      const auto t0 = std::chrono::steady_clock::now();
      if (Authorize(req, res, role)) {
        try {
          handler(req, res);
        } catch (const std::exception& e) {
          spdlog::error("{} {}: {}", method, name, e.what());
          SendError(res, 500, "internal", e.what());
        }
      }
      const std::string labels =
          "route=\"" + http::Metrics::Escape(name) + "\",method=\"" + method + "\"";
      // httplib fills in 200 after the handler when it set content but no status.
      const int code = res.status == -1 ? 200 : res.status;
      metrics.Count("faceatt_http_requests_total",
                    labels + ",code=\"" + std::to_string(code) + "\"");
      metrics.Observe("faceatt_http_request_duration_seconds", labels, Seconds(t0));
    };
    const std::string m = method;
    if (m == "GET")
      svr.Get(pattern, wrapped);
    else if (m == "POST")
      svr.Post(pattern, wrapped);
    else if (m == "PATCH")
      svr.Patch(pattern, wrapped);
    else if (m == "DELETE")
      svr.Delete(pattern, wrapped);
  }

  // Streams (SSE, MJPEG) each hold a server thread for as long as they last:
  // at most kStreamThreads at once, so they never take the request threads.
  std::atomic<int> open_streams{0};
  bool OpenStream(Response& res) {
    if (++open_streams > kStreamThreads) {
      --open_streams;
      SendError(res, 503, "unavailable",
                "too many open streams (" + std::to_string(kStreamThreads) + "); try again later");
      return false;
    }
    return true;
  }

  void Stage(const char* stage, std::chrono::steady_clock::time_point t0) {
    metrics.Observe("faceatt_stage_duration_seconds", std::string("stage=\"") + stage + "\"",
                    Seconds(t0));
  }
  // The pipeline's own stages of its last image: detect, landmarks, embed.
  void ObserveStages(const FacePipeline& pipeline) {
    const auto& t = pipeline.last_times();
    metrics.Observe("faceatt_stage_duration_seconds", "stage=\"detect\"", t.detect);
    metrics.Observe("faceatt_stage_duration_seconds", "stage=\"landmarks\"", t.landmarks);
    if (t.embed > 0) metrics.Observe("faceatt_stage_duration_seconds", "stage=\"embed\"", t.embed);
  }

  void SetUpRoutes();
  void HandleHealth(const Request&, Response&);
  void HandleConfig(const Request&, Response&);
  void HandleEnroll(const Request&, Response&, bool json_body);
  void HandleIdentify(const Request&, Response&);
  void HandleRecognize(const Request&, Response&);
  void HandleAttendanceGet(const Request&, Response&);
  void HandleAttendancePost(const Request&, Response&);
  void HandleUserPatch(const Request&, Response&);
  void HandleUserDelete(const Request&, Response&);
  void HandleThumbnail(const Request&, Response&);
  void HandleEvents(const Request&, Response&);
  void HandleMetrics(const Request&, Response&);
  void HandleDeliveries(const Request&, Response&);
  void HandleStream(const Request&, Response&);
  void HandleCapture(const Request&, Response&);

  // The image of an identify/recognize request: multipart `image` or JSON `image`.
  Result<cv::Mat> RequestImage(const Request& req, const json* body) {
    std::string bytes;
    if (body) {
      FACEATT_ASSIGN_OR_RETURN(std::string b64, JsonString(*body, "image"));
      if (b64.empty()) return Status::InvalidArgument("image is required");
      FACEATT_ASSIGN_OR_RETURN(bytes, DecodeBase64(b64));
    } else {
      if (!req.has_file("image"))
        return Status::InvalidArgument("a multipart field 'image' is required");
      bytes = req.get_file_value("image").content;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto image = DecodeImage(bytes, {config.image.max_bytes, config.image.max_pixels}, "image");
    Stage("decode", t0);
    return image;
  }
};

void Server::Impl::HandleHealth(const Request&, Response& res) {
  auto users = store->CountUsers();
  auto embeddings = store->CountEmbeddings();
  const bool db_ok = users.ok() && embeddings.ok();
  const bool models_ok = models != nullptr && service != nullptr;
  std::string camera_state = "none";
  if (camera) camera_state = camera->connected() ? "connected" : "disconnected";
  json body = {{"status", db_ok && models_ok ? "ok" : "unavailable"},
               {"database", db_ok ? "ok" : (users.ok() ? embeddings : users).status().message()},
               {"models", models_ok ? models->description() : "not loaded"},
               {"model_id", models_ok ? models->model_id() : ""},
               {"camera", camera_state},
               {"version", options.version},
               {"uptime_seconds", Round4(Seconds(started_at))},
               {"users", users.ok() ? json(*users) : json()},
               {"embeddings", embeddings.ok() ? json(*embeddings) : json()},
               {"gallery_people", service ? service->people() : 0}};
  SendJson(res, db_ok && models_ok ? 200 : 503, body);
}

void Server::Impl::HandleConfig(const Request&, Response& res) {
  const auto& p = service->policy();
  SendJson(res, 200,
           {{"tolerance", Round4(p.tolerance)},
            {"margin", Round4(p.margin)},
            {"match", config.recognition.match},
            {"model", models->model_id()},
            {"models", models->description()},
            {"detector", config.models.detector},
            {"attendance_cooldown_seconds", config.attendance.cooldown_seconds},
            {"allow_second_in", config.attendance.allow_second_in},
            {"webhook_enabled", !config.webhook.urls.empty()},
            {"webhook_cooldown_seconds", config.webhook.cooldown_seconds},
            {"camera_enabled", camera != nullptr},
            {"camera_fps", config.camera.fps},
            {"gate_identify", config.camera.gate_identify},
            {"max_upload_bytes", config.server.max_upload_bytes},
            {"auth_required", !no_keys()}});
}

void Server::Impl::HandleEnroll(const Request& req, Response& res, bool json_body) {
  EnrollRequest er;
  if (json_body) {
    auto body = ParseJsonObject(req.body);
    if (!body.ok()) return SendError(res, 400, "bad_input", body.status().message());
    auto name = JsonString(*body, "name");
    auto id = JsonString(*body, "employee_id");
    auto dep = JsonString(*body, "department");
    for (auto* r : {&name, &id, &dep})
      if (!r->ok()) return SendStatus(res, r->status());
    er.name = *name, er.employee_id = *id, er.department = *dep;
    if (body->contains("force")) {
      if (!(*body)["force"].is_boolean())
        return SendError(res, 400, "invalid_argument", "force must be true or false");
      er.force = (*body)["force"].get<bool>();
    }
    std::vector<std::string> texts;
    if (body->contains("image")) {
      auto one = JsonString(*body, "image");
      if (!one.ok()) return SendStatus(res, one.status());
      texts.push_back(*one);
    }
    if (body->contains("images")) {
      if (!(*body)["images"].is_array())
        return SendError(res, 400, "invalid_argument", "images must be an array");
      for (const auto& v : (*body)["images"]) {
        if (!v.is_string())
          return SendError(res, 400, "invalid_argument", "images must hold strings");
        texts.push_back(v.get<std::string>());
      }
    }
    for (size_t i = 0; i < texts.size(); ++i) {
      auto bytes = DecodeBase64(texts[i]);
      if (!bytes.ok()) return SendError(res, 400, "bad_input", bytes.status().message());
      er.images.push_back({"image" + std::to_string(i + 1), std::move(*bytes), true});
    }
  } else {
    if (!req.is_multipart_form_data())
      return SendError(res, 400, "bad_input",
                       "expected multipart/form-data (or POST /enroll/json)");
    er.name = FormValue(req, "name");
    er.employee_id = FormValue(req, "employee_id");
    er.department = FormValue(req, "department");
    const std::string force = FormValue(req, "force");
    if (!force.empty() && force != "true" && force != "false" && force != "1" && force != "0")
      return SendError(res, 400, "invalid_argument", "force must be true or false");
    er.force = force == "true" || force == "1";
    auto range = req.files.equal_range("image");
    for (auto it = range.first; it != range.second; ++it) {
      const auto& f = it->second;
      er.images.push_back(EnrollImage{
          f.filename.empty() ? "image" + std::to_string(er.images.size() + 1) : f.filename,
          f.content, true});
    }
  }
  if (er.images.empty())
    return SendError(res, 400, "invalid_argument", "at least one image is required");
  for (const auto& im : er.images)
    if (im.bytes.empty()) return SendError(res, 400, "bad_input", im.name + ": empty image");
  auto lease = pool->Acquire();
  if (!lease.ok()) return SendStatus(res, lease.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto result = service->Enroll(**lease, er);
  Stage("enroll", t0);
  if (!result.ok()) {
    const Status& st = result.status();
    json body = {{"error", {{"code", CodeName(st.code())}, {"message", st.message()}}}};
    // The first per-image reason, as the CLI reports it ("a.jpg: no_face (...)").
    for (const char* reason : {kNoFace, kMultiFace, kBadQuality, kBadInput, kAlreadyEnrolled})
      if (st.code() == Code::kBadInput &&
          st.message().find(std::string(": ") + reason) != std::string::npos) {
        body["error"]["reason"] = reason;
        break;
      }
    if (st.code() == Code::kConflict) body["error"]["reason"] = "face_enrolled_as_someone_else";
    return SendJson(res, HttpStatusFor(st.code()), body);
  }
  json images = json::array();
  for (const auto& o : result->outcomes)
    images.push_back({{"image", o.image},
                      {"accepted", o.accepted},
                      {"reason", OrNull(o.reason)},
                      {"detail", OrNull(o.detail)},
                      {"box", o.box ? BoxJson(*o.box) : json()}});
  json body = UserJson(result->user);
  body["success"] = true;
  body["created"] = result->created;
  body["accepted"] = result->accepted;
  body["images"] = images;
  events.Publish("enrolled",
                 {{"employee_id", result->user.employee_id}, {"name", result->user.name}});
  SendJson(res, result->created ? 201 : 200, body);
}

void Server::Impl::HandleIdentify(const Request& req, Response& res) {
  const auto t_start = std::chrono::steady_clock::now();
  Attempt attempt;
  std::optional<json> body;
  bool camera_mode = false;
  if (req.is_multipart_form_data()) {
    attempt.type = FormValue(req, "type");
    attempt.device_id = FormValue(req, "device_id");
    attempt.ts_client = FormValue(req, "ts_client");
  } else if (IsJson(req) || !req.body.empty()) {
    auto parsed = ParseJsonObject(req.body);
    if (!parsed.ok()) return SendError(res, 400, "bad_input", parsed.status().message());
    body = std::move(*parsed);
    for (auto [key, out] :
         {std::pair{"type", &attempt.type}, std::pair{"device_id", &attempt.device_id},
          std::pair{"ts_client", &attempt.ts_client}}) {
      auto v = JsonString(*body, key);
      if (!v.ok()) return SendStatus(res, v.status());
      *out = *v;
    }
    camera_mode = !body->contains("image");
  } else {
    camera_mode = true;
  }
  if (attempt.type.empty()) attempt.type = "auto";
  auto type = ParseAttendanceType(attempt.type);
  if (!type.ok()) return SendStatus(res, type.status());
  attempt.type = *type;

  // A failed attempt's answer: counted, published to /events, sent.
  auto refuse = [&](int http, const json& out) {
    metrics.Count("faceatt_recognitions_total",
                  "outcome=\"" + out["reason"].get<std::string>() + "\"");
    json event = out;
    event["device_id"] = attempt.device_id;
    events.Publish("recognition", event);
    SendJson(res, http, out);
  };
  // Attempts that never reached the attendance rules (no frame, a failure of
  // ours) still leave an audit row when the database takes one.
  auto fail = [&](int http, const std::string& reason, const std::string& message) {
    auto rec = recorder->RecordFailure(reason, std::nullopt, attempt);
    if (!rec.ok()) spdlog::warn("attendance audit row not written: {}", rec.status().message());
    refuse(
        http,
        {{"success", false}, {"reason", reason}, {"message", message}, {"min_distance", nullptr}});
  };

  cv::Mat image;
  json frame_info;
  if (camera_mode) {
    if (attempt.device_id.empty()) attempt.device_id = config.camera.device_id;
    auto frame = camera ? camera->Latest() : std::nullopt;
    if (!frame)
      return fail(
          503, "camera_unavailable",
          camera ? "the camera has no recent frame" : "no camera is configured (camera.source)");
    image = frame->image;
    frame_info = {
        {"source", "camera"}, {"seq", frame->seq}, {"width", image.cols}, {"height", image.rows}};
  } else {
    auto decoded = RequestImage(req, body ? &*body : nullptr);
    if (!decoded.ok()) {
      const Status& st = decoded.status();
      if (st.code() == Code::kInvalidArgument) return SendStatus(res, st);
      metrics.Count("faceatt_recognitions_total", "outcome=\"bad_input\"");
      auto rec = recorder->RecordFailure(kBadInput, std::nullopt, attempt);
      if (!rec.ok()) spdlog::warn("attendance audit row not written: {}", rec.status().message());
      return SendStatus(res, st);
    }
    image = std::move(*decoded);
    frame_info = {{"source", "upload"}, {"width", image.cols}, {"height", image.rows}};
  }

  auto lease = pool->Acquire();
  if (!lease.ok()) {
    metrics.Count("faceatt_queue_rejections_total", "");
    return SendStatus(res, lease.status());
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto id = service->Identify(**lease, image);
  Stage("analyze", t0);
  ObserveStages(**lease);
  if (!id.ok()) return fail(500, "internal_error", id.status().message());
  std::function<bool(const Box&)> in_area;
  if (camera_mode && config.camera.gate_identify)
    in_area = [size = image.size()](const Box& box) { return InsideGuide(size, box); };
  // Webhook events are stored with the attendance row they announce, in its
  // transaction: a crash never keeps one without the other.
  int queued = 0;
  if (webhooks && webhooks->enabled() && id->faces.size() == 1) {
    const FaceIdentity& only = id->faces.front();
    attempt.events = [&](const AttendanceRecord& row) {
      const bool known = row.status == kStatusSuccess;
      json payload = {{"event", known ? kEventRecognized : kEventUnknown},
                      {"employee_id", known ? json(*row.employee_id) : json()},
                      {"name", known ? json(only.name) : json()},
                      {"distance", row.distance ? json(Round4(*row.distance)) : json()},
                      {"type", known ? row.type : attempt.type},
                      {"device_id", attempt.device_id},
                      {"ts", FormatUtc(row.ts_server_ms)},
                      {"box", BoxJson(only.box)},
                      {"frame_info", frame_info}};
      auto rows = webhooks->Prepare(known ? kEventRecognized : kEventUnknown, payload.dump(),
                                    known ? *row.employee_id : "unknown:" + attempt.device_id);
      queued = static_cast<int>(rows.size());
      return rows;
    };
  }
  const auto t1 = std::chrono::steady_clock::now();
  auto outcome = recorder->RecordIdentification(*id, attempt, in_area);
  Stage("record", t1);
  if (!outcome.ok()) return fail(500, "internal_error", outcome.status().message());
  if (webhooks) webhooks->Queued(queued);
  const AttemptOutcome& o = *outcome;
  const std::string ts = FormatUtc(clock->NowMillis());
  const json distance = o.min_distance ? json(Round4(*o.min_distance)) : json();
  if (!o.success) {
    // The audit row is written; say why, with what helps the person in front of the camera.
    json out = {{"success", false},
                {"reason", o.reason},
                {"message", o.message},
                {"min_distance", distance},
                {"record_id", o.record_id}};
    if (o.reason == kMultiFace) out["faces"] = o.faces;
    if (o.face) out["box"] = BoxJson(o.face->box);
    if (o.reason == kBadQuality) out["detail"] = o.face->detail;
    if (o.reason == kUnknown) out["decided_threshold"] = Round4(o.face->threshold);
    if (o.reason == kAlreadyRecorded) {
      out["employee_id"] = o.face->employee_id;
      out["name"] = o.face->name;
      out["type"] = o.decision.type;
      out["first_ts"] = FormatUtc(o.decision.first_ts_ms);
    }
    return refuse(200, out);
  }
  const FaceIdentity& face = *o.face;
  metrics.Count("faceatt_recognitions_total", "outcome=\"recognized\"");
  json out = {{"success", true},
              {"employee_id", face.employee_id},
              {"name", face.name},
              {"distance", Round4(face.distance)},
              {"decided_threshold", Round4(face.threshold)},
              {"type", o.decision.type},
              {"message", o.message},
              {"record_id", o.record_id},
              {"ts", ts},
              {"box", BoxJson(face.box)}};
  json event = out;
  event["device_id"] = attempt.device_id;
  events.Publish("attendance", event);
  Stage("identify_total", t_start);
  SendJson(res, 200, out);
}

void Server::Impl::HandleRecognize(const Request& req, Response& res) {
  std::optional<json> body;
  if (!req.is_multipart_form_data()) {
    auto parsed = ParseJsonObject(req.body);
    if (!parsed.ok()) return SendError(res, 400, "bad_input", parsed.status().message());
    body = std::move(*parsed);
  }
  auto image = RequestImage(req, body ? &*body : nullptr);
  if (!image.ok()) return SendStatus(res, image.status());
  auto lease = pool->Acquire();
  if (!lease.ok()) return SendStatus(res, lease.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto id = service->Identify(**lease, *image);
  Stage("analyze", t0);
  ObserveStages(**lease);
  if (!id.ok()) return SendStatus(res, id.status());
  json faces = json::array();
  for (const auto& f : id->faces) {
    faces.push_back({{"box", BoxJson(f.box)},
                     {"label", f.matched ? f.name : (f.reason.empty() ? kUnknown : f.reason)},
                     {"employee_id", OrNull(f.employee_id)},
                     {"name", f.matched ? json(f.name) : json()},
                     {"matched", f.matched},
                     {"distance", f.distance >= 0 ? json(Round4(f.distance)) : json()},
                     {"threshold", Round4(f.threshold)},
                     {"reason", OrNull(f.reason)},
                     {"detail", OrNull(f.detail)}});
  }
  SendJson(
      res, 200,
      {{"faces", faces}, {"count", faces.size()}, {"width", image->cols}, {"height", image->rows}});
}

namespace {
json RecordJson(const AttendanceRecord& r) {
  return {{"id", r.id},
          {"employee_id", r.employee_id ? json(*r.employee_id) : json()},
          {"type", OrNull(r.type)},
          {"status", r.status},
          {"reason", OrNull(r.reason)},
          {"device_id", r.device_id},
          {"distance", r.distance ? json(Round4(*r.distance)) : json()},
          {"ts_server", FormatUtc(r.ts_server_ms)},
          {"ts_client", OrNull(r.ts_client)}};
}
// "2026-11-21" (local day start) or an ISO 8601 timestamp.
Result<int64_t> ParseWhen(const std::string& s, bool end) {
  if (s.size() == 10) {
    FACEATT_ASSIGN_OR_RETURN(int64_t start, LocalDayStart(s));
    return end ? start + 24 * 3600 * 1000 : start;
  }
  return ParseTimestamp(s);
}
Result<int> IntParam(const Request& req, const char* key, int def, int lo, int hi) {
  if (!req.has_param(key)) return def;
  const std::string v = req.get_param_value(key);
  try {
    size_t used = 0;
    const int n = std::stoi(v, &used);
    if (used == v.size() && n >= lo && n <= hi) return n;
  } catch (const std::exception&) {
  }
  return Status::InvalidArgument(std::string(key) + " must be an integer from " +
                                 std::to_string(lo) + " to " + std::to_string(hi));
}
}  // namespace

void Server::Impl::HandleAttendanceGet(const Request& req, Response& res) {
  AttendanceQuery q;
  if (req.has_param("employee_id")) q.employee_id = req.get_param_value("employee_id");
  if (req.has_param("status")) {
    q.status = req.get_param_value("status");
    if (*q.status != kStatusSuccess && *q.status != kStatusUnknown && *q.status != kStatusFailed)
      return SendError(res, 400, "invalid_argument", "status must be success, unknown or failed");
  }
  if (req.has_param("type")) {
    auto t = ParseAttendanceType(req.get_param_value("type"), false);
    if (!t.ok()) return SendStatus(res, t.status());
    q.type = *t;
  }
  for (auto [key, out, end] :
       {std::tuple{"from", &q.from_ms, false}, std::tuple{"to", &q.to_ms, true}}) {
    if (!req.has_param(key)) continue;
    auto when = ParseWhen(req.get_param_value(key), end);
    if (!when.ok())
      return SendError(res, 400, "invalid_argument",
                       std::string(key) + ": expected YYYY-MM-DD or an ISO 8601 timestamp");
    *out = *when;
  }
  auto limit = IntParam(req, "limit", 100, 1, 1000);
  auto offset = IntParam(req, "offset", 0, 0, 1 << 30);
  if (!limit.ok()) return SendStatus(res, limit.status());
  if (!offset.ok()) return SendStatus(res, offset.status());
  q.limit = *limit;
  q.offset = *offset;
  auto rows = store->QueryAttendance(q);
  if (!rows.ok()) return SendStatus(res, rows.status());
  auto count = store->CountAttendance(q);
  if (!count.ok()) return SendStatus(res, count.status());
  json records = json::array();
  for (const auto& r : *rows) {
    json j = RecordJson(r);
    if (r.employee_id) j["name"] = service->NameOf(*r.employee_id);
    records.push_back(std::move(j));
  }
  SendJson(res, 200,
           {{"records", records}, {"count", *count}, {"limit", q.limit}, {"offset", q.offset}});
}

void Server::Impl::HandleAttendancePost(const Request& req, Response& res) {
  auto body = ParseJsonObject(req.body);
  if (!body.ok()) return SendError(res, 400, "bad_input", body.status().message());
  auto id = JsonString(*body, "employee_id");
  auto type = JsonString(*body, "type");
  auto device = JsonString(*body, "device_id");
  auto ts_client = JsonString(*body, "ts_client");
  for (auto* r : {&id, &type, &device, &ts_client})
    if (!r->ok()) return SendStatus(res, r->status());
  if (id->empty()) return SendError(res, 400, "invalid_argument", "employee_id is required");
  auto t = ParseAttendanceType(*type, false);
  if (!t.ok()) return SendStatus(res, t.status());
  auto user = store->GetUser(*id);
  if (!user.ok()) return SendStatus(res, user.status());
  AttendanceRecord r;
  r.employee_id = *id;
  r.type = *t;
  r.status = kStatusSuccess;
  r.reason = "manual";
  r.device_id = device->empty() ? "manual" : *device;
  r.ts_server_ms = clock->NowMillis();
  r.ts_client = *ts_client;
  auto row = store->AddAttendance(r);
  if (!row.ok()) return SendStatus(res, row.status());
  r.id = *row;
  json out = RecordJson(r);
  out["name"] = user->name;
  events.Publish("attendance", out);
  SendJson(res, 201, out);
}

void Server::Impl::HandleUserPatch(const Request& req, Response& res) {
  const std::string id = req.matches[1];
  auto body = ParseJsonObject(req.body);
  if (!body.ok()) return SendError(res, 400, "bad_input", body.status().message());
  std::optional<std::string> name, department;
  std::optional<bool> active;
  for (const auto& [k, v] : body->items()) {
    if (k == "name" || k == "department") {
      if (!v.is_string()) return SendError(res, 400, "invalid_argument", k + " must be a string");
      (k == "name" ? name : department) = v.get<std::string>();
    } else if (k == "active") {
      if (!v.is_boolean())
        return SendError(res, 400, "invalid_argument", "active must be true or false");
      active = v.get<bool>();
    } else {
      return SendError(res, 400, "invalid_argument",
                       "unknown field " + k + " (name, department, active)");
    }
  }
  if (name) {
    Status st = ValidateName(*name);
    if (!st.ok()) return SendStatus(res, st);
  }
  if (department && !department->empty()) {
    Status st = ValidateName(*department, "department");
    if (!st.ok()) return SendStatus(res, st);
  }
  Status st = store->UpdateUser(id, name, department, active);
  if (!st.ok()) return SendStatus(res, st);
  st = service->Reload();  // names and active people
  if (!st.ok()) return SendStatus(res, st);
  auto user = store->GetUser(id);
  if (!user.ok()) return SendStatus(res, user.status());
  SendJson(res, 200, UserJson(*user));
}

void Server::Impl::HandleUserDelete(const Request& req, Response& res) {
  const std::string id = req.matches[1];
  const bool purge = req.get_param_value("purge_attendance") == "1" ||
                     req.get_param_value("purge_attendance") == "true";
  auto removed = store->DeleteUser(id, purge);
  if (!removed.ok()) return SendStatus(res, removed.status());
  service->ForgetPerson(id);
  const DataDir& dir = service->data_dir();
  for (const auto& e : *removed)
    for (const auto* p : {&e.thumbnail_path, &e.crop_path})
      if (!p->empty()) {
        std::error_code ec;
        fs::remove(dir.Absolute(*p), ec);
      }
  SendJson(res, 200,
           {{"deleted", id}, {"embeddings", removed->size()}, {"attendance_purged", purge}});
}

void Server::Impl::HandleThumbnail(const Request& req, Response& res) {
  const std::string id = req.matches[1];
  auto user = store->GetUser(id);
  if (!user.ok()) return SendStatus(res, user.status());
  auto refs = store->ListFileRefs();
  if (!refs.ok()) return SendStatus(res, refs.status());
  auto all = store->LoadEmbeddings("");
  if (!all.ok()) return SendStatus(res, all.status());
  const StoredEmbedding* best = nullptr;
  for (const auto& e : *all)
    if (e.employee_id == id && !e.thumbnail_path.empty() && (!best || e.quality > best->quality))
      best = &e;
  if (!best) return SendError(res, 404, "not_found", id + " has no thumbnail");
  auto bytes =
      ReadFileBytes(service->data_dir().Absolute(best->thumbnail_path), config.image.max_bytes);
  if (!bytes.ok()) return SendStatus(res, bytes.status());
  auto probe = ProbeImage(*bytes);
  res.set_content(std::move(*bytes),
                  probe.ok() && probe->format == "png" ? "image/png" : "image/jpeg");
}

void Server::Impl::HandleEvents(const Request&, Response& res) {
  if (!OpenStream(res)) return;
  int64_t after = events.seq();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto waits = std::make_shared<int>(0);
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, after, waits](size_t, httplib::DataSink& sink) mutable {
        if (*waits == 0 && after >= 0) {
          const std::string hello = ": connected\nretry: 3000\n\n";
          if (!sink.write(hello.data(), hello.size())) return false;
        }
        std::string out;
        if (stopping || !events.Next(after, out)) {
          sink.done();
          return false;
        }
        if (out.empty() && ++*waits % kSsePingEvery == 0) out = ": ping\n\n";
        if (out.empty()) return true;
        if (*waits == 0) *waits = 1;  // the greeting is sent once
        return sink.write(out.data(), out.size());
      },
      [this](bool) { --open_streams; });
}

void Server::Impl::HandleMetrics(const Request&, Response& res) {
  std::string extra;
  auto gauge = [&](const std::string& name, const std::string& type, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    extra += "# TYPE " + name + " " + type + "\n" + name + " " + buf + "\n";
  };
  if (webhooks) {
    const auto c = webhooks->counters();
    gauge("faceatt_webhook_deliveries_total", "counter", static_cast<double>(c.delivered));
    gauge("faceatt_webhook_failures_total", "counter", static_cast<double>(c.failed_attempts));
    gauge("faceatt_webhook_gave_up_total", "counter", static_cast<double>(c.gave_up));
    gauge("faceatt_webhook_suppressed_total", "counter", static_cast<double>(c.suppressed));
    auto pending = store->CountOutbox(kOutboxPending);
    if (pending.ok()) gauge("faceatt_webhook_pending", "gauge", static_cast<double>(*pending));
  }
  if (camera) {
    const auto c = camera->counters();
    gauge("faceatt_camera_frames_total", "counter", static_cast<double>(c.frames));
    gauge("faceatt_camera_reconnects_total", "counter", static_cast<double>(c.reconnects));
    gauge("faceatt_camera_connected", "gauge", camera->connected() ? 1 : 0);
  }
  if (streamer) gauge("faceatt_mjpeg_viewers", "gauge", streamer->viewers());
  gauge("faceatt_pipeline_queue_waiting", "gauge", pool->waiting());
  gauge("faceatt_gallery_people", "gauge", static_cast<double>(service->people()));
  res.set_content(metrics.Render(extra), "text/plain; version=0.0.4");
}

void Server::Impl::HandleDeliveries(const Request& req, Response& res) {
  const std::string status = req.get_param_value("status");
  if (!status.empty() && status != kOutboxPending && status != kOutboxDelivered &&
      status != kOutboxFailed)
    return SendError(res, 400, "invalid_argument", "status must be pending, delivered or failed");
  auto limit = IntParam(req, "limit", 100, 1, 1000);
  if (!limit.ok()) return SendStatus(res, limit.status());
  auto rows = store->ListOutbox(status, *limit);
  if (!rows.ok()) return SendStatus(res, rows.status());
  json list = json::array();
  for (const auto& o : *rows)
    list.push_back({{"id", o.id},
                    {"url", o.url},
                    {"event", o.event},
                    {"status", o.status},
                    {"attempts", o.attempts},
                    {"next_attempt_at", FormatUtc(o.next_attempt_ms)},
                    {"last_error", OrNull(o.last_error)},
                    {"last_http_status", o.last_http_status ? json(o.last_http_status) : json()},
                    {"created_at", FormatUtc(o.created_ms)},
                    {"delivered_at", o.delivered_ms ? json(FormatUtc(o.delivered_ms)) : json()}});
  json counts;
  for (const char* s : {kOutboxPending, kOutboxDelivered, kOutboxFailed}) {
    auto n = store->CountOutbox(s);
    counts[s] = n.ok() ? json(*n) : json();
  }
  SendJson(
      res, 200,
      {{"deliveries", list}, {"counts", counts}, {"enabled", webhooks && webhooks->enabled()}});
}

void Server::Impl::HandleStream(const Request&, Response& res) {
  if (!camera || !streamer)
    return SendError(res, 503, "camera_unavailable", "no camera is configured");
  if (!OpenStream(res)) return;
  streamer->AddViewer();
  res.set_header("Cache-Control", "no-cache");
  auto last = std::make_shared<int64_t>(0);
  res.set_chunked_content_provider(
      "multipart/x-mixed-replace; boundary=frame",
      [this, last](size_t, httplib::DataSink& sink) {
        bool stop = false;
        auto jpeg = streamer->Next(*last, stop);
        if (stop || stopping) {
          sink.done();
          return false;
        }
        if (!jpeg) return true;  // no new frame yet: wait again
        const std::string head = "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " +
                                 std::to_string(jpeg->size()) + "\r\n\r\n";
        // A slow viewer blocks here on its own socket; frames encoded meanwhile
        // are skipped (only the latest is kept), so nothing piles up.
        return sink.write(head.data(), head.size()) && sink.write(jpeg->data(), jpeg->size()) &&
               sink.write("\r\n", 2);
      },
      [this](bool) {
        streamer->RemoveViewer();
        --open_streams;
      });
}

void Server::Impl::HandleCapture(const Request& req, Response& res) {
  auto frame = camera ? camera->Latest() : std::nullopt;
  if (!frame)
    return SendError(res, 503, "camera_unavailable",
                     camera ? "the camera has no recent frame" : "no camera is configured");
  cv::Mat image = frame->image;
  if (req.get_param_value("preview") == "1") {
    auto lease = pool->Acquire();
    if (!lease.ok()) return SendStatus(res, lease.status());
    image = Streamer::Annotate(**lease, image, config.camera.guide_min_face);
  }
  auto jpeg = EncodeJpeg(image, config.camera.jpeg_quality);
  if (!jpeg.ok()) return SendStatus(res, jpeg.status());
  res.set_header("Cache-Control", "no-cache");
  res.set_content(std::move(*jpeg), "image/jpeg");
}

namespace {
json OpenApi(const std::string& version) {
  const json error_body = {
      {"description", "An error: {\"error\": {\"code\", \"message\"[, \"reason\"]}}"},
      {"content",
       {{"application/json",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"properties",
                 {{"code", {{"type", "string"}}},
                  {"message", {{"type", "string"}}},
                  {"reason", {{"type", "string"}}}}}}}}}}}}}}}};
  auto op = [&](const char* summary, const char* role, json extra = json::object()) {
    json responses = {{"200", {{"description", "OK"}}}, {"400", error_body}, {"500", error_body}};
    if (std::string(role) != "public") {
      responses["401"] = error_body;
      responses["403"] = error_body;
    }
    json o = {{"summary", summary}, {"x-role", role}, {"responses", responses}};
    if (std::string(role) == "public") o["security"] = json::array();  // no key needed
    for (auto& [k, v] : extra.items()) o[k] = v;
    return o;
  };
  auto query = [](std::initializer_list<std::pair<const char*, const char*>> params) {
    json out = json::array();
    for (const auto& [name, description] : params)
      out.push_back({{"name", name},
                     {"in", "query"},
                     {"required", false},
                     {"description", description},
                     {"schema", {{"type", "string"}}}});
    return out;
  };
  const json enroll_form = {
      {"content",
       {{"multipart/form-data",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}}},
              {"employee_id",
               {{"type", "string"}, {"description", "empty: generated (EMP001, ...)"}}},
              {"department", {{"type", "string"}}},
              {"force", {{"type", "string"}, {"enum", {"true", "false"}}}},
              {"image",
               {{"type", "array"}, {"items", {{"type", "string"}, {"format", "binary"}}}}}}},
            {"required", {"image"}}}}}},
        {"application/json",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}}},
              {"employee_id", {{"type", "string"}}},
              {"department", {{"type", "string"}}},
              {"force", {{"type", "boolean"}}},
              {"image", {{"type", "string"}, {"description", "base64 or data URL"}}},
              {"images", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}}}}}}}};
  const json image_form = {
      {"content",
       {{"multipart/form-data",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"image", {{"type", "string"}, {"format", "binary"}}},
              {"type", {{"type", "string"}, {"enum", {"IN", "OUT", "auto"}}}},
              {"device_id", {{"type", "string"}}},
              {"ts_client", {{"type", "string"}}}}}}}}},
        {"application/json",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"image",
               {{"type", "string"}, {"description", "base64 or data URL; absent = camera mode"}}},
              {"type", {{"type", "string"}}},
              {"device_id", {{"type", "string"}}},
              {"ts_client", {{"type", "string"}}}}}}}}}}}};
  const json id_param = {
      {{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}};
  json paths = {
      {"/health",
       {{"get", op("Status, database, camera, models, counts; 503 when unusable", "public")}}},
      {"/config", {{"get", op("Non-secret settings", "reader")}}},
      {"/enroll",
       {{"post",
         op("Enroll from multipart: name, employee_id, department, force, image (repeatable)",
            "admin", {{"requestBody", enroll_form}})}}},
      {"/enroll/json",
       {{"post", op("Enroll from JSON {name, employee_id, department, force, image|images}",
                    "admin", {{"requestBody", enroll_form}})}}},
      {"/identify",
       {{"post", op("Identify and record attendance (upload, JSON base64, or camera mode)",
                    "device", {{"requestBody", image_form}})}}},
      {"/recognize",
       {{"post", op("Every face with box, label and distance; nothing recorded", "device",
                    {{"requestBody", image_form}})}}},
      {"/attendance",
       {{"get", op("Attendance records", "reader",
                   {{"parameters", query({{"employee_id", "one person"},
                                          {"from", "YYYY-MM-DD (local) or ISO 8601, inclusive"},
                                          {"to", "YYYY-MM-DD (local, inclusive) or ISO 8601"},
                                          {"status", "success | unknown | failed"},
                                          {"type", "IN | OUT"},
                                          {"limit", "1-1000, default 100"},
                                          {"offset", "rows to skip"}})}})},
        {"post",
         op("Record an event by hand {employee_id, type, device_id, ts_client}", "admin")}}},
      {"/users", {{"get", op("People", "reader")}}},
      {"/users/{id}",
       {{"parameters", id_param},
        {"get", op("One person", "reader")},
        {"patch", op("Change name, department, active", "admin")},
        {"delete",
         op("Delete a person", "admin",
            {{"parameters", query({{"purge_attendance", "1: also delete their attendance"}})}})}}},
      {"/users/{id}/thumbnail",
       {{"parameters", id_param}, {"get", op("The person's thumbnail (JPEG)", "reader")}}},
      {"/events", {{"get", op("Server-Sent Events: recognition, attendance, enrolled", "reader")}}},
      {"/metrics", {{"get", op("Prometheus metrics", "reader")}}},
      {"/webhooks/deliveries",
       {{"get", op("Webhook outbox rows and counts", "admin",
                   {{"parameters",
                     query({{"status", "pending | delivered | failed"}, {"limit", "rows"}})}})}}},
      {"/stream.mjpeg",
       {{"get", op("MJPEG stream with the guide overlay; 503 without a camera", "device")}}},
      {"/capture",
       {{"get", op("Latest camera frame as JPEG; 503 without a camera", "device",
                   {{"parameters", query({{"preview", "1: with the guide overlay"}})}})}}},
      {"/openapi.json", {{"get", op("This document", "public")}}},
  };
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "faceatt"},
            {"version", version},
            {"description",
             "Face-recognition attendance. Errors: {\"error\": {\"code\", \"message\"}}."}}},
          {"components",
           {{"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
              {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}}}},
          {"security", json::array({{{"bearer", json::array()}}, {{"apiKey", json::array()}}})},
          {"paths", paths}};
}
}  // namespace

void Server::Impl::SetUpRoutes() {
  auto bind = [this](void (Impl::*fn)(const Request&, Response&)) {
    return [this, fn](const Request& q, Response& r) { (this->*fn)(q, r); };
  };
  Route("GET", "/health", "/health", Role::kPublic, bind(&Impl::HandleHealth));
  Route("GET", "/config", "/config", Role::kReader, bind(&Impl::HandleConfig));
  Route("GET", "/openapi.json", "/openapi.json", Role::kPublic,
        [this](const Request&, Response& res) { SendJson(res, 200, OpenApi(options.version)); });
  Route("POST", "/enroll", "/enroll", Role::kAdmin,
        [this](const Request& q, Response& r) { HandleEnroll(q, r, false); });
  Route("POST", "/enroll/json", "/enroll/json", Role::kAdmin,
        [this](const Request& q, Response& r) { HandleEnroll(q, r, true); });
  Route("POST", "/identify", "/identify", Role::kDevice, bind(&Impl::HandleIdentify));
  Route("POST", "/recognize", "/recognize", Role::kDevice, bind(&Impl::HandleRecognize));
  Route("GET", "/attendance", "/attendance", Role::kReader, bind(&Impl::HandleAttendanceGet));
  Route("POST", "/attendance", "/attendance", Role::kAdmin, bind(&Impl::HandleAttendancePost));
  Route("GET", "/users", "/users", Role::kReader, [this](const Request&, Response& res) {
    auto users = store->ListUsers();
    if (!users.ok()) return SendStatus(res, users.status());
    json list = json::array();
    for (const auto& u : *users) list.push_back(UserJson(u));
    SendJson(res, 200, {{"users", list}, {"count", users->size()}});
  });
  Route("GET", R"(/users/([^/]+))", "/users/{id}", Role::kReader,
        [this](const Request& req, Response& res) {
          auto user = store->GetUser(req.matches[1]);
          if (!user.ok()) return SendStatus(res, user.status());
          SendJson(res, 200, UserJson(*user));
        });
  Route("PATCH", R"(/users/([^/]+))", "/users/{id}", Role::kAdmin, bind(&Impl::HandleUserPatch));
  Route("DELETE", R"(/users/([^/]+))", "/users/{id}", Role::kAdmin, bind(&Impl::HandleUserDelete));
  Route("GET", R"(/users/([^/]+)/thumbnail)", "/users/{id}/thumbnail", Role::kReader,
        bind(&Impl::HandleThumbnail));
  Route("GET", "/events", "/events", Role::kReader, bind(&Impl::HandleEvents));
  Route("GET", "/metrics", "/metrics", Role::kReader, bind(&Impl::HandleMetrics));
  Route("GET", "/webhooks/deliveries", "/webhooks/deliveries", Role::kAdmin,
        bind(&Impl::HandleDeliveries));
  Route("GET", "/stream.mjpeg", "/stream.mjpeg", Role::kDevice, bind(&Impl::HandleStream));
  Route("GET", "/capture", "/capture", Role::kDevice, bind(&Impl::HandleCapture));

  // Errors httplib produces itself (404, 413, malformed requests) get JSON bodies too.
  svr.set_error_handler([](const Request&, Response& res) {
    if (!res.body.empty()) return;
    const char* code = res.status == 404   ? "not_found"
                       : res.status == 413 ? "resource_exhausted"
                       : res.status == 405 ? "method_not_allowed"
                       : res.status < 500  ? "bad_input"
                                           : "internal";
    const char* message = res.status == 404 ? "no such endpoint"
                          : res.status == 413
                              ? "the request body is larger than server.max_upload_bytes"
                          : res.status < 500 ? "malformed request"
                                             : "internal error";
    SendError(res, res.status, code, message);
  });
  svr.set_exception_handler([](const Request&, Response& res, std::exception_ptr ep) {
    std::string what = "unexpected error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    SendError(res, 500, "internal", what);
  });
  // CORS: only listed origins ("*" = any) get the headers; preflights answer here.
  svr.set_pre_routing_handler([this](const Request& req, Response& res) {
    const std::string origin = req.get_header_value("Origin");
    const auto& allowed = config.server.cors_origins;
    const bool ok =
        !origin.empty() && (std::find(allowed.begin(), allowed.end(), origin) != allowed.end() ||
                            std::find(allowed.begin(), allowed.end(), "*") != allowed.end());
    if (ok) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
      res.set_header("Access-Control-Allow-Headers", "Authorization, X-API-Key, Content-Type");
      res.set_header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
      res.set_header("Access-Control-Max-Age", "600");
    }
    // An upload announced as too large is refused before its body is read (httplib
    // would otherwise read and discard it all, or wait for the read timeout).
    if (req.has_header("Content-Length")) {
      const std::string length = req.get_header_value("Content-Length");
      char* end = nullptr;
      const unsigned long long n = std::strtoull(length.c_str(), &end, 10);
      if (end != length.c_str() &&
          n > static_cast<unsigned long long>(config.server.max_upload_bytes)) {
        res.set_header("Connection", "close");
        SendError(res, 413, "resource_exhausted",
                  "the request body is " + length + " bytes, more than server.max_upload_bytes (" +
                      std::to_string(config.server.max_upload_bytes) + ")");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    // A web page from another origin may not use the API, not only through a
    // preflight: a form post needs none, and with no keys nothing else stops it.
    // (An <img> of /stream.mjpeg sends no Origin and still works.)
    if (!origin.empty() && !ok) {
      SendError(res, 403, "forbidden", "origin not allowed (server.cors_origins)");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Without keys the loopback address is the only guard: refuse a request whose
    // Host names another machine (a DNS-rebinding page reaching 127.0.0.1).
    if (no_keys() && !LoopbackHost(req.get_header_value("Host"))) {
      SendError(res, 403, "forbidden",
                "with no API keys configured only localhost may be used as Host");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "OPTIONS") {
      if (ok) {
        res.status = 204;
      } else {
        SendError(res, 403, "forbidden", "origin not allowed (server.cors_origins)");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

Result<std::unique_ptr<Server>> Server::Create(const Config& config,
                                               std::shared_ptr<const Models> models,
                                               Store* store, ServerOptions options) {
  if (!models) return Status::Unavailable("no models loaded");
  if (config.server.workers < 1)
    return Status::InvalidArgument("server.workers must be at least 1");
  if (config.server.queue_length < 0)
    return Status::InvalidArgument("server.queue_length must be >= 0");
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->models = models;
  impl->store = store;
  impl->options = options;
  impl->clock = options.clock ? options.clock : &impl->system_clock;
  FACEATT_ASSIGN_OR_RETURN(
      impl->service, FaceService::Open(config, models, store, DataDir(config.paths.data_dir)));
  impl->recorder = std::make_unique<AttendanceRecorder>(store, config.attendance, impl->clock);
  impl->pool = std::make_unique<PipelinePool>(*models, PipelineOptions::FromConfig(config),
                                              config.server.workers, config.server.queue_length);
  impl->webhooks =
      std::make_unique<WebhookDispatcher>(config.webhook, store, impl->clock, options.webhook);
  if (!config.camera.source.empty())
    impl->camera = std::make_unique<Camera>(config.camera, options.camera);
  impl->host = config.server.host;
  if (impl->no_keys() && impl->host != "127.0.0.1" && impl->host != "localhost" &&
      impl->host != "::1") {
    spdlog::warn(
        "no API keys configured (server.admin_keys, device_keys, reader_keys): "
        "listening on 127.0.0.1 only instead of {}",
        impl->host);
    impl->host = "127.0.0.1";
  } else if (impl->no_keys()) {
    spdlog::warn("no API keys configured: every request is allowed; listening on {} only",
                 impl->host);
  }
  auto& svr = impl->svr;
  const int threads = config.server.workers + config.server.queue_length + kStreamThreads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(static_cast<size_t>(config.server.max_upload_bytes));
  svr.set_read_timeout(config.server.read_timeout_seconds, 0);
  svr.set_write_timeout(config.server.write_timeout_seconds, 0);
  svr.set_keep_alive_timeout(2);
  svr.set_keep_alive_max_count(100);  // a kiosk polling over one connection keeps it
  // Headers and body go out in separate writes: without this, Nagle's algorithm
  // and the client's delayed ACK add 40 ms to every answer.
  svr.set_tcp_nodelay(true);
  svr.set_logger([](const Request& req, const Response& res) {
    spdlog::debug("{} {} -> {}", req.method, req.path, res.status);
  });
  impl->SetUpRoutes();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Shutdown(); }

Status Server::Start() {
  Impl& s = *impl_;
  if (s.started) return Status::Ok();
  if (s.config.server.port == 0) {
    s.port = s.svr.bind_to_any_port(s.host);
    if (s.port <= 0) return Status::Unavailable("cannot bind " + s.host + " to any port");
  } else {
    if (!s.svr.bind_to_port(s.host, s.config.server.port))
      return Status::Unavailable("cannot listen on " + s.host + ":" +
                                 std::to_string(s.config.server.port) +
                                 " (in use, or not allowed)");
    s.port = s.config.server.port;
  }
  if (s.camera) {
    s.camera->Start();
    auto pipeline = s.models->NewPipeline();
    pipeline->set_options(PipelineOptions::FromConfig(s.config));
    s.streamer = std::make_unique<Streamer>(s.camera.get(), std::move(pipeline), s.config.camera,
                                            &s.metrics);
  }
  s.webhooks->Start();
  s.started = true;
  s.started_at = std::chrono::steady_clock::now();
  s.listen_thread = std::thread([&s] { s.svr.listen_after_bind(); });
  // httplib drops a stop() that comes before listening begins: be listening
  // before anyone can call Shutdown().
  for (int i = 0; i < 5000 && !s.svr.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  spdlog::info("faceatt serve: listening on http://{}:{} ({} workers, {} people, models {})",
               s.host, s.port, s.config.server.workers, s.service->people(),
               s.models->description());
  return Status::Ok();
}

int Server::port() const { return impl_->port; }
const std::string& Server::host() const { return impl_->host; }

void Server::Shutdown() {
  Impl& s = *impl_;
  if (s.shut_down) return;
  s.shut_down = true;
  s.stopping = true;
  s.events.Stop();                     // SSE streams end
  if (s.streamer) s.streamer->Stop();  // MJPEG streams end
  if (s.started) {
    s.svr.stop();  // stops accepting; the pool finishes the requests in flight
    if (s.listen_thread.joinable()) s.listen_thread.join();
  }
  s.webhooks->Stop();  // one last delivery pass over the outbox
  if (s.camera) s.camera->Stop();
  spdlog::info("faceatt serve: stopped");
}

}  // namespace faceatt
