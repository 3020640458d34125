// Time source and timestamp formatting. The Clock interface lets tests move time
// (cooldowns, retries) without sleeping.
//
// Stored timestamps are UTC, ISO 8601 with milliseconds: "2026-11-21T08:30:00.123Z"
// (text that sorts in time order). Local dates use the process time zone, which
// SetTimeZone() sets from an IANA name.
//
// Thread safety: SystemClock is safe to share; SetTimeZone() is not (call at start-up).
#pragma once

#include <cstdint>
#include <string>

#include "faceatt/status.h"

namespace faceatt {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;  // Unix time in milliseconds
};

class SystemClock : public Clock {
 public:
  int64_t NowMillis() const override;
};

// A clock that only moves when told (for tests and replays).
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t NowMillis() const override { return now_; }
  void Advance(int64_t ms) { now_ += ms; }
  void Set(int64_t ms) { now_ = ms; }

 private:
  int64_t now_;
};

std::string FormatUtc(int64_t unix_ms);                // "2026-11-21T08:30:00.123Z"
Result<int64_t> ParseTimestamp(const std::string& s);  // ISO 8601 with Z or +hh:mm offset
std::string FormatLocal(int64_t unix_ms);              // "2026-11-21T17:30:00+09:00"
std::string LocalDate(int64_t unix_ms);                // "2026-11-21" in the local zone

// A time an admin gives for a correction: ISO 8601 with Z or an offset, or a
// local wall time "YYYY-MM-DDTHH:MM[:SS]" (a space for the T is fine) in the
// process time zone. kInvalidArgument otherwise.
Result<int64_t> ParseWallTime(const std::string& s);

// Start of a local date (00:00 local) as Unix ms; kInvalidArgument for a bad date.
Result<int64_t> LocalDayStart(const std::string& yyyy_mm_dd);

// "HH:MM" (00:00-23:59) as minutes after midnight; kInvalidArgument otherwise.
Result<int> ParseTimeOfDay(const std::string& hh_mm);
// "Mon".."Sun" (any case) as 0 (Monday)..6; kInvalidArgument otherwise.
Result<int> ParseWeekday(const std::string& name);
// The weekday of a "YYYY-MM-DD" date, 0 = Monday.
Result<int> WeekdayOf(const std::string& yyyy_mm_dd);

// Sets the process time zone from an IANA name ("Asia/Seoul"); "" keeps the
// system's. kInvalidArgument when the zone is not in the system's tz database.
Status SetTimeZone(const std::string& iana_name);

}  // namespace faceatt
