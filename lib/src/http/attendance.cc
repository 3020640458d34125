// GET /attendance (rows with filters and paging) and POST /attendance (a row
// recorded by hand).
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

// The query's filters: employee_id, status, type, from, to, limit, offset.
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

// The row of POST /attendance: {employee_id, type, device_id, ts_client,
// distance}, as JSON or a form (BodyFields). The old API's image_ref named a
// file on that server: it is accepted and not stored.
Result<AttendanceRecord> ParseManualRecord(const Context& ctx, const Request& req) {
  FACEATT_ASSIGN_OR_RETURN(json body, BodyFields(req));
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
  r.ts_server_ms = ctx.clock->NowMillis();
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
    if (r.employee_id) j["name"] = ctx.service->NameOf(*r.employee_id);
    records.push_back(std::move(j));
  }
  SendJson(res, 200,
           {{"records", records}, {"count", *count}, {"limit", q->limit}, {"offset", q->offset}});
}

void HandleAttendanceAdd(Context& ctx, const Request& req, Response& res) {
  auto r = ParseManualRecord(ctx, req);
  if (!r.ok()) return SendError(req, res, r.status());
  auto user = ctx.store->GetUser(*r->employee_id);
  if (!user.ok()) return SendError(req, res, user.status());
  auto row = ctx.store->AddAttendance(*r);
  if (!row.ok()) return SendError(req, res, row.status());
  r->id = *row;
  json out = RecordJson(*r);
  out["name"] = user->name;
  ctx.events.Publish("attendance", out);
  // success and message, with 200, are what the old attendance API answered.
  out["success"] = true;
  out["message"] = "recorded " + r->type + " for " + *r->employee_id;
  SendJson(res, 200, out);
}

}  // namespace faceatt::http
