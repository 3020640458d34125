// Server: builds the Context the routes share, binds the route table
// (routes.cc) to cpp-httplib, and starts and stops everything.
#include "faceatt/server.h"

#include <httplib.h>
#include <malloc.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "faceatt/evidence.h"
#include "http/auth.h"
#include "http/context.h"
#include "http/routes.h"

namespace faceatt {

struct Server::Impl {
  http::Context ctx;
  httplib::Server svr;
  std::thread listen_thread;
  std::string host;
  int port = 0;
  bool started = false;
  bool shut_down = false;
  // Evidence photos past attendance.photo_retention_days go at start and daily.
  std::thread photo_sweeper;
  std::mutex sweeper_mu;
  std::condition_variable sweeper_cv;
  bool sweeper_stop = false;  // under sweeper_mu
};

namespace {

// A server runs for months on uploads that each decode into tens of MB. glibc
// would raise its mmap threshold after the first large free and then keep such
// buffers in one arena per request thread (26 of them), so resident memory grew
// with every burst of large or hostile uploads (issue 12: 200 -> 826 MB over
// three rounds). Large buffers always mmapped, and few arenas, return it.
constexpr int kMmapThresholdBytes = 1 << 20;
constexpr int kMaxArenas = 4;
void KeepMemoryFlat() {
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  mallopt(M_ARENA_MAX, kMaxArenas);
}

// Without keys the server listens on loopback only (server.h).
std::string HostToBind(const http::Context& ctx) {
  const std::string& host = ctx.config.server.host;
  if (!ctx.config.server.trusted_networks.empty()) {
    std::string nets;
    for (const auto& n : ctx.config.server.trusted_networks) nets += (nets.empty() ? "" : ", ") + n;
    spdlog::warn(
        "server.trusted_networks: requests without a key from {} get the device role "
        "(identify, recognize, capture, stream); admin and reader endpoints still need a key",
        nets);
  }
  if (!ctx.no_keys()) return host;
  if (host != "127.0.0.1" && host != "localhost" && host != "::1") {
    spdlog::warn(
        "no API keys configured (server.admin_keys, device_keys, reader_keys): "
        "listening on 127.0.0.1 only instead of {}",
        host);
    return "127.0.0.1";
  }
  spdlog::warn("no API keys configured: every request is allowed; listening on {} only", host);
  return host;
}

void ConfigureHttp(http::Context& ctx, httplib::Server& svr) {
  const Config& config = ctx.config;
  const int threads = config.server.workers + config.server.queue_length + http::kStreamThreads;
  ctx.connections = std::make_unique<http::Connections>(
      std::chrono::seconds(config.server.request_timeout_seconds),
      config.server.max_connections_per_address);
  svr.new_task_queue = [&ctx, threads] { return ctx.connections->NewTaskQueue(threads); };
  svr.set_payload_max_length(static_cast<size_t>(config.server.max_upload_bytes));
  svr.set_read_timeout(config.server.read_timeout_seconds, 0);
  svr.set_write_timeout(config.server.write_timeout_seconds, 0);
  svr.set_keep_alive_timeout(2);
  svr.set_keep_alive_max_count(100);  // a kiosk polling over one connection keeps it
  // Headers and body go out in separate writes: without this, Nagle's algorithm
  // and the client's delayed ACK add 40 ms to every answer.
  svr.set_tcp_nodelay(true);
  // httplib's default sets SO_REUSEPORT, which lets a second `faceatt serve`
  // bind the same port and the kernel split requests between the two. Only
  // SO_REUSEADDR (a restart may bind while old connections sit in TIME_WAIT):
  // a taken port fails to bind, and serve exits 5.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<void*>(&yes), sizeof(yes));
  });
  svr.set_logger([&ctx](const httplib::Request& req, const httplib::Response& res) {
    ctx.connections->Answered(req);
    spdlog::debug("{} {} -> {}", req.method, req.path, res.status);
  });
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Create(const Config& config,
                                               std::shared_ptr<const Models> models, Store* store,
                                               ServerOptions options) {
  if (!models) return Status::Unavailable("no models loaded");
  if (config.server.workers < 1)
    return Status::InvalidArgument("server.workers must be at least 1");
  if (config.server.queue_length < 0)
    return Status::InvalidArgument("server.queue_length must be >= 0");
  auto impl = std::make_unique<Impl>();
  http::Context& ctx = impl->ctx;
  ctx.config = config;
  ctx.models = models;
  ctx.store = store;
  ctx.options = options;
  ctx.clock = options.clock ? options.clock : &ctx.system_clock;
  FACEATT_RETURN_IF_ERROR(http::CheckWebDir(config.server.web_dir));
  for (const auto& cidr : config.server.trusted_networks) {
    FACEATT_ASSIGN_OR_RETURN(http::Network net, http::ParseNetwork(cidr));
    ctx.trusted_networks.push_back(net);
  }
  FACEATT_ASSIGN_OR_RETURN(
      ctx.service, FaceService::Open(config, models, store, DataDir(config.paths.data_dir)));
  ctx.sessions = std::make_unique<http::SessionStore>(
      ctx.clock, int64_t{config.server.session_ttl_minutes} * 60'000, http::kMaxSessions);
  ctx.enroll_sessions = std::make_unique<http::EnrollSessions>(ctx.clock);
  ctx.recorder = std::make_unique<AttendanceRecorder>(store, config.attendance, ctx.clock);
  ctx.gallery_sync = std::make_unique<GallerySync>(ctx.service.get(), store, ctx.clock);
  ctx.pool =
      std::make_unique<http::PipelinePool>(*models, PipelineOptions::FromConfig(config),
                                           config.server.workers, config.server.queue_length);
  ctx.webhooks =
      std::make_unique<WebhookDispatcher>(config.webhook, store, ctx.clock, options.webhook);
  if (!config.camera.source.empty())
    ctx.camera = std::make_unique<Camera>(config.camera, options.camera);
  impl->host = HostToBind(ctx);
  ConfigureHttp(ctx, impl->svr);
  http::InstallRoutes(ctx, impl->svr);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Shutdown(); }

Status Server::Start() {
  Impl& s = *impl_;
  http::Context& ctx = s.ctx;
  if (s.started) return Status::Ok();
  KeepMemoryFlat();
  http::LogInto(ctx.recent_errors);
  const int port = ctx.config.server.port;
  if (port == 0) {
    s.port = s.svr.bind_to_any_port(s.host);
    if (s.port <= 0) return Status::Unavailable("cannot bind " + s.host + " to any port");
  } else {
    if (!s.svr.bind_to_port(s.host, port))
      return Status::Unavailable("cannot listen on " + s.host + ":" + std::to_string(port) +
                                 " (in use, or not allowed)");
    s.port = port;
  }
  if (ctx.camera) {
    ctx.camera->Start();
    auto pipeline = ctx.models->NewPipeline();
    pipeline->set_options(PipelineOptions::FromConfig(ctx.config));
    ctx.streamer = std::make_unique<http::Streamer>(ctx.camera.get(), std::move(pipeline),
                                                    ctx.config.camera, &ctx.metrics);
  }
  // Other processes on the database (serve nodes, CLI jobs) change the gallery too.
  FACEATT_RETURN_IF_ERROR(ctx.gallery_sync->Start());
  ctx.webhooks->Start();
  if (ctx.config.attendance.photo_retention_days > 0) {
    // Once a day is plenty for a retention counted in days.
    constexpr auto kPhotoSweepInterval = std::chrono::hours(24);
    s.photo_sweeper = std::thread([&s, kPhotoSweepInterval] {
      const DataDir data(s.ctx.config.paths.data_dir);
      const int days = s.ctx.config.attendance.photo_retention_days;
      std::unique_lock lock(s.sweeper_mu);
      do {
        auto removed = SweepAttemptPhotos(data, days);
        if (!removed.ok())
          spdlog::warn("evidence photos: {}", removed.status().ToString());
        else if (*removed > 0)
          spdlog::info("evidence photos: deleted {} older than {} days", *removed, days);
      } while (!s.sweeper_cv.wait_for(lock, kPhotoSweepInterval, [&s] { return s.sweeper_stop; }));
    });
  }
  s.started = true;
  ctx.started_at = std::chrono::steady_clock::now();
  s.listen_thread = std::thread([&s] { s.svr.listen_after_bind(); });
  // httplib drops a stop() that comes before listening begins: be listening
  // before anyone can call Shutdown().
  for (int i = 0; i < 5000 && !s.svr.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  spdlog::info("faceatt serve: listening on http://{}:{} ({} workers, {} people, models {})",
               s.host, s.port, ctx.config.server.workers, ctx.service->people(),
               ctx.models->description());
  return Status::Ok();
}

int Server::port() const { return impl_->port; }
const std::string& Server::host() const { return impl_->host; }

void Server::Shutdown() {
  Impl& s = *impl_;
  http::Context& ctx = s.ctx;
  if (s.shut_down) return;
  s.shut_down = true;
  ctx.stopping = true;
  ctx.events.Stop();                       // SSE streams end
  if (ctx.streamer) ctx.streamer->Stop();  // MJPEG streams end
  if (s.started) {
    s.svr.stop();  // stops accepting; the pool finishes the requests in flight
    if (s.listen_thread.joinable()) s.listen_thread.join();
  }
  {
    std::lock_guard lock(s.sweeper_mu);
    s.sweeper_stop = true;
  }
  s.sweeper_cv.notify_all();
  if (s.photo_sweeper.joinable()) s.photo_sweeper.join();
  ctx.webhooks->Stop();  // one last delivery pass over the outbox
  ctx.gallery_sync->Stop();
  if (ctx.camera) ctx.camera->Stop();
  http::StopLogging(ctx.recent_errors.get());
  spdlog::info("faceatt serve: stopped");
}

}  // namespace faceatt
