// GET /attendance/today (the board), GET /attendance/summary (per-day rows)
// and GET /users/{id}/status: the presence reports of report.h.
#include "faceatt/json.h"
#include "faceatt/report.h"
#include "http/auth.h"
#include "http/errors.h"
#include "http/json.h"
#include "http/routes.h"

namespace faceatt::http {
namespace {

using json = nlohmann::json;

json DaysJson(const std::vector<PersonDay>& days) {
  json out = json::array();
  for (const auto& d : days) out.push_back(PersonDayJson(d));
  return out;
}

// The optional `at` parameter (ISO 8601): the report as of then; default now.
Result<int64_t> AsOf(const Context& ctx, const Request& req) {
  if (!req.has_param("at")) return ctx.clock->NowMillis();
  auto at = ParseTimestamp(req.get_param_value("at"));
  if (!at.ok()) return at.status().WithPrefix("at");
  return *at;
}

}  // namespace

void HandleAttendanceToday(Context& ctx, const Request& req, Response& res) {
  auto calendar = WorkCalendar::FromConfig(ctx.config.attendance);
  if (!calendar.ok()) return SendError(req, res, calendar.status());
  auto now = AsOf(ctx, req);
  if (!now.ok()) return SendError(req, res, now.status());
  auto group = ScopedGroup(ctx, req, req.get_param_value("group"));
  if (!group.ok()) return SendError(req, res, group.status());
  auto board = TodayBoard(*ctx.store, *ctx.store, *calendar, *now, *group);
  if (!board.ok()) return SendError(req, res, board.status());
  int in = 0, left = 0, absent = 0;
  for (const auto& d : *board)
    (d.state == kPresenceIn ? in : d.state == kPresenceLeft ? left : absent)++;
  SendJson(res, 200,
           {{"date", calendar->DayOf(*now)},
            {"counts", {{"in", in}, {"left", left}, {"absent", absent}}},
            {"people", DaysJson(*board)}});
}

void HandleAttendanceSummary(Context& ctx, const Request& req, Response& res) {
  auto calendar = WorkCalendar::FromConfig(ctx.config.attendance);
  if (!calendar.ok()) return SendError(req, res, calendar.status());
  auto now = AsOf(ctx, req);
  if (!now.ok()) return SendError(req, res, now.status());
  const std::string from =
      req.has_param("from") ? req.get_param_value("from") : calendar->DayOf(*now);
  const std::string to = req.has_param("to") ? req.get_param_value("to") : from;
  std::optional<std::string> id;
  if (req.has_param("employee_id")) id = req.get_param_value("employee_id");
  auto group = ScopedGroup(ctx, req, req.get_param_value("group"));
  if (!group.ok()) return SendError(req, res, group.status());
  auto days = DailySummary(*ctx.store, *ctx.store, *calendar, from, to, id, *now, *group);
  if (!days.ok()) return SendError(req, res, days.status());
  SendJson(res, 200, {{"from", from}, {"to", to}, {"days", DaysJson(*days)}});
}

void HandleUserStatus(Context& ctx, const Request& req, Response& res) {
  auto calendar = WorkCalendar::FromConfig(ctx.config.attendance);
  if (!calendar.ok()) return SendError(req, res, calendar.status());
  auto now = AsOf(ctx, req);
  if (!now.ok()) return SendError(req, res, now.status());
  const std::string id = req.matches[1];
  const std::string own = KeyGroup(ctx, req);
  if (!own.empty() && !ctx.service->InGroup(id, own))
    return SendError(req, res,
                     Status::PermissionDenied("this API key is limited to group '" + own + "'"));
  auto day = PersonStatus(*ctx.store, *ctx.store, *calendar, id, *now);
  if (!day.ok()) return SendError(req, res, day.status());
  SendJson(res, 200, PersonDayJson(*day));
}

}  // namespace faceatt::http
