#include "faceatt/attendance.h"

#include <algorithm>

#include "faceatt/report.h"

namespace faceatt {

Result<std::string> ParseAttendanceType(const std::string& type, bool allow_auto) {
  std::string t = type;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::toupper(c); });
  if (t == "IN" || t == "OUT") return t;
  if (t == "AUTO" && allow_auto) return std::string("auto");
  return Status::InvalidArgument(
      std::string(allow_auto ? "type must be IN, OUT or auto" : "type must be IN or OUT") +
      ", not '" + type + "'");
}

AttendanceRecorder::AttendanceRecorder(AttendanceStore* store, AttendanceConfig config,
                                       const Clock* clock)
    : store_(store), config_(std::move(config)), clock_(clock) {}

Result<RecordDecision> AttendanceRecorder::RecordSuccess(const std::string& employee_id,
                                                         double distance, const Attempt& attempt) {
  FACEATT_ASSIGN_OR_RETURN(const std::string requested, ParseAttendanceType(attempt.type));
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMillis();
  const int64_t cooldown_ms = int64_t{config_.cooldown_seconds} * 1000;
  // The working day (attendance.day_starts_at): a night shift's OUT after
  // midnight closes the IN of the evening before.
  FACEATT_ASSIGN_OR_RETURN(const WorkCalendar calendar, WorkCalendar::FromConfig(config_));
  FACEATT_ASSIGN_OR_RETURN(int64_t day_start, calendar.DayStart(calendar.DayOf(now)));

  // The person's successes of the local day, and of the cooldown window when it
  // reaches back past midnight (08:59:50 IN, 00:00:10 IN is one scan, not two).
  AttendanceQuery recent;
  recent.employee_id = employee_id;
  recent.status = kStatusSuccess;
  recent.from_ms = std::min(day_start, now - cooldown_ms);
  recent.newest_first = false;
  recent.limit = 0;

  RecordDecision d;
  auto decide =
      [&](const std::vector<AttendanceRecord>& rows) -> Result<AttendanceStore::AttendanceWrite> {
    d = RecordDecision{};
    const AttendanceRecord* earlier = nullptr;
    bool any_today = false;
    for (const auto& r : rows) any_today |= r.ts_server_ms >= day_start;
    // Cooldown, across devices: the latest success of the same type in the window.
    // With auto, any type: a person still standing at the kiosk 5 s after checking
    // in has not checked out.
    std::string type = requested;
    for (const auto& r : rows)
      if (now - r.ts_server_ms < cooldown_ms && (requested == "auto" || r.type == requested))
        earlier = &r;
    if (type == "auto") type = earlier ? earlier->type : any_today ? "OUT" : "IN";
    std::string why;
    if (earlier) {
      why = "already recorded " + earlier->type + " at " + FormatLocal(earlier->ts_server_ms);
    } else if (type == "IN" && !config_.allow_second_in) {
      for (const auto& r : rows)
        if (r.type == "IN" && r.ts_server_ms >= day_start) {
          earlier = &r;
          why = "already checked in today at " + FormatLocal(r.ts_server_ms);
          break;
        }
    }
    d.type = type;
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
      d.message =
          std::string(type == "IN" ? "checked in" : "checked out") + " at " + FormatLocal(now);
    }
    AttendanceStore::AttendanceWrite w{row, {}, attempt.events_stored};
    if (d.recorded && attempt.events) w.outbox = attempt.events(row);
    return w;
  };
  FACEATT_ASSIGN_OR_RETURN(d.record_id, store_->AddAttendanceAfter(recent, decide));
  return d;
}

Result<AttemptOutcome> AttendanceRecorder::RecordIdentification(
    const Identification& id, const Attempt& attempt,
    const std::function<bool(const Box&)>& in_area) {
  AttemptOutcome out;
  out.faces = static_cast<int>(id.faces.size());
  // The evidence photo of the one face, written before its row (keep_photos).
  auto with_photo = [&](const Box& box) -> Result<Attempt> {
    Attempt a = attempt;
    if (a.keep_photo) {
      FACEATT_ASSIGN_OR_RETURN(a.image_ref, a.keep_photo(box));
    }
    return a;
  };
  auto failure = [&](const std::string& reason, const std::string& message,
                     std::optional<double> min_distance) -> Result<AttemptOutcome> {
    out.reason = reason;
    out.message = message;
    out.min_distance = min_distance;
    if (reason == kUnknown) {
      FACEATT_ASSIGN_OR_RETURN(Attempt a, with_photo(id.faces.front().box));
      FACEATT_ASSIGN_OR_RETURN(out.record_id, RecordUnknown(min_distance, a));
    } else {
      FACEATT_ASSIGN_OR_RETURN(out.record_id, RecordFailure(reason, min_distance, attempt));
    }
    return out;
  };
  if (id.faces.empty()) return failure(kNoFace, "no face found", std::nullopt);
  // A kiosk acts on one person at a time: which of several faces meant to check in is a guess.
  if (id.faces.size() > 1)
    return failure(kMultiFace,
                   std::to_string(id.faces.size()) + " faces found; one person at a time",
                   std::nullopt);
  const FaceIdentity& face = id.faces.front();
  out.face = face;
  const std::optional<double> min_distance =
      face.distance >= 0 ? std::optional<double>(face.distance) : std::nullopt;
  if (face.reason == kBadQuality)
    return failure(kBadQuality, "face unusable: " + face.detail, std::nullopt);
  if (in_area && !in_area(face.box))
    return failure(kOutOfArea, "the face is outside the guide oval", min_distance);
  if (!face.matched)
    return failure(kUnknown,
                   face.detail == "ambiguous" ? "too close to two people" : "face not recognised",
                   min_distance);
  out.min_distance = min_distance;
  FACEATT_ASSIGN_OR_RETURN(Attempt a, with_photo(face.box));
  FACEATT_ASSIGN_OR_RETURN(out.decision, RecordSuccess(face.employee_id, face.distance, a));
  out.record_id = out.decision.record_id;
  out.success = out.decision.recorded;
  out.reason = out.decision.reason;
  out.message = out.decision.message;
  return out;
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
  AttendanceStore::AttendanceWrite w;
  w.events_stored = attempt.events_stored;
  AttendanceRecord& row = w.record;
  row.type = type;
  row.status = reason == kStatusUnknown ? kStatusUnknown : kStatusFailed;
  row.reason = reason;
  row.device_id = attempt.device_id;
  row.distance = min_distance;
  row.ts_server_ms = clock_->NowMillis();
  row.ts_client = attempt.ts_client;
  row.image_ref = attempt.image_ref;
  if (row.status == kStatusUnknown && attempt.events) w.outbox = attempt.events(row);
  return store_->AddAttendanceAfter(
      std::nullopt, [&](const auto&) -> Result<AttendanceStore::AttendanceWrite> { return w; });
}

}  // namespace faceatt
