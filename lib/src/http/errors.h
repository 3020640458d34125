// The one HTTP error mapper: every error answer of the API is made here, from a
// Status, with one table from Code to HTTP status (the `code` name is CodeName):
//
//   invalid_argument 400   unauthorized 401   forbidden 403   not_found 404
//   already_exists, conflict 409   too_large 413   bad_input 422
//   io_error, corruption, internal_error 500   unavailable 503
//
// Body: {"error": {"code", "message"[, "reason"]}} ("reason" when the Status has
// one). On the endpoints the replaced systems' clients call (/identify, /enroll,
// /enroll/json, /attendance) the body also carries "success": false, "reason"
// (the Status reason, else the code name) and "message", on every error.
//
// Thread safety: stateless functions.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "faceatt/status.h"

namespace faceatt::http {

int HttpStatusFor(Code code);

// What a request answers when the store failed under it: an unreachable
// database stays kUnavailable (503, reason database_unavailable: try again),
// anything else is an internal error (500).
Status StoreFailure(const Status& st);

void SendJson(httplib::Response& res, int status, const nlohmann::json& body);

// The error body of `st` for `req`'s endpoint, as described above.
nlohmann::json ErrorBody(const httplib::Request& req, const Status& st);

// Answers `st` (non-OK): status from the table, ErrorBody plus `extra` members.
void SendError(const httplib::Request& req, httplib::Response& res, const Status& st,
               const nlohmann::json& extra = nlohmann::json::object());

// Errors httplib produces itself (no route, body over the limit, malformed
// request, an escaped exception) go through SendError too.
void InstallErrorHandlers(httplib::Server& svr);

}  // namespace faceatt::http
