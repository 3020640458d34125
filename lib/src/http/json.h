// JSON answers of the HTTP API that only the server writes (the forms shared
// with the CLI, users, faces and boxes, are in faceatt/json.h). Field lists are
// documented per endpoint in docs/serve.md.
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "faceatt/attendance.h"
#include "faceatt/face_service.h"
#include "faceatt/store.h"

namespace faceatt::http {

// An attendance row: id, employee_id, type, status, reason, device_id,
// distance, ts_server, ts_client.
nlohmann::json RecordJson(const AttendanceRecord& record);
// A webhook outbox row for GET /webhooks/deliveries.
nlohmann::json DeliveryJson(const OutboxItem& item);
// One face of POST /recognize: faceatt::FaceJson plus "label" (the name, else
// the reason).
nlohmann::json RecognizedFaceJson(const FaceIdentity& face);
// The 200/201 answer of POST /enroll: the user, success, created, accepted and
// each image's outcome.
nlohmann::json EnrollJson(const EnrollResult& result);
// The answer of POST /identify for an attempt that reached the attendance
// rules: success with the person, or success false with the reason and what
// helps the person in front of the camera. `ts` is the answer's time (UTC).
nlohmann::json AttemptJson(const AttemptOutcome& outcome, const std::string& ts);

}  // namespace faceatt::http
