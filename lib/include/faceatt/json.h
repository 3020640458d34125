// JSON forms of the library's values, written once for the CLI's --json output
// and the HTTP API (so `faceatt identify --json` and POST /recognize describe a
// face with the same fields and rounding).
//
// Conventions: distances and thresholds are rounded to 4 decimals (Round4);
// an empty optional string is null (OrNull), never "".
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "faceatt/face_service.h"
#include "faceatt/pipeline.h"
#include "faceatt/report.h"
#include "faceatt/store.h"

namespace faceatt {

// j.dump(indent), with bytes that are not UTF-8 written as U+FFFD instead of
// throwing: rows stored before the API refused such text still read back.
std::string DumpJson(const nlohmann::json& j, int indent = -1);
// Four decimals: enough to compare distances, short to read.
double Round4(double value);
// null for "", else the string.
nlohmann::json OrNull(const std::string& s);
// {"left", "top", "right", "bottom"}
nlohmann::json BoxJson(const Box& box);
// {"employee_id", "name", "department", "active", "embeddings", "created_at", "updated_at"}
nlohmann::json UserJson(const User& user);
// One face of an identification: {"box", "employee_id", "name" (null unless
// matched), "matched", "distance" (null when not measured), "threshold",
// "reason", "detail"}. Candidates are separate (CandidatesJson).
nlohmann::json FaceJson(const FaceIdentity& face);
// [{"employee_id", "name", "distance"}, ...] nearest first.
nlohmann::json CandidatesJson(const FaceIdentity& face);
// A person's working day: {"date", "employee_id", "name", "department",
// "state", "since", "first_in", "last_out" (local ISO 8601 or null),
// "worked_minutes", "events", "late", "absent"}.
nlohmann::json PersonDayJson(const PersonDay& day);
// What an attendance row keeps beside its event (issue 14): {"name_at_event",
// "current_name" (null when the person is gone or the id names someone new),
// "voided", "corrected" (true after a void or amend), "added_by_admin"}.
nlohmann::json AttendanceFactsJson(const AttendanceRecord& record);
// One correction: {"id", "attendance_id", "action", "by", "at" (UTC), "reason",
// "old" and "new" (objects of the changed fields; null when none)}.
nlohmann::json AuditJson(const AuditEntry& entry);

}  // namespace faceatt
