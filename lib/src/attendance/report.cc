#include "faceatt/report.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <unordered_map>

#include "faceatt/clock.h"

namespace faceatt {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;

// Local `date` at `minutes` after midnight. mktime resolves the wall time in
// the zone, so a day with a DST change still starts at its stated hour.
Result<int64_t> LocalTimeOn(const std::string& date, int minutes) {
  FACEATT_ASSIGN_OR_RETURN(int64_t midnight, LocalDayStart(date));
  const time_t secs = static_cast<time_t>(midnight / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  tm.tm_hour = minutes / 60;
  tm.tm_min = minutes % 60;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(mktime(&tm)) * 1000;
}

// The next calendar date (noon of the next day is a day and a half after
// midnight whatever the DST change).
Result<std::string> NextDate(const std::string& date) {
  FACEATT_ASSIGN_OR_RETURN(int64_t midnight, LocalDayStart(date));
  return LocalDate(midnight + 36 * kHourMs);
}

// One person's day being summed up in time order.
struct Tally {
  PersonDay day;
  std::optional<int64_t> open_in;  // an IN not yet closed by an OUT
};

void Apply(Tally& t, const AttendanceRecord& row) {
  PersonDay& d = t.day;
  ++d.events;
  d.since = row.ts_server_ms;
  if (row.type == "IN") {
    d.state = kPresenceIn;
    if (!d.first_in) d.first_in = row.ts_server_ms;
    if (!t.open_in) t.open_in = row.ts_server_ms;
  } else if (row.type == "OUT") {
    d.state = kPresenceLeft;
    d.last_out = row.ts_server_ms;
    if (t.open_in) d.worked_ms += row.ts_server_ms - *t.open_in;
    t.open_in.reset();
  }
}

PersonDay Blank(const User& u, const std::string& date) {
  PersonDay d;
  d.employee_id = u.employee_id;
  d.name = u.name;
  d.department = u.department;
  d.date = date;
  d.state = kPresenceNotYet;
  return d;
}

// Every counted row of [from_ms, to_ms) (one person's when given), per
// (working day, employee id), with names from `users`.
Result<std::map<std::pair<std::string, std::string>, Tally>> Tallies(
    AttendanceStore& attendance, const WorkCalendar& calendar,
    const std::unordered_map<std::string, User>& users, int64_t from_ms, int64_t to_ms,
    const std::optional<std::string>& employee_id) {
  AttendanceQuery q;
  q.employee_id = employee_id;
  q.from_ms = from_ms;
  q.to_ms = to_ms;
  q.status = kStatusSuccess;
  q.limit = 0;
  q.newest_first = false;
  FACEATT_ASSIGN_OR_RETURN(auto rows, attendance.QueryAttendance(q));
  std::map<std::pair<std::string, std::string>, Tally> out;
  for (const auto& row : rows) {
    if (!CountsForPresence(row)) continue;
    const std::string date = calendar.DayOf(row.ts_server_ms);
    auto [it, fresh] = out.try_emplace({date, *row.employee_id});
    if (fresh) {
      auto u = users.find(*row.employee_id);
      it->second.day =
          u != users.end() ? Blank(u->second, date) : Blank(User{*row.employee_id}, date);
    }
    Apply(it->second, row);
  }
  for (auto& [key, t] : out) {
    auto late_after = calendar.LateAfter(key.first);
    t.day.late = t.day.first_in && late_after.ok() && *t.day.first_in > *late_after;
    t.day.absent = !t.day.first_in && calendar.IsWorkingDay(key.first);
  }
  return out;
}

// The people a report covers: one (`only`), or everyone, or `group`'s members.
Result<std::unordered_map<std::string, User>> UsersById(PeopleStore& people,
                                                        const std::optional<std::string>& only,
                                                        const std::string& group = "") {
  std::unordered_map<std::string, User> users;
  if (only) {
    FACEATT_ASSIGN_OR_RETURN(User u, people.GetUser(*only));
    users.emplace(u.employee_id, std::move(u));
  } else {
    FACEATT_ASSIGN_OR_RETURN(auto all, people.ListUsers());
    for (auto& u : all) users.emplace(u.employee_id, std::move(u));
  }
  if (group.empty()) return users;
  FACEATT_ASSIGN_OR_RETURN(auto groups, people.ListGroups());
  auto members = groups.find(group);
  if (members == groups.end()) return Status::NotFound("no group '" + group + "'");
  std::unordered_map<std::string, User> in_group;
  for (const auto& id : members->second) {
    auto u = users.find(id);
    if (u != users.end()) in_group.emplace(id, std::move(u->second));
  }
  return in_group;
}

// Nobody is absent on a day that ended before they were enrolled.
bool EnrolledBefore(const User& u, const WorkCalendar& calendar, const std::string& date) {
  auto created = ParseTimestamp(u.created_at);
  auto end = calendar.DayEnd(date);
  return !created.ok() || !end.ok() || *created < *end;
}

int StateOrder(const std::string& state) {
  return state == kPresenceIn ? 0 : state == kPresenceLeft ? 1 : 2;
}

}  // namespace

bool CountsForPresence(const AttendanceRecord& row) {
  // A later correction status (voided, ...) is left out here, and only here.
  return row.status == kStatusSuccess && row.employee_id && (row.type == "IN" || row.type == "OUT");
}

Result<WorkCalendar> WorkCalendar::FromConfig(const AttendanceConfig& config) {
  WorkCalendar c;
  FACEATT_ASSIGN_OR_RETURN(c.day_start_min_, ParseTimeOfDay(config.day_starts_at));
  FACEATT_ASSIGN_OR_RETURN(c.work_start_min_, ParseTimeOfDay(config.work_starts_at));
  for (const auto& name : config.working_days) {
    FACEATT_ASSIGN_OR_RETURN(int weekday, ParseWeekday(name));
    c.working_[weekday] = true;
  }
  return c;
}

std::string WorkCalendar::DayOf(int64_t unix_ms) const {
  const std::string date = LocalDate(unix_ms);
  auto start = DayStart(date);
  if (!start.ok() || unix_ms >= *start) return date;
  // Before the boundary: the working day that began the previous date.
  auto midnight = LocalDayStart(date);
  return midnight.ok() ? LocalDate(*midnight - 12 * kHourMs) : date;
}

Result<int64_t> WorkCalendar::DayStart(const std::string& date) const {
  return LocalTimeOn(date, day_start_min_);
}

Result<int64_t> WorkCalendar::DayEnd(const std::string& date) const {
  FACEATT_ASSIGN_OR_RETURN(std::string next, NextDate(date));
  return DayStart(next);
}

Result<int64_t> WorkCalendar::LateAfter(const std::string& date) const {
  // The start time falls within the working day: with a 04:00 boundary a
  // 22:00 start is that evening, a 02:00 start the next night.
  const int minutes = work_start_min_ >= day_start_min_ ? work_start_min_ : work_start_min_ + 1440;
  if (minutes < 1440) return LocalTimeOn(date, minutes);
  FACEATT_ASSIGN_OR_RETURN(std::string next, NextDate(date));
  return LocalTimeOn(next, minutes - 1440);
}

bool WorkCalendar::IsWorkingDay(const std::string& date) const {
  auto weekday = WeekdayOf(date);
  return weekday.ok() && working_[*weekday];
}

Result<std::vector<std::string>> WorkCalendar::Days(const std::string& from, const std::string& to,
                                                    int max_days) const {
  FACEATT_ASSIGN_OR_RETURN(int64_t first, LocalDayStart(from));
  FACEATT_ASSIGN_OR_RETURN(int64_t last, LocalDayStart(to));
  if (last < first)
    return Status::InvalidArgument("the range ends (" + to + ") before it starts (" + from + ")");
  std::vector<std::string> days{from};
  while (days.back() != to) {
    if (static_cast<int>(days.size()) >= max_days)
      return Status::InvalidArgument("a range of at most " + std::to_string(max_days) +
                                     " days, please");
    FACEATT_ASSIGN_OR_RETURN(std::string next, NextDate(days.back()));
    days.push_back(std::move(next));
  }
  return days;
}

Result<std::vector<PersonDay>> TodayBoard(PeopleStore& people, AttendanceStore& attendance,
                                          const WorkCalendar& calendar, int64_t now_ms,
                                          const std::string& group) {
  const std::string today = calendar.DayOf(now_ms);
  FACEATT_ASSIGN_OR_RETURN(int64_t start, calendar.DayStart(today));
  FACEATT_ASSIGN_OR_RETURN(auto users, UsersById(people, std::nullopt, group));
  FACEATT_ASSIGN_OR_RETURN(auto tallies,
                           Tallies(attendance, calendar, users, start, now_ms + 1, std::nullopt));
  std::vector<PersonDay> board;
  for (const auto& [id, u] : users) {
    if (!u.active) continue;
    auto t = tallies.find({today, id});
    board.push_back(t != tallies.end() ? t->second.day : Blank(u, today));
  }
  std::sort(board.begin(), board.end(), [](const PersonDay& a, const PersonDay& b) {
    const int sa = StateOrder(a.state), sb = StateOrder(b.state);
    return sa != sb ? sa < sb : a.name != b.name ? a.name < b.name : a.employee_id < b.employee_id;
  });
  return board;
}

Result<PersonDay> PersonStatus(PeopleStore& people, AttendanceStore& attendance,
                               const WorkCalendar& calendar, const std::string& employee_id,
                               int64_t now_ms) {
  const std::string today = calendar.DayOf(now_ms);
  FACEATT_ASSIGN_OR_RETURN(int64_t start, calendar.DayStart(today));
  FACEATT_ASSIGN_OR_RETURN(auto users, UsersById(people, employee_id));
  FACEATT_ASSIGN_OR_RETURN(auto tallies,
                           Tallies(attendance, calendar, users, start, now_ms + 1, employee_id));
  auto t = tallies.find({today, employee_id});
  return t != tallies.end() ? t->second.day : Blank(users.begin()->second, today);
}

Result<std::vector<PersonDay>> DailySummary(PeopleStore& people, AttendanceStore& attendance,
                                            const WorkCalendar& calendar, const std::string& from,
                                            const std::string& to,
                                            const std::optional<std::string>& employee_id,
                                            int64_t now_ms, const std::string& group) {
  FACEATT_ASSIGN_OR_RETURN(auto days, calendar.Days(from, to));
  FACEATT_ASSIGN_OR_RETURN(int64_t start, calendar.DayStart(days.front()));
  FACEATT_ASSIGN_OR_RETURN(int64_t end, calendar.DayEnd(days.back()));
  FACEATT_ASSIGN_OR_RETURN(auto users, UsersById(people, employee_id, group));
  FACEATT_ASSIGN_OR_RETURN(auto tallies,
                           Tallies(attendance, calendar, users, start, end, employee_id));
  std::vector<PersonDay> out;
  for (const auto& date : days) {
    FACEATT_ASSIGN_OR_RETURN(int64_t day_start, calendar.DayStart(date));
    const bool absences = calendar.IsWorkingDay(date) && day_start <= now_ms;
    for (const auto& [id, u] : users) {
      auto t = tallies.find({date, id});
      if (t != tallies.end()) {
        out.push_back(t->second.day);
      } else if (absences && u.active && EnrolledBefore(u, calendar, date)) {
        out.push_back(Blank(u, date));
        out.back().absent = true;
      }
    }
    // People no longer in the store keep their days (in a whole-company report).
    for (auto t = tallies.lower_bound({date, ""});
         group.empty() && t != tallies.end() && t->first.first == date; ++t)
      if (!users.count(t->first.second)) out.push_back(t->second.day);
  }
  std::stable_sort(out.begin(), out.end(), [](const PersonDay& a, const PersonDay& b) {
    return a.date != b.date   ? a.date < b.date
           : a.name != b.name ? a.name < b.name
                              : a.employee_id < b.employee_id;
  });
  return out;
}

}  // namespace faceatt
