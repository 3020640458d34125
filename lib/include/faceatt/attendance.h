// Attendance rules, shared by `faceatt identify --record` and the server:
//   - every attempt is recorded: successes with the distance, unknown faces with
//     the smallest distance, failures with their reason (audit rows);
//   - type IN, OUT or auto (the person's first success of the working day is
//     IN, later ones OUT; the working day starts at attendance.day_starts_at,
//     report.h);
//   - the same person with the same type within `cooldown_seconds` (across all
//     devices, across midnight; with auto, any type) is not recorded twice: the
//     decision says already_recorded with the first record's time, and an audit
//     row (failed, already_recorded) is kept;
//   - a second IN on the same working day is refused the same way unless
//     allow_second_in.
//
// Thread safety: methods are serialised by an internal mutex, and the check and
// the write are one store transaction, so two devices (or a server and a cron
// `identify --record`) recognising the same person at once produce one record.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "faceatt/clock.h"
#include "faceatt/config.h"
#include "faceatt/face_service.h"
#include "faceatt/store.h"

namespace faceatt {

inline constexpr const char* kAlreadyRecorded = "already_recorded";
inline constexpr const char* kOutOfArea = "out_of_area";

struct Attempt {
  std::string type = "auto";  // IN | OUT | auto
  std::string device_id;
  std::string ts_client;
  std::string image_ref;
  // Webhook rows announcing a success or an unknown face, made from the row as
  // it is written and stored in the same transaction (so neither is ever kept
  // without the other). Not called for failures and refusals.
  using EventsFn = std::function<std::vector<OutboxItem>(const AttendanceRecord& row)>;
  EventsFn events;
  // When set: how many of those rows were stored (the shared webhook cooldown
  // may store none; OutboxItem::cooldown_key).
  int* events_stored = nullptr;
  // attendance.keep_photos: keeps the face crop of a success or unknown attempt
  // (RecordIdentification calls it with the face's box before writing the row)
  // and returns its image_ref (evidence.h, AttemptPhotoKeeper). An error fails
  // the attempt with no row written.
  using PhotoFn = std::function<Result<std::string>(const Box& face)>;
  PhotoFn keep_photo;
};

struct RecordDecision {
  bool recorded = false;    // a success row was written
  int64_t record_id = 0;    // the row written (success or audit)
  std::string type;         // IN/OUT as decided
  std::string reason;       // "" or already_recorded
  int64_t first_ts_ms = 0;  // with already_recorded: the earlier record's time
  std::string message;      // for people: "checked in at 08:30:12"
};

// What one identify attempt came to (RecordIdentification).
struct AttemptOutcome {
  bool success = false;                // a success row was written
  std::string reason;                  // "" on success; no_face, multi_face, bad_quality,
                                       // out_of_area, unknown or already_recorded
  std::string message;                 // for people
  std::optional<double> min_distance;  // distance to the best person, when there was one
  int faces = 0;                       // faces found
  std::optional<FaceIdentity> face;    // the one face acted on
  RecordDecision decision;             // for a matched face: recorded or already_recorded
  int64_t record_id = 0;               // the row written (success or audit)
};

// Normalises a requested type: "in"/"IN" -> "IN", "auto" stays; kInvalidArgument otherwise.
Result<std::string> ParseAttendanceType(const std::string& type, bool allow_auto = true);

class AttendanceRecorder {
 public:
  AttendanceRecorder(AttendanceStore* store, AttendanceConfig config, const Clock* clock);

  Result<RecordDecision> RecordSuccess(const std::string& employee_id, double distance,
                                       const Attempt& attempt);
  // The rules for one identified photo or frame, as `serve` and `identify
  // --record` apply them: exactly one face (else no_face / multi_face), of usable
  // quality, inside `in_area` when given (the camera's guide oval), matched
  // (else unknown); then RecordSuccess. Every outcome writes its row: the success
  // or an audit row with the reason. Errors only when the store fails.
  Result<AttemptOutcome> RecordIdentification(
      const Identification& id, const Attempt& attempt,
      const std::function<bool(const Box&)>& in_area = nullptr);
  // Unknown face: status unknown, reason unknown, the smallest distance (if any).
  Result<int64_t> RecordUnknown(std::optional<double> min_distance, const Attempt& attempt);
  // Failure (no_face, multi_face, bad_quality, out_of_area, ...).
  Result<int64_t> RecordFailure(const std::string& reason, std::optional<double> min_distance,
                                const Attempt& attempt);

 private:
  AttendanceStore* store_;
  AttendanceConfig config_;
  const Clock* clock_;
  std::mutex mu_;
};

}  // namespace faceatt
