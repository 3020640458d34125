#include "http/errors.h"

#include <spdlog/spdlog.h>

#include <string_view>

#include "faceatt/json.h"

namespace faceatt::http {
namespace {

using json = nlohmann::json;

// Endpoints whose error bodies keep the old clients' top-level fields.
bool KeepsLegacyFields(const std::string& path) {
  for (std::string_view p : {"/identify", "/enroll", "/enroll/json", "/attendance"})
    if (path == p) return true;
  return false;
}

}  // namespace

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kAlreadyExists:
    case Code::kConflict:
      return 409;
    case Code::kResourceExhausted:
      return 413;
    case Code::kBadInput:
      return 422;
    case Code::kIoError:
    case Code::kCorruption:
    case Code::kInternal:
      return 500;
    case Code::kUnavailable:
      return 503;
  }
  return 500;
}

Status StoreFailure(const Status& st) {
  if (st.code() == Code::kUnavailable) return st;
  return Status::Internal(st.message());
}

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(DumpJson(body), "application/json");
}

json ErrorBody(const httplib::Request& req, const Status& st) {
  json error = {{"code", CodeName(st.code())}, {"message", st.message()}};
  if (!st.reason().empty()) error["reason"] = st.reason();
  json body = {{"error", error}};
  if (KeepsLegacyFields(req.path)) {
    body["success"] = false;
    body["reason"] = st.reason().empty() ? CodeName(st.code()) : st.reason();
    body["message"] = st.message();
  }
  return body;
}

void SendError(const httplib::Request& req, httplib::Response& res, const Status& st,
               const json& extra) {
  json body = ErrorBody(req, st);
  for (const auto& [k, v] : extra.items()) body[k] = v;
  SendJson(res, HttpStatusFor(st.code()), body);
}

void InstallErrorHandlers(httplib::Server& svr) {
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    Status st =
        res.status == 404 ? Status::NotFound("no such endpoint")
        : res.status == 413
            ? Status::ResourceExhausted("the request body is larger than server.max_upload_bytes")
        : res.status < 500 ? Status::InvalidArgument("malformed request")
                           : Status::Internal("internal error");
    SendError(req, res, st);
  });
  svr.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unexpected error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("{} {}: {}", req.method, req.path, what);
        SendError(req, res, Status::Internal(what));
      });
}

}  // namespace faceatt::http
