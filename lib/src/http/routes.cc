#include "http/routes.h"

#include <spdlog/spdlog.h>

#include "http/auth.h"
#include "http/errors.h"

namespace faceatt::http {
namespace {

struct Route {
  const char* method;
  const char* pattern;  // httplib regex; ([^/]+) is req.matches[1]
  const char* name;     // the path as documented, the metrics' route label
  Role role;
  Handler handler;
};

// The API, one row per route (roles: server.h and docs/serve.md).
constexpr Route kRoutes[] = {
    {"GET", "/health", "/health", Role::kPublic, HandleHealth},
    {"GET", "/config", "/config", Role::kReader, HandleConfig},
    {"GET", "/openapi.json", "/openapi.json", Role::kPublic, HandleOpenApi},
    {"POST", "/enroll", "/enroll", Role::kAdmin, HandleEnrollForm},
    {"POST", "/enroll/json", "/enroll/json", Role::kAdmin, HandleEnrollJson},
    {"POST", "/identify", "/identify", Role::kDevice, HandleIdentify},
    {"POST", "/recognize", "/recognize", Role::kDevice, HandleRecognize},
    {"GET", "/attendance", "/attendance", Role::kReader, HandleAttendanceList},
    {"POST", "/attendance", "/attendance", Role::kAdmin, HandleAttendanceAdd},
    {"GET", "/users", "/users", Role::kReader, HandleUserList},
    {"GET", R"(/users/([^/]+))", "/users/{id}", Role::kReader, HandleUserGet},
    {"PATCH", R"(/users/([^/]+))", "/users/{id}", Role::kAdmin, HandleUserPatch},
    {"DELETE", R"(/users/([^/]+))", "/users/{id}", Role::kAdmin, HandleUserDelete},
    {"GET", R"(/users/([^/]+)/thumbnail)", "/users/{id}/thumbnail", Role::kReader, HandleThumbnail},
    {"GET", "/events", "/events", Role::kReader, HandleEvents},
    {"GET", "/metrics", "/metrics", Role::kReader, HandleMetrics},
    {"GET", "/webhooks/deliveries", "/webhooks/deliveries", Role::kAdmin, HandleDeliveries},
    {"GET", "/stream.mjpeg", "/stream.mjpeg", Role::kDevice, HandleStream},
    {"GET", "/capture", "/capture", Role::kDevice, HandleCapture},
};

// Role check, exception guard and request metrics around one route's handler.
void Serve(Context& ctx, const Route& route, const Request& req, Response& res) {
  const auto t0 = std::chrono::steady_clock::now();
  if (Status st = Authorize(ctx, req, res, route.role); !st.ok()) {
    SendError(req, res, st);
  } else {
    try {
      route.handler(ctx, req, res);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", route.method, route.name, e.what());
      SendError(req, res, Status::Internal(e.what()));
    }
  }
  const std::string labels =
      "route=\"" + Metrics::Escape(route.name) + "\",method=\"" + route.method + "\"";
  // httplib fills in 200 after the handler when it set content but no status.
  const int code = res.status == -1 ? 200 : res.status;
  ctx.metrics.Count("faceatt_http_requests_total",
                    labels + ",code=\"" + std::to_string(code) + "\"");
  ctx.metrics.Observe("faceatt_http_request_duration_seconds", labels, Seconds(t0));
}

}  // namespace

void InstallRoutes(Context& ctx, httplib::Server& svr) {
  for (const Route& route : kRoutes) {
    auto serve = [&ctx, &route](const Request& req, Response& res) { Serve(ctx, route, req, res); };
    const std::string m = route.method;
    if (m == "GET")
      svr.Get(route.pattern, serve);
    else if (m == "POST")
      svr.Post(route.pattern, serve);
    else if (m == "PATCH")
      svr.Patch(route.pattern, serve);
    else if (m == "DELETE")
      svr.Delete(route.pattern, serve);
  }
  InstallErrorHandlers(svr);
  svr.set_pre_routing_handler(
      [&ctx](const Request& req, Response& res) { return PreRoute(ctx, req, res); });
}

}  // namespace faceatt::http
