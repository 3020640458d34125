// POST /identify (recognise one person and record attendance) and
// POST /recognize (every face, nothing recorded).
#include <spdlog/spdlog.h>

#include <opencv2/core.hpp>
#include <optional>

#include "faceatt/evidence.h"
#include "faceatt/image.h"
#include "faceatt/json.h"
#include "http/auth.h"
#include "http/errors.h"
#include "http/json.h"
#include "http/request_body.h"
#include "http/routes.h"

namespace faceatt::http {

using json = nlohmann::json;

Result<cv::Mat> RequestImage(Context& ctx, const Request& req, const json* body) {
  std::string bytes;
  if (body) {
    FACEATT_ASSIGN_OR_RETURN(std::string b64, JsonString(*body, "image"));
    if (b64.empty()) return Status::InvalidArgument("image is required");
    FACEATT_ASSIGN_OR_RETURN(bytes, DecodeBase64(b64));
  } else {
    if (!req.has_file("image"))
      return Status::InvalidArgument("a multipart field 'image' is required");
    bytes = req.get_file_value("image").content;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto& limits = ctx.config.image;
  auto image = DecodeImage(bytes, {limits.max_bytes, limits.max_pixels}, "image");
  ctx.Stage("decode", t0);
  return image;
}

Attempt::EventsFn WebhookEvents(Context& ctx, const FaceIdentity& face, const Attempt& attempt,
                                const json& frame_info, int* queued) {
  return [&ctx, face, type = attempt.type, device_id = attempt.device_id, frame_info,
          queued](const AttendanceRecord& row) {
    const bool known = row.status == kStatusSuccess;
    const char* event = known ? kEventRecognized : kEventUnknown;
    json payload = {{"event", event},
                    {"employee_id", known ? json(*row.employee_id) : json()},
                    {"name", known ? json(face.name) : json()},
                    {"distance", row.distance ? json(Round4(*row.distance)) : json()},
                    {"type", known ? row.type : type},
                    {"device_id", device_id},
                    {"ts", FormatUtc(row.ts_server_ms)},
                    {"box", BoxJson(face.box)},
                    {"frame_info", frame_info}};
    auto rows = ctx.webhooks->Prepare(event, payload.dump(),
                                      known ? *row.employee_id : "unknown:" + device_id);
    *queued = static_cast<int>(rows.size());
    return rows;
  };
}

namespace {

// One POST /identify on its way through the steps below.
struct IdentifyCall {
  Context& ctx;
  const Request& req;
  Response& res;
  Attempt attempt;
  std::string group;         // only this group's people are candidates ("" = everyone)
  std::optional<json> body;  // a JSON request's body
  bool camera_mode = false;  // no image given: the camera's latest frame
  cv::Mat image;
  json frame_info;  // for webhooks: where the image came from and its size
  int queued = 0;   // webhook deliveries prepared for the row
  int stored = 0;   // of those, stored with it (the shared cooldown may drop them)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// Step 1: type, device_id and ts_client from a form, a JSON body, or nothing
// (camera mode).
Status ParseAttempt(IdentifyCall& c) {
  Attempt& a = c.attempt;
  std::string group = c.req.get_param_value("group");
  if (c.req.is_multipart_form_data()) {
    a.type = FormValue(c.req, "type");
    a.device_id = FormValue(c.req, "device_id");
    a.ts_client = FormValue(c.req, "ts_client");
    if (group.empty()) group = FormValue(c.req, "group");
  } else if (IsJson(c.req) || !c.req.body.empty()) {  // JSON, or an urlencoded form
    FACEATT_ASSIGN_OR_RETURN(c.body, BodyFields(c.req));
    if (group.empty()) {
      FACEATT_ASSIGN_OR_RETURN(group, JsonString(*c.body, "group"));
    }
    for (auto [key, out] : {std::pair{"type", &a.type}, std::pair{"device_id", &a.device_id},
                            std::pair{"ts_client", &a.ts_client}}) {
      FACEATT_ASSIGN_OR_RETURN(*out, JsonString(*c.body, key));
    }
    c.camera_mode = !c.body->contains("image");
  } else {
    c.camera_mode = true;
  }
  FACEATT_ASSIGN_OR_RETURN(a.type, ParseAttendanceType(a.type.empty() ? "auto" : a.type));
  if (c.camera_mode && a.device_id.empty()) a.device_id = c.ctx.config.camera.device_id;
  // A device bound to a group (attendance.device_groups) names only its people.
  if (group.empty()) group = DeviceGroup(c.ctx.config, a.device_id);
  FACEATT_ASSIGN_OR_RETURN(c.group, ScopedGroup(c.ctx, c.req, group));
  if (!c.group.empty() && !c.ctx.service->HasGroup(c.group))
    return Status::NotFound("no group '" + c.group + "'");
  return Status::Ok();
}

// Step 2: the image, the camera's latest frame or the upload.
Status TakeImage(IdentifyCall& c) {
  if (c.camera_mode) {
    auto frame = c.ctx.camera ? c.ctx.camera->Latest() : std::nullopt;
    if (!frame) return c.ctx.NoFrame();
    c.image = frame->image;
    c.frame_info = {{"source", "camera"},
                    {"seq", frame->seq},
                    {"width", c.image.cols},
                    {"height", c.image.rows}};
    return Status::Ok();
  }
  FACEATT_ASSIGN_OR_RETURN(c.image, RequestImage(c.ctx, c.req, c.body ? &*c.body : nullptr));
  c.frame_info = {{"source", "upload"}, {"width", c.image.cols}, {"height", c.image.rows}};
  return Status::Ok();
}

// An attempt that recorded nothing: counted, published to /events, answered.
void Refuse(IdentifyCall& c, const json& out) {
  c.ctx.metrics.Count("faceatt_recognitions_total",
                      "outcome=\"" + out["reason"].get<std::string>() + "\"");
  json event = out;
  event["device_id"] = c.attempt.device_id;
  c.ctx.events.Publish("recognition", event);
}

// An attempt that never reached the attendance rules (no frame, a failure of
// ours): an audit row when the database takes one, then Refuse and the error.
void Fail(IdentifyCall& c, const Status& st) {
  const std::string reason = st.reason().empty() ? CodeName(st.code()) : st.reason();
  auto rec = c.ctx.recorder->RecordFailure(reason, std::nullopt, c.attempt);
  if (!rec.ok()) spdlog::warn("attendance audit row not written: {}", rec.status().message());
  Refuse(c, {{"success", false},
             {"reason", reason},
             {"message", st.message()},
             {"min_distance", nullptr}});
  SendError(c.req, c.res, st, {{"min_distance", nullptr}});
}

// Step 3 (webhooks on): the events announcing the attendance row, stored in
// its transaction, so a crash never keeps one without the other.
void PrepareWebhooks(IdentifyCall& c, const FaceIdentity& only) {
  c.attempt.events = WebhookEvents(c.ctx, only, c.attempt, c.frame_info, &c.queued);
  c.attempt.events_stored = &c.stored;
}

// Step 4: identify, apply the attendance rules, write the row; answer.
void IdentifyAndRecord(IdentifyCall& c, FacePipeline& pipeline) {
  Context& ctx = c.ctx;
  const auto t0 = std::chrono::steady_clock::now();
  IdentifyOptions scope;
  scope.group = c.group;
  auto id = ctx.service->Identify(pipeline, c.image, scope);
  ctx.Stage("analyze", t0);
  ctx.ObserveStages(pipeline);
  if (!id.ok()) return Fail(c, Status::Internal(id.status().message()));
  std::function<bool(const Box&)> in_area;
  if (c.camera_mode && ctx.config.camera.gate_identify)
    in_area = [size = c.image.size()](const Box& box) { return InsideGuide(size, box); };
  if (ctx.webhooks && ctx.webhooks->enabled() && id->faces.size() == 1)
    PrepareWebhooks(c, id->faces.front());
  if (ctx.config.attendance.keep_photos)
    c.attempt.keep_photo =
        AttemptPhotoKeeper(DataDir(ctx.config.paths.data_dir), c.image, *ctx.clock);
  const auto t1 = std::chrono::steady_clock::now();
  auto outcome = ctx.recorder->RecordIdentification(*id, c.attempt, in_area);
  ctx.Stage("record", t1);
  if (!outcome.ok()) return Fail(c, StoreFailure(outcome.status()));
  if (ctx.webhooks) ctx.webhooks->Queued(c.queued, c.stored);
  json out = AttemptJson(*outcome, FormatUtc(ctx.clock->NowMillis()));
  if (!outcome->success) {  // the audit row is written; say why
    Refuse(c, out);
    return SendJson(c.res, 200, out);
  }
  ctx.metrics.Count("faceatt_recognitions_total", "outcome=\"recognized\"");
  json event = out;
  event["device_id"] = c.attempt.device_id;
  ctx.events.Publish("attendance", event);
  ctx.Stage("identify_total", c.started);
  SendJson(c.res, 200, out);
}

}  // namespace

void HandleIdentify(Context& ctx, const Request& req, Response& res) {
  IdentifyCall c{ctx, req, res};
  if (Status st = ParseAttempt(c); !st.ok()) return SendError(req, res, st);
  // The upload is decoded inside the lease: server.workers bounds how many
  // images are decoded (and held decoded) at once, not only how many analysed.
  auto lease = ctx.pool->Acquire();
  if (!lease.ok()) {
    ctx.metrics.Count("faceatt_queue_rejections_total", "");
    return SendError(req, res, lease.status());
  }
  if (Status st = TakeImage(c); !st.ok()) {
    if (c.camera_mode) return Fail(c, st);
    if (st.code() != Code::kInvalidArgument) {  // not an image: audited, not published
      ctx.metrics.Count("faceatt_recognitions_total", "outcome=\"bad_input\"");
      auto rec = ctx.recorder->RecordFailure(kBadInput, std::nullopt, c.attempt);
      if (!rec.ok()) spdlog::warn("attendance audit row not written: {}", rec.status().message());
    }
    return SendError(req, res, st);
  }
  IdentifyAndRecord(c, **lease);
}

void HandleRecognize(Context& ctx, const Request& req, Response& res) {
  std::optional<json> body;
  if (!req.is_multipart_form_data()) {
    auto parsed = BodyFields(req);
    if (!parsed.ok()) return SendError(req, res, parsed.status());
    body = std::move(*parsed);
  }
  IdentifyOptions scope;
  std::string group = req.get_param_value("group");
  if (group.empty() && body && body->contains("group")) {
    auto g = JsonString(*body, "group");
    if (!g.ok()) return SendError(req, res, g.status());
    group = *g;
  }
  if (group.empty()) group = FormValue(req, "group");
  auto scoped = ScopedGroup(ctx, req, group);
  if (!scoped.ok()) return SendError(req, res, scoped.status());
  scope.group = *scoped;
  auto lease = ctx.pool->Acquire();  // decoded inside the lease, as in /identify
  if (!lease.ok()) return SendError(req, res, lease.status());
  auto image = RequestImage(ctx, req, body ? &*body : nullptr);
  if (!image.ok()) return SendError(req, res, image.status());
  const auto t0 = std::chrono::steady_clock::now();
  auto id = ctx.service->Identify(**lease, *image, scope);
  ctx.Stage("analyze", t0);
  ctx.ObserveStages(**lease);
  if (!id.ok()) return SendError(req, res, id.status());
  json faces = json::array();
  for (const auto& f : id->faces) faces.push_back(RecognizedFaceJson(f));
  SendJson(
      res, 200,
      {{"faces", faces}, {"count", faces.size()}, {"width", image->cols}, {"height", image->rows}});
}

}  // namespace faceatt::http
