// server.compat = "ml": the routes and answer shapes of the ML microservice
// faceatt replaces (issue 15), so its kiosks and scripts work unchanged:
//   POST /enroll              student_id, image -> {ok, saved, msg}
//   POST /recognize           image -> {ok, results: [{box: [t, r, b, l], label, distance}]}
//   POST /recognize/realtime  ?min_conf=&send_unknown= -> the same plus `dispatch`
//   GET  /health              {ok, encodings, labels}
//   GET  /config              {tolerance, webhook_enabled, cooldown_seconds, ...}
// The people and rules are faceatt's: a label is the employee id (that
// service's student_id), "Unknown" for a stranger; /recognize/realtime records
// attendance and queues webhooks as /identify does, one face at a time.
#include "faceatt/json.h"
#include "http/errors.h"
#include "http/json.h"
#include "http/request_body.h"
#include "http/routes.h"

namespace faceatt::http {
namespace {

using json = nlohmann::json;

// The label of a face no one matched, as that service wrote it.
constexpr const char* kMlUnknown = "Unknown";
// device_id of the attendance rows /recognize/realtime writes, unless given.
constexpr const char* kRealtimeDevice = "realtime";

json MlFace(const FaceIdentity& f) {
  return {{"box", {f.box.top, f.box.right, f.box.bottom, f.box.left}},
          {"label", f.matched ? f.employee_id : kMlUnknown},
          {"distance", f.distance >= 0 ? json(Round4(f.distance)) : json()},
          {"name", f.matched ? json(f.name) : json()}};
}

// {ok: false, msg} beside the error object: what that service's clients read.
void SendMlError(const Request& req, Response& res, const Status& st) {
  SendError(req, res, st, {{"ok", false}, {"msg", st.message()}});
}

// Every face of the request's image, identified (not recorded).
Result<std::pair<Identification, cv::Mat>> IdentifyAll(Context& ctx, const Request& req) {
  std::optional<json> body;
  if (!req.is_multipart_form_data()) {
    FACEATT_ASSIGN_OR_RETURN(body, BodyFields(req));
  }
  auto lease = ctx.pool->Acquire();  // decoded inside the lease, as in /identify
  if (!lease.ok()) return lease.status();
  FACEATT_ASSIGN_OR_RETURN(cv::Mat image, RequestImage(ctx, req, body ? &*body : nullptr));
  const auto t0 = std::chrono::steady_clock::now();
  auto id = ctx.service->Identify(**lease, image);
  ctx.Stage("analyze", t0);
  ctx.ObserveStages(**lease);
  if (!id.ok()) return id.status();
  return std::make_pair(std::move(*id), image);
}

// One face of /recognize/realtime through the attendance rules and the webhook
// path of /identify: the row, the webhook rows in its transaction, the event.
json Dispatch(Context& ctx, const FaceIdentity& face, const std::string& device_id,
              const json& frame_info) {
  Attempt attempt;
  attempt.device_id = device_id;
  int queued = 0, stored = 0;
  if (ctx.webhooks && ctx.webhooks->enabled())
    attempt.events = WebhookEvents(ctx, face, attempt, frame_info, &queued);
  attempt.events_stored = &stored;
  auto outcome = ctx.recorder->RecordIdentification(Identification{"", {face}}, attempt);
  if (!outcome.ok()) return {{"ok", false}, {"error", outcome.status().message()}};
  if (ctx.webhooks) ctx.webhooks->Queued(queued, stored);
  json out = AttemptJson(*outcome, FormatUtc(ctx.clock->NowMillis()));
  json event = out;
  event["device_id"] = device_id;
  ctx.events.Publish(outcome->success ? "attendance" : "recognition", event);
  return {{"ok", true},
          {"recorded", outcome->success},
          {"reason", outcome->success ? json() : json(outcome->reason)},
          {"record_id", outcome->record_id},
          {"type", outcome->success ? json(outcome->decision.type) : json()},
          {"webhooks_queued", queued}};
}

}  // namespace

void HandleMlHealth(Context& ctx, const Request&, Response& res) {
  auto embeddings = ctx.store->CountEmbeddings();
  const bool ok = embeddings.ok() && ctx.service != nullptr;
  SendJson(res, ok ? 200 : 503,
           {{"ok", ok},
            {"encodings", embeddings.ok() ? json(*embeddings) : json()},
            {"labels", ctx.service ? ctx.service->people() : 0},
            {"status", ok ? "healthy" : "unavailable"},
            {"version", ctx.options.version}});
}

void HandleMlConfig(Context& ctx, const Request&, Response& res) {
  const Config& c = ctx.config;
  SendJson(res, 200,
           {{"tolerance", Round4(ctx.service->policy().tolerance)},
            {"webhook_enabled", ctx.webhooks && ctx.webhooks->enabled()},
            {"cooldown_seconds", c.webhook.cooldown_seconds},
            {"attendance_local_enabled", true},
            {"attendance_local_dedup_seconds", c.attendance.cooldown_seconds},
            {"model", ctx.models->model_id()}});
}

void HandleMlEnroll(Context& ctx, const Request& req, Response& res) {
  EnrollRequest er;
  auto fields = BodyFields(req);
  if (!fields.ok()) return SendMlError(req, res, fields.status());
  auto id = JsonString(*fields, "student_id");
  if (!id.ok() || id->empty())
    return SendMlError(req, res, Status::InvalidArgument("student_id is required"));
  er.employee_id = *id;
  // A new person is named by the form's name, else by the student id, as that
  // service labelled people; an existing one keeps their name.
  if (!ctx.store->GetUser(er.employee_id).ok()) {
    auto name = JsonString(*fields, "name");
    er.name = name.ok() && !name->empty() ? *name : er.employee_id;
  }
  if (req.is_multipart_form_data()) {
    auto range = req.files.equal_range("image");
    for (auto it = range.first; it != range.second; ++it)
      er.images.push_back(
          {it->second.filename.empty() ? "image" : it->second.filename, it->second.content, true});
  } else if (auto b64 = JsonString(*fields, "image"); b64.ok() && !b64->empty()) {
    auto bytes = DecodeBase64(*b64);
    if (!bytes.ok()) return SendMlError(req, res, bytes.status());
    er.images.push_back({"image", std::move(*bytes), true});
  }
  if (er.images.empty() || er.images.front().bytes.empty())
    return SendMlError(req, res, Status::InvalidArgument("image is required"));
  auto lease = ctx.pool->Acquire();
  if (!lease.ok()) return SendMlError(req, res, lease.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto result = ctx.service->Enroll(**lease, er);
  ctx.Stage("enroll", t0);
  if (!result.ok()) {
    const Status& st = result.status();
    // That service answered a photo without a usable face with 200 and ok
    // false; an undecodable image with 400.
    const bool face_refusal =
        (st.code() == Code::kBadInput && st.reason() != kBadInput) || st.code() == Code::kConflict;
    if (st.code() == Code::kBadInput && st.reason() == kBadInput)
      return SendMlError(req, res, Status::InvalidArgument(st.message()));
    if (!face_refusal) return SendMlError(req, res, st);
    return SendJson(res, 200,
                    {{"ok", false},
                     {"saved", 0},
                     {"msg", st.message()},
                     {"reason", st.reason().empty() ? CodeName(st.code()) : st.reason()}});
  }
  ctx.events.Publish("enrolled",
                     {{"employee_id", result->user.employee_id}, {"name", result->user.name}});
  SendJson(res, 200,
           {{"ok", result->accepted > 0},
            {"saved", result->accepted},
            {"msg", "saved " + std::to_string(result->accepted) + " face(s) for " +
                        result->user.employee_id},
            {"student_id", result->user.employee_id}});
}

void HandleMlRecognize(Context& ctx, const Request& req, Response& res) {
  auto found = IdentifyAll(ctx, req);
  if (!found.ok()) return SendMlError(req, res, found.status());
  json results = json::array();
  for (const auto& f : found->first.faces) results.push_back(MlFace(f));
  SendJson(res, 200, {{"ok", true}, {"results", results}});
}

void HandleMlRealtime(Context& ctx, const Request& req, Response& res) {
  // Query parameters as that service took them: min_conf (the largest distance
  // that counts as recognised; 0 = the tolerance) and send_unknown.
  json q = json::object();
  for (const char* key : {"min_conf", "send_unknown", "device_id"})
    if (req.has_param(key)) q[key] = req.get_param_value(key);
  auto min_conf = JsonNumber(q, "min_conf");
  if (!min_conf.ok()) return SendMlError(req, res, min_conf.status());
  auto send_unknown = JsonBool(q, "send_unknown", false);
  if (!send_unknown.ok()) return SendMlError(req, res, send_unknown.status());
  auto found = IdentifyAll(ctx, req);
  if (!found.ok()) return SendMlError(req, res, found.status());
  const auto& [id, image] = *found;
  const double limit = min_conf->value_or(0) > 0 ? **min_conf : 1e9;
  const std::string device_id =
      req.has_param("device_id") ? req.get_param_value("device_id") : kRealtimeDevice;
  const json frame_info = {{"source", "upload"}, {"width", image.cols}, {"height", image.rows}};
  json results = json::array(), dispatch = json::array();
  for (const auto& f : id.faces) {
    results.push_back(MlFace(f));
    const bool known = f.matched && f.distance <= limit;
    const bool stranger = !f.matched && f.reason == kUnknown;
    if (!known && !(stranger && *send_unknown)) continue;
    dispatch.push_back({{"label", f.matched ? f.employee_id : kMlUnknown},
                        {"report", Dispatch(ctx, f, device_id, frame_info)}});
  }
  SendJson(res, 200,
           {{"ok", true},
            {"results", results},
            {"dispatch", dispatch},
            {"webhook_enabled", ctx.webhooks && ctx.webhooks->enabled()}});
}

}  // namespace faceatt::http
