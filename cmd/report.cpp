// faceatt report today|person|daily: presence from the attendance log (no models loaded).
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "faceatt/clock.h"
#include "faceatt/json.h"
#include "faceatt/report.h"

namespace faceatt::cli {
namespace {

// "08:50" local, or "-".
std::string Clock(const std::optional<int64_t>& ms) {
  return ms ? FormatLocal(*ms).substr(11, 5) : "-";
}

// "8:05" hours and minutes, or "-" when nothing was closed by an OUT.
std::string Hours(int64_t ms) {
  if (ms <= 0) return "-";
  const int64_t minutes = ms / 60000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(minutes / 60),
                static_cast<long long>(minutes % 60));
  return buf;
}

std::string Notes(const PersonDay& d) {
  std::string notes = d.absent ? "absent" : d.late ? "late" : "";
  if (d.first_in && !d.last_out && d.state == kPresenceIn) notes += notes.empty() ? "in" : ", in";
  return notes;
}

void PrintDays(const std::vector<PersonDay>& days, bool with_state) {
  auto line = [](std::string text) {
    text.erase(text.find_last_not_of(' ') + 1);
    std::cout << text << "\n";
  };
  line(Pad("DATE", 11) + Pad("EMPLOYEE_ID", 12) + Pad("NAME", 20) +
       (with_state ? Pad("STATE", 8) + Pad("SINCE", 7) : "") + Pad("FIRST_IN", 9) +
       Pad("LAST_OUT", 9) + Pad("HOURS", 6) + (with_state ? "" : "NOTE"));
  for (const auto& d : days)
    line(Pad(d.date, 11) + Pad(d.employee_id, 12) + Pad(d.name.empty() ? "-" : d.name, 20) +
         (with_state ? Pad(d.state, 8) + Pad(Clock(d.since), 7) : "") + Pad(Clock(d.first_in), 9) +
         Pad(Clock(d.last_out), 9) + Pad(Hours(d.worked_ms), 6) + (with_state ? "" : Notes(d)));
}

void PrintJson(const std::vector<PersonDay>& days) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& d : days) all.push_back(PersonDayJson(d));
  std::cout << DumpJson(all, 2) << "\n";
}

}  // namespace

Runner SetupReport(CLI::App& app) {
  struct Options {
    std::string mode, id, from, to, at, group;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  app.require_subcommand(1);
  auto common = [o](CLI::App* sub) {
    sub->add_flag("--json", o->json, "As JSON");
    sub->add_option("--at", o->at, "Report as of this time (ISO 8601 with zone; default now)");
  };
  CLI::App* today =
      app.add_subcommand("today", "Who is in (since when), who has left, who has not come");
  common(today);
  today->add_option("--group", o->group, "Only this group's people");
  today->callback([o] { o->mode = "today"; });
  CLI::App* person =
      app.add_subcommand("person", "One person's status now, and their days --from..--to");
  person->add_option("id", o->id, "Employee id")->required();
  person->add_option("--from", o->from, "First working day (YYYY-MM-DD)");
  person->add_option("--to", o->to, "Last working day (YYYY-MM-DD; default today)");
  common(person);
  person->callback([o] { o->mode = "person"; });
  CLI::App* daily =
      app.add_subcommand("daily", "Per day and person: first IN, last OUT, hours, late, absent");
  daily->add_option("--from", o->from, "First working day (YYYY-MM-DD; default today)");
  daily->add_option("--to", o->to, "Last working day (YYYY-MM-DD; default --from)");
  daily->add_option("--id", o->id, "Only this employee id");
  daily->add_option("--group", o->group, "Only this group's people");
  common(daily);
  daily->callback([o] { o->mode = "daily"; });

  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    FACEATT_ASSIGN_OR_RETURN(WorkCalendar calendar, WorkCalendar::FromConfig(config->attendance));
    int64_t now = SystemClock().NowMillis();
    if (!o->at.empty()) {
      FACEATT_ASSIGN_OR_RETURN(now, ParseTimestamp(o->at));
    }
    ctx.WriteNothing();  // a report never creates a database
    FACEATT_ASSIGN_OR_RETURN(Store * store, ctx.store());
    const std::string today_date = calendar.DayOf(now);
    if (o->mode == "today") {
      FACEATT_ASSIGN_OR_RETURN(auto board, TodayBoard(*store, *store, calendar, now, o->group));
      if (o->json) {
        PrintJson(board);
      } else {
        int in = 0, left = 0, absent = 0;
        for (const auto& d : board)
          (d.state == kPresenceIn ? in : d.state == kPresenceLeft ? left : absent)++;
        std::cout << "Working day " << today_date << ": " << in << " in, " << left << " left, "
                  << absent << " not come yet\n";
        PrintDays(board, true);
      }
      return kExitOk;
    }
    if (o->mode == "person") {
      FACEATT_ASSIGN_OR_RETURN(PersonDay now_day,
                               PersonStatus(*store, *store, calendar, o->id, now));
      std::vector<PersonDay> days;
      if (!o->from.empty()) {
        FACEATT_ASSIGN_OR_RETURN(days,
                                 DailySummary(*store, *store, calendar, o->from,
                                              o->to.empty() ? today_date : o->to, o->id, now));
      }
      if (o->json) {
        nlohmann::json days_json = nlohmann::json::array();
        for (const auto& d : days) days_json.push_back(PersonDayJson(d));
        std::cout << DumpJson({{"status", PersonDayJson(now_day)}, {"days", days_json}}, 2) << "\n";
      } else {
        std::cout << now_day.employee_id << "  " << now_day.name << ": " << now_day.state
                  << (now_day.since ? " since " + FormatLocal(*now_day.since) : "") << "\n";
        if (!days.empty()) PrintDays(days, false);
      }
      return kExitOk;
    }
    const std::string from = o->from.empty() ? today_date : o->from;
    FACEATT_ASSIGN_OR_RETURN(
        auto days, DailySummary(*store, *store, calendar, from, o->to.empty() ? from : o->to,
                                o->id.empty() ? std::nullopt : std::optional<std::string>(o->id),
                                now, o->group));
    if (o->json)
      PrintJson(days);
    else
      PrintDays(days, false);
    return kExitOk;
  };
}

}  // namespace faceatt::cli
