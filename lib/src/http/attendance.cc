// GET /attendance (rows with filters and paging), POST /attendance (a row
// recorded by hand, at its real time), and the corrections: GET
// /attendance/{id} (a row and its audit trail), PATCH /attendance/{id} (amend
// type or time), POST /attendance/{id}/void. Each correction is audited with
// the key that made it (ActorOf) and the body's reason.
#include "faceatt/evidence.h"
#include "faceatt/export.h"
#include "faceatt/image.h"
#include "faceatt/json.h"
#include "http/auth.h"
#include "http/errors.h"
#include "http/json.h"
#include "http/request_body.h"
#include "http/routes.h"

namespace faceatt::http {
namespace {

using json = nlohmann::json;

// "2026-11-21" (local day start; with `end`, the next day's) or an ISO 8601 timestamp.
Result<int64_t> ParseWhen(const std::string& s, bool end) {
  if (s.size() == 10) {
    FACEATT_ASSIGN_OR_RETURN(int64_t start, LocalDayStart(s));
    return end ? start + 24 * 3600 * 1000 : start;
  }
  return ParseTimestamp(s);
}

// The query's filters: employee_id, status, type, group, from, to, limit, offset.
Result<AttendanceQuery> ParseQuery(const Request& req) {
  AttendanceQuery q;
  if (req.has_param("employee_id")) q.employee_id = req.get_param_value("employee_id");
  if (req.has_param("status")) {
    q.status = req.get_param_value("status");
    if (*q.status != kStatusSuccess && *q.status != kStatusUnknown && *q.status != kStatusFailed)
      return Status::InvalidArgument("status must be success, unknown or failed");
  }
  if (req.has_param("type")) {
    FACEATT_ASSIGN_OR_RETURN(q.type, ParseAttendanceType(req.get_param_value("type"), false));
  }
  if (req.has_param("group")) {
    q.group = req.get_param_value("group");
    if (q.group->empty()) return Status::InvalidArgument("group must not be empty");
  }
  for (auto [key, out, end] :
       {std::tuple{"from", &q.from_ms, false}, std::tuple{"to", &q.to_ms, true}}) {
    if (!req.has_param(key)) continue;
    auto when = ParseWhen(req.get_param_value(key), end);
    if (!when.ok())
      return Status::InvalidArgument(std::string(key) +
                                     ": expected YYYY-MM-DD or an ISO 8601 timestamp");
    *out = *when;
  }
  FACEATT_ASSIGN_OR_RETURN(q.limit, IntParam(req, "limit", 100, 1, 1000));
  FACEATT_ASSIGN_OR_RETURN(q.offset, IntParam(req, "offset", 0, 0, 1 << 30));
  return q;
}

// The person's name now, or the one the row was recorded with when the person
// is gone or the id names someone new (never the new person's).
std::string DisplayName(const AttendanceRecord& r) {
  return r.current_name ? *r.current_name : r.name_at_event;
}

// Who and why of a correction: the key, "by" (a person's name, optional) and
// "reason" (`fallback` when absent; required when there is none).
Result<Correction> ParseCorrection(const Context& ctx, const Request& req, const json& body,
                                   const std::string& fallback) {
  Correction c;
  FACEATT_ASSIGN_OR_RETURN(std::string by, JsonString(body, "by"));
  FACEATT_ASSIGN_OR_RETURN(c.reason, JsonString(body, "reason"));
  if (c.reason.empty()) c.reason = fallback;
  if (c.reason.empty()) return Status::InvalidArgument("reason is required");
  c.actor = ActorOf(ctx, req) + (by.empty() ? "" : " (" + by + ")");
  return c;
}

// A correction's time: "ts" as ISO 8601 with an offset (the time zone), or a
// local wall time in attendance.timezone; nullopt when absent.
Result<std::optional<int64_t>> ParseCorrectionTime(const json& body) {
  FACEATT_ASSIGN_OR_RETURN(std::string ts, JsonString(body, "ts"));
  if (ts.empty()) return std::optional<int64_t>();
  auto t = ParseWallTime(ts);
  if (!t.ok()) return t.status().WithPrefix("ts");
  return std::optional<int64_t>(*t);
}

Result<int64_t> PathRowId(const Request& req) {
  const std::string text = req.matches[1];
  if (text.size() > 18) return Status::NotFound("no attendance record " + text);
  return static_cast<int64_t>(std::stoll(text));
}

// A row with its corrections (GET /attendance/{id} and the corrections' answers).
Result<json> RowWithTrail(Context& ctx, int64_t id) {
  FACEATT_ASSIGN_OR_RETURN(AttendanceRecord r, ctx.store->GetAttendance(id));
  FACEATT_ASSIGN_OR_RETURN(auto audit, ctx.store->AttendanceAudit(id));
  json j = RecordJson(r), trail = json::array();
  if (r.employee_id) j["name"] = DisplayName(r);
  for (const auto& e : audit) trail.push_back(AuditJson(e));
  j["corrections"] = trail;
  return j;
}

void SendRow(Context& ctx, const Request& req, Response& res, int64_t id, int status) {
  auto j = RowWithTrail(ctx, id);
  if (!j.ok()) return SendError(req, res, j.status());
  SendJson(res, status, *j);
}

// The row of POST /attendance: {employee_id, type, device_id, ts_client,
// distance, ts, reason, by}, as JSON or a form (BodyFields); ts is the event's
// real time (now when absent). The old API's image_ref named a file on that
// server: it is accepted and not stored.
Result<AttendanceRecord> ParseManualRecord(const Context& ctx, const Request& req,
                                           const json& body) {
  AttendanceRecord r;
  FACEATT_ASSIGN_OR_RETURN(r.distance, JsonNumber(body, "distance"));
  FACEATT_ASSIGN_OR_RETURN(std::string id, JsonString(body, "employee_id"));
  FACEATT_ASSIGN_OR_RETURN(std::string type, JsonString(body, "type"));
  FACEATT_ASSIGN_OR_RETURN(r.device_id, JsonString(body, "device_id"));
  FACEATT_ASSIGN_OR_RETURN(r.ts_client, JsonString(body, "ts_client"));
  if (id.empty()) return Status::InvalidArgument("employee_id is required");
  FACEATT_ASSIGN_OR_RETURN(r.type, ParseAttendanceType(type, false));
  r.employee_id = id;
  r.status = kStatusSuccess;
  r.reason = "manual";
  if (r.device_id.empty()) r.device_id = "manual";
  FACEATT_ASSIGN_OR_RETURN(auto ts, ParseCorrectionTime(body));
  r.ts_server_ms = ts ? *ts : ctx.clock->NowMillis();
  return r;
}

}  // namespace

void HandleAttendanceList(Context& ctx, const Request& req, Response& res) {
  auto q = ParseQuery(req);
  if (!q.ok()) return SendError(req, res, q.status());
  auto rows = ctx.store->QueryAttendance(*q);
  if (!rows.ok()) return SendError(req, res, rows.status());
  auto count = ctx.store->CountAttendance(*q);
  if (!count.ok()) return SendError(req, res, count.status());
  json records = json::array();
  for (const auto& r : *rows) {
    json j = RecordJson(r);
    if (r.employee_id) j["name"] = DisplayName(r);
    records.push_back(std::move(j));
  }
  SendJson(res, 200,
           {{"records", records}, {"count", *count}, {"limit", q->limit}, {"offset", q->offset}});
}

// GET /attendance.csv: the rows GET /attendance's filters select, all pages,
// oldest first, as `faceatt export` writes them (BOM, formulas neutralised);
// the admin page's CSV download. from/to are local dates; empty is no filter.
void HandleAttendanceCsv(Context& ctx, const Request& req, Response& res) {
  ExportOptions o;
  auto param = [&](const char* key) {
    const std::string v = req.has_param(key) ? req.get_param_value(key) : "";
    return v.empty() ? std::nullopt : std::optional<std::string>(v);
  };
  o.from_date = param("from");
  o.to_date = param("to");
  o.employee_id = param("employee_id");
  o.type = param("type");
  o.group = param("group");
  o.status = param("status");
  o.include_failed = true;  // every status unless status= picks one, as GET /attendance
  auto csv = ExportAttendance(*ctx.store, o);
  if (!csv.ok()) return SendError(req, res, csv.status());
  res.set_header("Content-Disposition", "attachment; filename=\"attendance.csv\"");
  res.set_content(std::move(*csv), "text/csv; charset=utf-8");
}

void HandleAttendanceAdd(Context& ctx, const Request& req, Response& res) {
  auto body = BodyFields(req);
  if (!body.ok()) return SendError(req, res, body.status());
  auto r = ParseManualRecord(ctx, req, *body);
  if (!r.ok()) return SendError(req, res, r.status());
  auto by = ParseCorrection(ctx, req, *body, "added by hand");
  if (!by.ok()) return SendError(req, res, by.status());
  auto row = ctx.store->AddCorrectedAttendance(*r, *by);
  if (!row.ok()) return SendError(req, res, row.status());
  auto out = RowWithTrail(ctx, *row);
  if (!out.ok()) return SendError(req, res, out.status());
  ctx.events.Publish("attendance", *out);
  // success and message, with 200, are what the old attendance API answered.
  (*out)["success"] = true;
  (*out)["message"] = "recorded " + r->type + " for " + *r->employee_id;
  SendJson(res, 200, *out);
}

void HandleAttendanceGet(Context& ctx, const Request& req, Response& res) {
  auto id = PathRowId(req);
  if (!id.ok()) return SendError(req, res, id.status());
  SendRow(ctx, req, res, *id, 200);
}

// The evidence photo of row {id} (attendance.keep_photos), only from inside
// data/attempts/ (evidence.h): 404 for no photo, a swept one, or a foreign path.
void HandleAttendancePhoto(Context& ctx, const Request& req, Response& res) {
  // A kept crop is about 10 KB; a file far larger is not one faceatt wrote.
  constexpr int64_t kMaxPhotoBytes = 16 << 20;
  auto id = PathRowId(req);
  if (!id.ok()) return SendError(req, res, id.status());
  auto row = ctx.store->GetAttendance(*id);
  if (!row.ok()) return SendError(req, res, row.status());
  auto file = AttemptPhotoFile(DataDir(ctx.config.paths.data_dir), row->image_ref);
  if (!file.ok()) return SendError(req, res, file.status());
  auto bytes = ReadFileBytes(*file, kMaxPhotoBytes);
  if (!bytes.ok()) return SendError(req, res, bytes.status());
  res.set_content(std::move(*bytes), "image/jpeg");
}

namespace {
// A correction of row {id}: reads the body and who/why, runs `apply`, and
// answers the row with its trail (or the refusal, with nothing changed).
template <typename Apply>
void Correct(Context& ctx, const Request& req, Response& res, Apply apply) {
  auto id = PathRowId(req);
  if (!id.ok()) return SendError(req, res, id.status());
  auto body = BodyFields(req);
  if (!body.ok()) return SendError(req, res, body.status());
  auto by = ParseCorrection(ctx, req, *body, "");
  if (!by.ok()) return SendError(req, res, by.status());
  Status st = apply(*id, *body, *by);
  if (!st.ok()) return SendError(req, res, st);
  SendRow(ctx, req, res, *id, 200);
}
}  // namespace

// {type?, ts?, reason, by?}
void HandleAttendanceAmend(Context& ctx, const Request& req, Response& res) {
  Correct(ctx, req, res, [&](int64_t id, const json& body, const Correction& by) -> Status {
    FACEATT_ASSIGN_OR_RETURN(std::string type_text, JsonString(body, "type"));
    std::optional<std::string> type;
    if (!type_text.empty()) {
      FACEATT_ASSIGN_OR_RETURN(type, ParseAttendanceType(type_text, false));
    }
    FACEATT_ASSIGN_OR_RETURN(auto ts, ParseCorrectionTime(body));
    return ctx.store->AmendAttendance(id, type, ts, by);
  });
}

// {reason, by?}
void HandleAttendanceVoid(Context& ctx, const Request& req, Response& res) {
  Correct(ctx, req, res, [&](int64_t id, const json&, const Correction& by) {
    return ctx.store->VoidAttendance(id, by);
  });
}

}  // namespace faceatt::http
