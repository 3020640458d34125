#include "faceatt/attendance.h"

#include <algorithm>

namespace faceatt {

Result<std::string> ParseAttendanceType(const std::string& type, bool allow_auto) {
  std::string t = type;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::toupper(c); });
  if (t == "IN" || t == "OUT") return t;
  if (t == "AUTO" && allow_auto) return std::string("auto");
  return Status::InvalidArgument("type must be IN, OUT" + std::string(allow_auto ? " or auto" : "") +
                                 ", not '" + type + "'");
}

AttendanceRecorder::AttendanceRecorder(Store* store, AttendanceConfig config, const Clock* clock)
    : store_(store), config_(std::move(config)), clock_(clock) {}

Result<RecordDecision> AttendanceRecorder::RecordSuccess(const std::string& employee_id,
                                                         double distance, const Attempt& attempt) {
  FACEATT_ASSIGN_OR_RETURN(std::string type, ParseAttendanceType(attempt.type));
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMillis();
  FACEATT_ASSIGN_OR_RETURN(int64_t day_start, LocalDayStart(LocalDate(now)));

  AttendanceQuery today;
  today.employee_id = employee_id;
  today.status = kStatusSuccess;
  today.from_ms = day_start;
  today.newest_first = false;
  today.limit = 0;
  FACEATT_ASSIGN_OR_RETURN(auto todays, store_->QueryAttendance(today));
  if (type == "auto") type = todays.empty() ? "IN" : "OUT";

  RecordDecision d;
  d.type = type;
  const AttendanceRecord* earlier = nullptr;
  // Cooldown: the latest same-type success within the window, across devices.
  for (const auto& r : todays)
    if (r.type == type && now - r.ts_server_ms < int64_t{config_.cooldown_seconds} * 1000) earlier = &r;
  std::string why;
  if (earlier) {
    why = "already recorded " + type + " at " + FormatLocal(earlier->ts_server_ms);
  } else if (type == "IN" && !config_.allow_second_in) {
    for (const auto& r : todays)
      if (r.type == "IN") {
        earlier = &r;
        why = "already checked in today at " + FormatLocal(r.ts_server_ms);
        break;
      }
  }
  AttendanceRecord row;
  row.employee_id = employee_id;
  row.type = type;
  row.device_id = attempt.device_id;
  row.distance = distance;
  row.ts_server_ms = now;
  row.ts_client = attempt.ts_client;
  row.image_ref = attempt.image_ref;
  if (earlier) {
    row.status = kStatusFailed;
    row.reason = kAlreadyRecorded;
    d.reason = kAlreadyRecorded;
    d.first_ts_ms = earlier->ts_server_ms;
    d.message = why;
  } else {
    row.status = kStatusSuccess;
    d.recorded = true;
    d.message = std::string(type == "IN" ? "checked in" : "checked out") + " at " + FormatLocal(now);
  }
  FACEATT_ASSIGN_OR_RETURN(d.record_id, store_->AddAttendance(row));
  return d;
}

Result<int64_t> AttendanceRecorder::RecordUnknown(std::optional<double> min_distance,
                                                  const Attempt& attempt) {
  return RecordFailure(kStatusUnknown, min_distance, attempt);
}

Result<int64_t> AttendanceRecorder::RecordFailure(const std::string& reason,
                                                  std::optional<double> min_distance,
                                                  const Attempt& attempt) {
  std::string type;
  if (attempt.type != "auto" && !attempt.type.empty()) {
    FACEATT_ASSIGN_OR_RETURN(type, ParseAttendanceType(attempt.type, false));
  }
  AttendanceRecord row;
  row.type = type;
  row.status = reason == kStatusUnknown ? kStatusUnknown : kStatusFailed;
  row.reason = reason;
  row.device_id = attempt.device_id;
  row.distance = min_distance;
  row.ts_server_ms = clock_->NowMillis();
  row.ts_client = attempt.ts_client;
  row.image_ref = attempt.image_ref;
  return store_->AddAttendance(row);
}

}  // namespace faceatt
