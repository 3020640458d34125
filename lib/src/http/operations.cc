// What operators and monitoring read: GET /health, /config, /metrics,
// /webhooks/deliveries and /openapi.json.
#include <cstdio>

#include "faceatt/json.h"
#include "http/errors.h"
#include "http/json.h"
#include "http/request_body.h"
#include "http/routes.h"

namespace faceatt::http {

using json = nlohmann::json;

void HandleHealth(Context& ctx, const Request&, Response& res) {
  auto users = ctx.store->CountUsers();
  auto embeddings = ctx.store->CountEmbeddings();
  const bool db_ok = users.ok() && embeddings.ok();
  const bool models_ok = ctx.models != nullptr && ctx.service != nullptr;
  std::string camera_state = "none";
  if (ctx.camera) camera_state = ctx.camera->connected() ? "connected" : "disconnected";
  // "healthy" and "connected" are the old attendance API's words (issue 15).
  json body = {
      {"status", db_ok && models_ok ? "healthy" : "unavailable"},
      {"database", db_ok ? "connected" : (users.ok() ? embeddings : users).status().message()},
      {"models", models_ok ? ctx.models->description() : "not loaded"},
      {"model_id", models_ok ? ctx.models->model_id() : ""},
      {"camera", camera_state},
      {"version", ctx.options.version},
      {"uptime_seconds", Round4(Seconds(ctx.started_at))},
      {"users", users.ok() ? json(*users) : json()},
      {"embeddings", embeddings.ok() ? json(*embeddings) : json()},
      {"gallery_people", ctx.service ? ctx.service->people() : 0}};
  // Several nodes or CLI jobs on one database: the version this node's gallery
  // was loaded at and how long since the store last confirmed it is current.
  if (ctx.gallery_sync) {
    const GallerySyncState g = ctx.gallery_sync->state();
    json gallery = {
        {"version", g.version},
        {"synced_at", g.synced_at_ms ? json(FormatUtc(g.synced_at_ms)) : json()},
        {"lag_ms", g.synced_at_ms ? json(ctx.clock->NowMillis() - g.synced_at_ms) : json()}};
    if (!g.error.empty()) gallery["error"] = g.error;
    body["gallery"] = gallery;
  }
  // People enrolled only with another model are not in the gallery until
  // `faceatt reembed` (docs/admin.md) recomputes their embeddings.
  if (models_ok) {
    auto stale = ctx.store->UsersNeedingReenrollment(ctx.models->model_id());
    if (stale.ok()) {
      body["people_needing_reembed"] = stale->size();
      if (!stale->empty())
        body["hint"] = std::to_string(stale->size()) +
                       " people have embeddings of another model only: run `faceatt reembed`";
    }
  }
  SendJson(res, db_ok && models_ok ? 200 : 503, body);
}

void HandleConfig(Context& ctx, const Request&, Response& res) {
  const auto& p = ctx.service->policy();
  const Config& c = ctx.config;
  SendJson(res, 200,
           {{"tolerance", Round4(p.tolerance)},
            {"margin", Round4(p.margin)},
            {"match", c.recognition.match},
            {"model", ctx.models->model_id()},
            {"models", ctx.models->description()},
            {"detector", c.models.detector},
            {"attendance_cooldown_seconds", c.attendance.cooldown_seconds},
            {"allow_second_in", c.attendance.allow_second_in},
            {"webhook_enabled", !c.webhook.urls.empty()},
            {"webhook_cooldown_seconds", c.webhook.cooldown_seconds},
            {"camera_enabled", ctx.camera != nullptr},
            {"camera_fps", c.camera.fps},
            {"gate_identify", c.camera.gate_identify},
            {"max_upload_bytes", c.server.max_upload_bytes},
            {"auth_required", !ctx.no_keys()}});
}

void HandleMetrics(Context& ctx, const Request&, Response& res) {
  std::string extra;
  auto gauge = [&](const std::string& name, const std::string& type, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    extra += "# TYPE " + name + " " + type + "\n" + name + " " + buf + "\n";
  };
  if (ctx.webhooks) {
    const auto c = ctx.webhooks->counters();
    gauge("faceatt_webhook_deliveries_total", "counter", static_cast<double>(c.delivered));
    gauge("faceatt_webhook_failures_total", "counter", static_cast<double>(c.failed_attempts));
    gauge("faceatt_webhook_gave_up_total", "counter", static_cast<double>(c.gave_up));
    gauge("faceatt_webhook_suppressed_total", "counter", static_cast<double>(c.suppressed));
    auto pending = ctx.store->CountOutbox(kOutboxPending);
    if (pending.ok()) gauge("faceatt_webhook_pending", "gauge", static_cast<double>(*pending));
  }
  if (ctx.camera) {
    const auto c = ctx.camera->counters();
    gauge("faceatt_camera_frames_total", "counter", static_cast<double>(c.frames));
    gauge("faceatt_camera_reconnects_total", "counter", static_cast<double>(c.reconnects));
    gauge("faceatt_camera_connected", "gauge", ctx.camera->connected() ? 1 : 0);
  }
  if (ctx.streamer) gauge("faceatt_mjpeg_viewers", "gauge", ctx.streamer->viewers());
  gauge("faceatt_pipeline_queue_waiting", "gauge", ctx.pool->waiting());
  gauge("faceatt_gallery_people", "gauge", static_cast<double>(ctx.service->people()));
  res.set_content(ctx.metrics.Render(extra), "text/plain; version=0.0.4");
}

void HandleDeliveries(Context& ctx, const Request& req, Response& res) {
  const std::string status = req.get_param_value("status");
  if (!status.empty() && status != kOutboxPending && status != kOutboxDelivered &&
      status != kOutboxFailed)
    return SendError(req, res,
                     Status::InvalidArgument("status must be pending, delivered or failed"));
  auto limit = IntParam(req, "limit", 100, 1, 1000);
  if (!limit.ok()) return SendError(req, res, limit.status());
  auto rows = ctx.store->ListOutbox(status, *limit);
  if (!rows.ok()) return SendError(req, res, rows.status());
  json list = json::array();
  for (const auto& o : *rows) list.push_back(DeliveryJson(o));
  json counts;
  for (const char* s : {kOutboxPending, kOutboxDelivered, kOutboxFailed}) {
    auto n = ctx.store->CountOutbox(s);
    counts[s] = n.ok() ? json(*n) : json();
  }
  SendJson(res, 200,
           {{"deliveries", list},
            {"counts", counts},
            {"enabled", ctx.webhooks && ctx.webhooks->enabled()}});
}

// Outbox rows searched for the one to retry, per status: the newest this many
// (what GET /webhooks/deliveries can show).
constexpr int kRetrySearchRows = 1000;

void HandleDeliveryRetry(Context& ctx, const Request& req, Response& res) {
  const int64_t id = std::stoll(req.matches[1].str().substr(0, 18));
  for (const char* status : {kOutboxFailed, kOutboxPending, kOutboxDelivered}) {
    auto rows = ctx.store->ListOutbox(status, kRetrySearchRows);
    if (!rows.ok()) return SendError(req, res, rows.status());
    for (OutboxItem item : *rows) {
      if (item.id != id) continue;
      if (item.status == kOutboxDelivered)
        return SendError(
            req, res,
            Status::Conflict("webhook delivery " + std::to_string(id) + " was already delivered"));
      // Due now, with max_attempts more tries for one that had given up.
      if (item.status == kOutboxFailed) item.attempts = 0;
      item.status = kOutboxPending;
      item.next_attempt_ms = ctx.clock->NowMillis();
      if (Status st = ctx.store->UpdateOutbox(item); !st.ok()) return SendError(req, res, st);
      return SendJson(res, 200, DeliveryJson(item));
    }
  }
  SendError(req, res,
            Status::NotFound("no webhook delivery " + std::to_string(id) + " (among the newest " +
                             std::to_string(kRetrySearchRows) + " of each status)"));
}

void HandleRecentErrors(Context& ctx, const Request&, Response& res) {
  json list = json::array();
  for (const RecentError& e : ctx.recent_errors->List())
    list.push_back({{"ts", FormatUtc(e.ts_ms)},
                    {"source", e.source},
                    {"code", e.code == 0 ? json() : json(e.code)},
                    {"level", e.level},
                    {"message", e.message}});
  SendJson(res, 200, {{"errors", list}, {"max", kRecentErrors}});
}

void HandleOpenApi(Context& ctx, const Request&, Response& res) {
  SendJson(res, 200, OpenApiDocument(ctx.options.version));
}

}  // namespace faceatt::http
