#include "http/routes.h"

#include <spdlog/spdlog.h>

#include <map>
#include <regex>
#include <vector>

#include "http/auth.h"
#include "http/errors.h"
#include "http/request_body.h"

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
    {"GET", R"(/attendance\.csv)", "/attendance.csv", Role::kReader, HandleAttendanceCsv},
    {"POST", "/attendance", "/attendance", Role::kAdmin, HandleAttendanceAdd},
    {"GET", R"(/attendance/(\d+))", "/attendance/{id}", Role::kReader, HandleAttendanceGet},
    {"GET", R"(/attendance/(\d+)/photo)", "/attendance/{id}/photo", Role::kAdmin,
     HandleAttendancePhoto},
    {"PATCH", R"(/attendance/(\d+))", "/attendance/{id}", Role::kAdmin, HandleAttendanceAmend},
    {"POST", R"(/attendance/(\d+)/void)", "/attendance/{id}/void", Role::kAdmin,
     HandleAttendanceVoid},
    {"GET", "/users", "/users", Role::kReader, HandleUserList},
    {"GET", R"(/users/([^/]+))", "/users/{id}", Role::kReader, HandleUserGet},
    {"PATCH", R"(/users/([^/]+))", "/users/{id}", Role::kAdmin, HandleUserPatch},
    {"DELETE", R"(/users/([^/]+))", "/users/{id}", Role::kAdmin, HandleUserDelete},
    {"GET", R"(/users/([^/]+)/thumbnail)", "/users/{id}/thumbnail", Role::kReader, HandleThumbnail},
    {"GET", R"(/users/([^/]+)/photos)", "/users/{id}/photos", Role::kReader, HandlePhotoList},
    {"GET", R"(/users/([^/]+)/photos/(\d+))", "/users/{id}/photos/{eid}", Role::kReader,
     HandlePhotoGet},
    {"DELETE", R"(/users/([^/]+)/photos/(\d+))", "/users/{id}/photos/{eid}", Role::kAdmin,
     HandlePhotoDelete},
    {"GET", "/attendance/today", "/attendance/today", Role::kReader, HandleAttendanceToday},
    {"GET", "/attendance/summary", "/attendance/summary", Role::kReader, HandleAttendanceSummary},
    {"GET", R"(/users/([^/]+)/status)", "/users/{id}/status", Role::kReader, HandleUserStatus},
    {"GET", "/groups", "/groups", Role::kReader, HandleGroupList},
    {"PUT", R"(/groups/([^/]+)/members/([^/]+))", "/groups/{name}/members/{id}", Role::kAdmin,
     HandleGroupAdd},
    {"DELETE", R"(/groups/([^/]+)/members/([^/]+))", "/groups/{name}/members/{id}", Role::kAdmin,
     HandleGroupRemove},
    {"GET", "/events", "/events", Role::kReader, HandleEvents},
    {"GET", "/metrics", "/metrics", Role::kReader, HandleMetrics},
    {"GET", "/webhooks/deliveries", "/webhooks/deliveries", Role::kAdmin, HandleDeliveries},
    {"GET", "/stream.mjpeg", "/stream.mjpeg", Role::kDevice, HandleStream},
    {"GET", "/capture", "/capture", Role::kDevice, HandleCapture},
    {"GET", "/", "/", Role::kPublic, HandleRoot},
    {"GET", "/kiosk", "/kiosk", Role::kPublic, HandleKioskPage},
    {"GET", "/admin", "/admin", Role::kPublic, HandleAdminPage},
    {"GET", "/web/(.+)", "/web/{file}", Role::kPublic, HandleWebAsset},
    {"POST", "/session", "/session", Role::kPublic, HandleSessionCreate},
    {"GET", "/session", "/session", Role::kPublic, HandleSessionGet},
    {"DELETE", "/session", "/session", Role::kPublic, HandleSessionDelete},
    {"POST", "/guide", "/guide", Role::kDevice, HandleGuide},
    {"POST", "/enroll/sessions", "/enroll/sessions", Role::kAdmin, HandleEnrollSessionStart},
    {"POST", R"(/enroll/sessions/([0-9a-f]+)/frames)", "/enroll/sessions/{id}/frames", Role::kAdmin,
     HandleEnrollSessionFrame},
    {"POST", R"(/enroll/sessions/([0-9a-f]+)/complete)", "/enroll/sessions/{id}/complete",
     Role::kAdmin, HandleEnrollSessionComplete},
    {"DELETE", R"(/enroll/sessions/([0-9a-f]+))", "/enroll/sessions/{id}", Role::kAdmin,
     HandleEnrollSessionCancel},
    {"POST", R"(/webhooks/deliveries/(\d+)/retry)", "/webhooks/deliveries/{id}/retry", Role::kAdmin,
     HandleDeliveryRetry},
    {"GET", "/errors/recent", "/errors/recent", Role::kAdmin, HandleRecentErrors},
};

// server.compat = "ml": the ML microservice's routes and answer shapes
// (ml_compat.cc), bound before kRoutes so they win on the paths both have.
// A setting rather than a path prefix: that service's kiosks and scripts call
// these paths on the root, and a prefix would mean changing every client.
constexpr Route kMlRoutes[] = {
    {"GET", "/health", "/health", Role::kPublic, HandleMlHealth},
    {"GET", "/config", "/config", Role::kReader, HandleMlConfig},
    {"POST", "/enroll", "/enroll", Role::kAdmin, HandleMlEnroll},
    {"POST", "/recognize", "/recognize", Role::kDevice, HandleMlRecognize},
    {"POST", "/recognize/realtime", "/recognize/realtime", Role::kDevice, HandleMlRealtime},
};

// The route tables in force: the ML profile's first when it is on.
std::vector<const Route*> ActiveRoutes(const Context& ctx) {
  std::vector<const Route*> routes;
  if (ctx.config.server.compat == kCompatMl)
    for (const Route& r : kMlRoutes) routes.push_back(&r);
  for (const Route& r : kRoutes) routes.push_back(&r);
  return routes;
}

// The routes a group key (server.group_keys) may use: each scopes what it
// reads or records to the key's group (ScopedGroup in auth.h).
constexpr const char* kGroupScopedRoutes[] = {"/identify", "/recognize", "/attendance/today",
                                              "/attendance/summary", "/users/{id}/status"};

// The role check, and a group key kept to the routes that scope to its group.
Status Allow(const Context& ctx, const Request& req, Response& res, const Route& route) {
  FACEATT_RETURN_IF_ERROR(Authorize(ctx, req, res, route.role));
  if (route.role == Role::kPublic || ctx.no_keys() || RoleOf(ctx, req) != Role::kPublic ||
      KeyGroup(ctx, req).empty())
    return Status::Ok();
  for (const char* name : kGroupScopedRoutes)
    if (route.name == std::string(name)) return Status::Ok();
  return Status::PermissionDenied("this API key is limited to a group and may not use " +
                                  std::string(route.name));
}

// A multipart upload holds an image and a few fields; more parts than this is
// not a client of ours (httplib's own cap is 1024).
constexpr size_t kMaxFormParts = 32;

// The route `req` will reach (the same regex match httplib makes), or null.
const Route* FindRoute(const Context& ctx, const Request& req) {
  static const std::map<const Route*, std::regex> patterns = [] {
    std::map<const Route*, std::regex> m;
    for (const Route& r : kRoutes) m.emplace(&r, r.pattern);
    for (const Route& r : kMlRoutes) m.emplace(&r, r.pattern);
    return m;
  }();
  const std::string method = req.method == "HEAD" ? "GET" : req.method;  // httplib does the same
  for (const Route* r : ActiveRoutes(ctx))
    if (method == r->method && std::regex_match(req.path, patterns.at(r))) return r;
  return nullptr;
}

bool HasBody(const Request& req) {
  return req.has_header("Transfer-Encoding") ||
         (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
}

// Reads the body into `full` (body, or files for multipart), counting the bytes
// after httplib has undone any Content-Encoding: neither a chunked body (no
// Content-Length to refuse early) nor a small compressed one inflating to
// gigabytes gets past server.max_upload_bytes.
Status ReadBody(const Context& ctx, const httplib::ContentReader& reader, Request& full) {
  const uint64_t limit = static_cast<uint64_t>(ctx.config.server.max_upload_bytes);
  uint64_t total = 0;
  bool too_many_parts = false;
  auto fits = [&](size_t n) { return (total += n) <= limit; };
  bool ok;
  if (full.is_multipart_form_data()) {
    std::vector<httplib::MultipartFormData> parts;
    ok = reader(
        [&](const httplib::MultipartFormData& part) {
          too_many_parts = parts.size() >= kMaxFormParts;
          if (!too_many_parts) parts.push_back(part);
          return !too_many_parts;
        },
        [&](const char* data, size_t n) {
          if (!fits(n) || parts.empty()) return false;
          parts.back().content.append(data, n);
          return true;
        });
    for (auto& part : parts) full.files.emplace(part.name, std::move(part));
  } else {
    ok = reader([&](const char* data, size_t n) {
      if (!fits(n)) return false;
      full.body.append(data, n);
      return true;
    });
  }
  if (total > limit)
    return Status::ResourceExhausted("the request body is more than server.max_upload_bytes (" +
                                     std::to_string(limit) + " bytes, after decompression)");
  if (too_many_parts)
    return Status::InvalidArgument("more than " + std::to_string(kMaxFormParts) +
                                   " multipart form parts");
  if (!ok) return Status::InvalidArgument("the request body is malformed or incomplete");
  return Status::Ok();
}

// Before any body is read: a request with no route, or without the role its
// route needs, is answered and its connection closed, so an anonymous client
// cannot make the server read (or inflate) a body at all.
httplib::Server::HandlerResponse PreRouteWithTable(Context& ctx, const Request& req,
                                                   Response& res) {
  using httplib::Server;
  if (PreRoute(ctx, req, res) == Server::HandlerResponse::Handled)
    return Server::HandlerResponse::Handled;
  const Route* route = FindRoute(ctx, req);
  Status st;
  if (!route && HasBody(req))
    st = Status::NotFound("no route " + req.method + " " + req.path);
  else if (route && route->method == std::string("GET") && HasBody(req))
    st = Status::InvalidArgument("a GET request carries no body");
  else if (route)
    st = Allow(ctx, req, res, *route);
  if (st.ok()) return Server::HandlerResponse::Unhandled;
  res.set_header("Connection", "close");
  SendError(req, res, st);
  return Server::HandlerResponse::Handled;
}

// Body limit, exception guard and request metrics around one route's handler
// (the role was checked before the body was read, PreRouteWithTable).
void Serve(Context& ctx, const Route& route, const Request& req, Response& res,
           const httplib::ContentReader* reader) {
  const auto t0 = std::chrono::steady_clock::now();
  Request full = req;
  Status read;
  if (reader) read = ReadBody(ctx, *reader, full);
  // An empty query parameter means no filter, as the old clients send them
  // (GET /attendance?employee_id=&limit=3).
  for (auto it = full.params.begin(); it != full.params.end();)
    it = it->second.empty() ? full.params.erase(it) : std::next(it);
  if (read.ok()) read = CheckUtf8(full);
  ctx.connections->Handling(req);  // received: no request deadline while answered
  if (!read.ok()) {
    res.set_header("Connection", "close");  // the rest of the body is never read
    SendError(req, res, read);
  } else if (Status st = Allow(ctx, req, res, route); !st.ok()) {
    SendError(req, res, st);  // checked before the body too; this is the guard of record
  } else {
    try {
      route.handler(ctx, full, res);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", route.method, route.name, e.what());
      SendError(req, res, Status::Internal(e.what()));
    }
  }
  const std::string labels =
      "route=\"" + Metrics::Escape(route.name) + "\",method=\"" + route.method + "\"";
  // httplib fills in 200 after the handler when it set content but no status.
  const int code = res.status == -1 ? 200 : res.status;
  if (code >= 500) {
    const auto body = nlohmann::json::parse(res.body, nullptr, false);
    ctx.recent_errors->Add(
        {ctx.clock->NowMillis(), std::string(route.method) + " " + route.name, code, "error",
         body.is_object() && body.contains("error") ? body["error"].value("message", "")
                                                    : res.body.substr(0, 200)});
  }
  ctx.metrics.Count("faceatt_http_requests_total",
                    labels + ",code=\"" + std::to_string(code) + "\"");
  ctx.metrics.Observe("faceatt_http_request_duration_seconds", labels, Seconds(t0));
}

}  // namespace

void InstallRoutes(Context& ctx, httplib::Server& svr) {
  for (const Route* r : ActiveRoutes(ctx)) {
    const Route& route = *r;
    auto serve = [&ctx, &route](const Request& req, Response& res) {
      Serve(ctx, route, req, res, nullptr);
    };
    // Routes that take a body read it themselves, under the limit (ReadBody).
    auto read_and_serve = [&ctx, &route](const Request& req, Response& res,
                                         const httplib::ContentReader& reader) {
      Serve(ctx, route, req, res, &reader);
    };
    const std::string m = route.method;
    if (m == "GET")
      svr.Get(route.pattern, serve);
    else if (m == "POST")
      svr.Post(route.pattern, read_and_serve);
    else if (m == "PATCH")
      svr.Patch(route.pattern, read_and_serve);
    else if (m == "PUT")
      svr.Put(route.pattern, read_and_serve);
    else if (m == "DELETE")
      svr.Delete(route.pattern, read_and_serve);
  }
  InstallErrorHandlers(svr);
  svr.set_pre_routing_handler(
      [&ctx](const Request& req, Response& res) { return PreRouteWithTable(ctx, req, res); });
}

}  // namespace faceatt::http
