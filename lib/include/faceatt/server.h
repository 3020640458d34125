// Server: the HTTP API behind `faceatt serve` (cpp-httplib). Routes, JSON error
// bodies {"error": {"code", "message"}}, API-key roles, the pipeline pool, the
// camera worker with the MJPEG stream, Server-Sent Events, Prometheus metrics
// and webhooks (see docs/serve.md for every endpoint).
//
// Lifecycle: Create() checks the configuration and builds everything; Start()
// binds and serves on background threads (port() then tells the bound port:
// server.port = 0 picks a free one); Shutdown() stops accepting, waits for the
// requests in flight (streams end), flushes the webhook outbox once and stops
// the camera. The store stays open (the caller owns it) and may be closed after.
//
// Roles: admin (everything), device (identify, recognize, capture, stream),
// reader (attendance and users reads, events, metrics, config). With no key
// configured every request is allowed and the server binds 127.0.0.1 only.
// A keyless request from server.trusted_networks has the device role (a
// malformed network: Create() returns kInvalidArgument naming it).
// server.compat = "ml" answers /enroll, /recognize, /health and /config in the
// ML microservice's shapes and adds /recognize/realtime (docs/serve.md).
//
// Thread safety: Start/Shutdown from one thread; requests run on the pool.
// Start() also sets process-wide malloc options (mmap threshold 1 MB, at most
// 4 arenas) so memory stays flat under large uploads (server.cc).
#pragma once

#include <memory>
#include <string>

#include "faceatt/camera.h"
#include "faceatt/clock.h"
#include "faceatt/config.h"
#include "faceatt/pipeline.h"
#include "faceatt/status.h"
#include "faceatt/store.h"
#include "faceatt/webhook.h"

namespace faceatt {

struct ServerOptions {
  const Clock* clock = nullptr;  // nullptr = system clock
  WebhookOptions webhook;
  CameraOptions camera;
  std::string version = "dev";
};

class Server {
 public:
  // models and store must outlive the server. kInvalidArgument for a bad
  // configuration (e.g. a public host without keys is only downgraded, not refused).
  static Result<std::unique_ptr<Server>> Create(const Config& config,
                                                std::shared_ptr<const Models> models,
                                                Store* store, ServerOptions options = {});
  ~Server();  // Shutdown()

  // Binds host:port and starts serving; kUnavailable when the port cannot be bound.
  Status Start();
  // The bound port (after Start()).
  int port() const;
  // The host actually bound (127.0.0.1 when no keys are configured).
  const std::string& host() const;
  // Graceful stop; idempotent.
  void Shutdown();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceatt
