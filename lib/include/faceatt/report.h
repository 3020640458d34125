// Presence and reports over the attendance log: who is in now, today's board,
// and per-day summaries (first IN, last OUT, hours, late, absent).
//
// Working days: a working day "2026-11-30" runs from its day_starts_at (local
// time, attendance.timezone) to the next day's, so with "04:00" a shift from
// 22:00 to 03:00 is one day, the day it started. Every time is UTC Unix ms in
// and out; dates are the working day's local "YYYY-MM-DD".
//
// Which rows count: successful IN/OUT rows (CountsForPresence); unknown faces,
// failures and refusals never do.
//
// Per day and person:
//   first_in / last_out  the first IN and the last OUT of the working day;
//   worked_ms            the sum of each IN to the next OUT (a lunch break
//                        out and back in is not counted); an IN never closed
//                        counts nothing;
//   late                 the first IN is after work_starts_at on that day;
//   absent               an active person with no IN on a working day
//                        (attendance.working_days) that has begun and
//                        ends after they were enrolled.
//
// Errors: kInvalidArgument for a bad date, range or config time; store errors
// as the store returns them. Reports only read.
//
// Thread safety: functions are independent; they read through the store's own
// locking.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "faceatt/config.h"
#include "faceatt/store.h"

namespace faceatt {

// A person's presence on one working day.
inline constexpr const char* kPresenceIn = "in";          // last event an IN
inline constexpr const char* kPresenceLeft = "left";      // last event an OUT
inline constexpr const char* kPresenceNotYet = "absent";  // no event yet

struct PersonDay {
  std::string employee_id;
  std::string name;
  std::string department;
  std::string date;              // the working day, local YYYY-MM-DD
  std::string state;             // kPresenceIn | kPresenceLeft | kPresenceNotYet
  std::optional<int64_t> since;  // time of the last event (in since / left at)
  std::optional<int64_t> first_in;
  std::optional<int64_t> last_out;
  int64_t worked_ms = 0;
  int events = 0;
  bool late = false;
  bool absent = false;  // a working day with no IN (summaries only count begun days)
};

// The working-day rules from config, checked once.
class WorkCalendar {
 public:
  static Result<WorkCalendar> FromConfig(const AttendanceConfig& config);

  // The working day a moment belongs to.
  std::string DayOf(int64_t unix_ms) const;
  // When a working day starts (its day_starts_at, local) and ends (the next one's).
  Result<int64_t> DayStart(const std::string& date) const;
  Result<int64_t> DayEnd(const std::string& date) const;
  // When a first IN becomes late on that day.
  Result<int64_t> LateAfter(const std::string& date) const;
  bool IsWorkingDay(const std::string& date) const;
  // The dates from..to inclusive; kInvalidArgument when to < from or over max_days.
  Result<std::vector<std::string>> Days(const std::string& from, const std::string& to,
                                        int max_days = 366) const;

 private:
  int day_start_min_ = 0;
  int work_start_min_ = 0;
  bool working_[7] = {};
};

// Whether an attendance row counts for presence (successful IN/OUT). The one
// place a later status (a voided row, say) is left out of every report.
bool CountsForPresence(const AttendanceRecord& row);

// Every active person (of `group` when not "") on the working day of
// `now_ms`: in (since when), left (at), or absent (not come yet); sorted by
// state then name.
Result<std::vector<PersonDay>> TodayBoard(PeopleStore& people, AttendanceStore& attendance,
                                          const WorkCalendar& calendar, int64_t now_ms,
                                          const std::string& group = "");

// One person's state on the working day of `now_ms`; kNotFound for an unknown id.
Result<PersonDay> PersonStatus(PeopleStore& people, AttendanceStore& attendance,
                               const WorkCalendar& calendar, const std::string& employee_id,
                               int64_t now_ms);

// Per-day rows for the dates from..to (inclusive): every person with an event
// that day, plus every active person absent on a working day that has begun by
// `now_ms`. `employee_id` set: that person only (kNotFound when unknown);
// `group` not "": that group's current members only. Sorted by date, then name.
Result<std::vector<PersonDay>> DailySummary(PeopleStore& people, AttendanceStore& attendance,
                                            const WorkCalendar& calendar, const std::string& from,
                                            const std::string& to,
                                            const std::optional<std::string>& employee_id,
                                            int64_t now_ms, const std::string& group = "");

}  // namespace faceatt
