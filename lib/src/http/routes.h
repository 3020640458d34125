// The HTTP API's handlers, by the file that holds them, and InstallRoutes,
// which binds the one route table (routes.cc) to the server. A new route is a
// handler here and in its resource's file, plus one row in the table.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>

#include "http/context.h"

namespace faceatt::http {

using Handler = void (*)(Context&, const Request&, Response&);

// recognition.cc
void HandleIdentify(Context&, const Request&, Response&);
void HandleRecognize(Context&, const Request&, Response&);
// The image of a request: multipart `image`, or `image` (base64) of `body`
// when given; decoded under image.max_bytes / max_pixels.
Result<cv::Mat> RequestImage(Context& ctx, const Request& req, const nlohmann::json* body);
// Attempt::events for `face`: the webhook rows announcing the row written
// (attendance.recognized or attendance.unknown); sets *queued to their count.
Attempt::EventsFn WebhookEvents(Context& ctx, const FaceIdentity& face, const Attempt& attempt,
                                const nlohmann::json& frame_info, int* queued);
// enrollment.cc
void HandleEnrollForm(Context&, const Request&, Response&);
void HandleEnrollJson(Context&, const Request&, Response&);
// attendance.cc
void HandleAttendanceList(Context&, const Request&, Response&);
void HandleAttendanceCsv(Context&, const Request&, Response&);
void HandleAttendanceAdd(Context&, const Request&, Response&);
void HandleAttendanceToday(Context&, const Request&, Response&);
void HandleAttendanceSummary(Context&, const Request&, Response&);
void HandleUserStatus(Context&, const Request&, Response&);
void HandleGroupList(Context&, const Request&, Response&);
void HandleGroupAdd(Context&, const Request&, Response&);
void HandleGroupRemove(Context&, const Request&, Response&);
void HandleAttendanceGet(Context&, const Request&, Response&);
void HandleAttendancePhoto(Context&, const Request&, Response&);
void HandleAttendanceAmend(Context&, const Request&, Response&);
void HandleAttendanceVoid(Context&, const Request&, Response&);
// users.cc
void HandleUserList(Context&, const Request&, Response&);
void HandleUserGet(Context&, const Request&, Response&);
void HandleUserPatch(Context&, const Request&, Response&);
void HandleUserDelete(Context&, const Request&, Response&);
void HandleThumbnail(Context&, const Request&, Response&);
void HandlePhotoList(Context&, const Request&, Response&);
void HandlePhotoGet(Context&, const Request&, Response&);
void HandlePhotoDelete(Context&, const Request&, Response&);
// streams.cc
void HandleEvents(Context&, const Request&, Response&);
void HandleStream(Context&, const Request&, Response&);
void HandleCapture(Context&, const Request&, Response&);
// ml_compat.cc: the ML microservice's shapes (server.compat = "ml")
void HandleMlHealth(Context&, const Request&, Response&);
void HandleMlConfig(Context&, const Request&, Response&);
void HandleMlEnroll(Context&, const Request&, Response&);
void HandleMlRecognize(Context&, const Request&, Response&);
void HandleMlRealtime(Context&, const Request&, Response&);
// operations.cc
void HandleHealth(Context&, const Request&, Response&);
void HandleConfig(Context&, const Request&, Response&);
void HandleMetrics(Context&, const Request&, Response&);
void HandleDeliveries(Context&, const Request&, Response&);
void HandleOpenApi(Context&, const Request&, Response&);
void HandleDeliveryRetry(Context&, const Request&, Response&);
void HandleRecentErrors(Context&, const Request&, Response&);
// web.cc: the pages and their assets (public: the pages sign in themselves).
void HandleRoot(Context&, const Request&, Response&);
void HandleKioskPage(Context&, const Request&, Response&);
void HandleAdminPage(Context&, const Request&, Response&);
void HandleWebAsset(Context&, const Request&, Response&);
// sessions.cc: browser sign-in (public: the handlers check the key and CSRF).
void HandleSessionCreate(Context&, const Request&, Response&);
void HandleSessionGet(Context&, const Request&, Response&);
void HandleSessionDelete(Context&, const Request&, Response&);
// guide.cc: one frame judged for the camera guide, nothing recorded.
void HandleGuide(Context&, const Request&, Response&);
// enroll_sessions.cc: enrollment from a webcam.
void HandleEnrollSessionStart(Context&, const Request&, Response&);
void HandleEnrollSessionFrame(Context&, const Request&, Response&);
void HandleEnrollSessionComplete(Context&, const Request&, Response&);
void HandleEnrollSessionCancel(Context&, const Request&, Response&);
// The Content-Security-Policy, nosniff and no-referrer headers of every page.
void SetPageHeaders(Response& res);
// server.web_dir is "" or a folder; kInvalidArgument naming it otherwise.
Status CheckWebDir(const std::string& dir);

// openapi.cc: the OpenAPI 3 document of every route.
nlohmann::json OpenApiDocument(const std::string& version);

// Binds every row of the route table to `svr`, each behind its role check,
// an exception guard and the request metrics.
void InstallRoutes(Context& ctx, httplib::Server& svr);

}  // namespace faceatt::http
