#include "http/routes.h"

#include <spdlog/spdlog.h>

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
    {"POST", "/attendance", "/attendance", Role::kAdmin, HandleAttendanceAdd},
    {"GET", R"(/attendance/(\d+))", "/attendance/{id}", Role::kReader, HandleAttendanceGet},
    {"PATCH", R"(/attendance/(\d+))", "/attendance/{id}", Role::kAdmin, HandleAttendanceAmend},
    {"POST", R"(/attendance/(\d+)/void)", "/attendance/{id}/void", Role::kAdmin,
     HandleAttendanceVoid},
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

// A multipart upload holds an image and a few fields; more parts than this is
// not a client of ours (httplib's own cap is 1024).
constexpr size_t kMaxFormParts = 32;

// The route `req` will reach (the same regex match httplib makes), or null.
const Route* FindRoute(const Request& req) {
  static const std::vector<std::regex> patterns = [] {
    std::vector<std::regex> v;
    for (const Route& r : kRoutes) v.emplace_back(r.pattern);
    return v;
  }();
  const std::string method = req.method == "HEAD" ? "GET" : req.method;  // httplib does the same
  for (size_t i = 0; i < std::size(kRoutes); ++i)
    if (method == kRoutes[i].method && std::regex_match(req.path, patterns[i])) return &kRoutes[i];
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
  const Route* route = FindRoute(req);
  Status st;
  if (!route && HasBody(req))
    st = Status::NotFound("no route " + req.method + " " + req.path);
  else if (route && route->method == std::string("GET") && HasBody(req))
    st = Status::InvalidArgument("a GET request carries no body");
  else if (route)
    st = Authorize(ctx, req, res, route->role);
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
  Request full;
  Status read;
  if (reader) {
    full = req;
    read = ReadBody(ctx, *reader, full);
  }
  if (read.ok()) read = CheckUtf8(reader ? full : req);
  ctx.connections->Handling(req);  // received: no request deadline while answered
  if (!read.ok()) {
    res.set_header("Connection", "close");  // the rest of the body is never read
    SendError(req, res, read);
  } else if (Status st = Authorize(ctx, req, res, route.role); !st.ok()) {
    SendError(req, res, st);  // checked before the body too; this is the guard of record
  } else {
    try {
      route.handler(ctx, reader ? full : req, res);
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
    else if (m == "DELETE")
      svr.Delete(route.pattern, read_and_serve);
  }
  InstallErrorHandlers(svr);
  svr.set_pre_routing_handler(
      [&ctx](const Request& req, Response& res) { return PreRouteWithTable(ctx, req, res); });
}

}  // namespace faceatt::http
