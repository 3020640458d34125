// What every route shares: the configuration, the store, the face service and
// attendance recorder, webhooks, camera and MJPEG streamer, the pipeline pool,
// the event hub and the metrics. Server::Create builds one; handlers take it
// by reference. A handler is `void(Context&, const Request&, Response&)`; the
// route table is in routes.cc.
//
// Thread safety: handlers run on many threads at once. Everything here is
// either set before Start() and only read afterwards, or thread-safe itself
// (service, recorder, webhooks, camera, streamer, pool, events, metrics).
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "faceatt/attendance.h"
#include "faceatt/camera.h"
#include "faceatt/clock.h"
#include "faceatt/config.h"
#include "faceatt/face_service.h"
#include "faceatt/gallery_sync.h"
#include "faceatt/server.h"
#include "faceatt/store.h"
#include "faceatt/webhook.h"
#include "http/connections.h"
#include "http/enroll_sessions.h"
#include "http/metrics.h"
#include "http/pipeline_pool.h"
#include "http/recent_errors.h"
#include "http/sessions.h"
#include "http/streams.h"

namespace faceatt::http {

using httplib::Request;
using httplib::Response;

// Reason of every answer that needed a camera frame and had none.
inline constexpr const char* kCameraUnavailable = "camera_unavailable";

// server.compat value of the ML microservice's profile (ml_compat.cc).
inline constexpr const char* kCompatMl = "ml";

// A client network of server.trusted_networks: an IPv4 or IPv6 prefix.
struct Network {
  bool v6 = false;
  unsigned char addr[16] = {};
  int prefix_bits = 0;
};

// Threads for long-lived streams (SSE, MJPEG) beyond the pipeline queue.
inline constexpr int kStreamThreads = 8;

struct Context {
  Config config;
  std::shared_ptr<const Models> models;
  Store* store = nullptr;
  ServerOptions options;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  std::unique_ptr<FaceService> service;
  std::unique_ptr<AttendanceRecorder> recorder;
  std::unique_ptr<GallerySync> gallery_sync;  // follows other processes' changes
  std::unique_ptr<WebhookDispatcher> webhooks;
  std::unique_ptr<Camera> camera;
  std::unique_ptr<Streamer> streamer;
  std::unique_ptr<PipelinePool> pool;
  std::unique_ptr<Connections> connections;  // outlives the httplib server using it
  EventHub events;
  Metrics metrics;
  std::vector<Network> trusted_networks;  // parsed server.trusted_networks

  // The web app's state: browser sign-ins (POST /session), webcam
  // enrollments (POST /enroll/sessions), the errors of GET /errors/recent.
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<EnrollSessions> enroll_sessions;
  std::shared_ptr<RecentErrors> recent_errors = std::make_shared<RecentErrors>();
  std::atomic<bool> stopping{false};
  // Streams open now (at most kStreamThreads).
  std::atomic<int> open_streams{0};
  std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();

  // No API key of any role is configured: every request is allowed.
  bool no_keys() const;
  // Records the time since `t0` as the stage `stage`.
  void Stage(const char* stage, std::chrono::steady_clock::time_point t0);
  // The pipeline's own stages of its last image: detect, landmarks, embed.
  void ObserveStages(const FacePipeline& pipeline);
  // Why there is no camera frame: kUnavailable, reason kCameraUnavailable.
  Status NoFrame() const;
};

// Seconds since `since`.
double Seconds(std::chrono::steady_clock::time_point since);

}  // namespace faceatt::http
