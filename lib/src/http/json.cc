#include "http/json.h"

#include <sstream>

#include "faceatt/clock.h"
#include "faceatt/json.h"

namespace faceatt::http {

using json = nlohmann::json;

// "3A;Staff" (as the store keeps a row's groups) -> ["3A", "Staff"].
json GroupsJson(const std::string& joined) {
  json out = json::array();
  std::stringstream in(joined);
  for (std::string g; std::getline(in, g, ';');)
    if (!g.empty()) out.push_back(g);
  return out;
}

json RecordJson(const AttendanceRecord& r) {
  json j = {{"id", r.id},
            {"employee_id", r.employee_id ? json(*r.employee_id) : json()},
            {"type", OrNull(r.type)},
            {"status", r.status},
            {"reason", OrNull(r.reason)},
            {"device_id", r.device_id},
            {"distance", r.distance ? json(Round4(*r.distance)) : json()},
            {"ts_server", FormatUtc(r.ts_server_ms)},
            {"ts_client", OrNull(r.ts_client)},
            {"image_ref", OrNull(r.image_ref)},
            {"groups", GroupsJson(r.groups)}};
  j.update(AttendanceFactsJson(r));
  return j;
}

json DeliveryJson(const OutboxItem& o) {
  return {{"id", o.id},
          {"url", o.url},
          {"event", o.event},
          {"status", o.status},
          {"attempts", o.attempts},
          {"next_attempt_at", FormatUtc(o.next_attempt_ms)},
          {"last_error", OrNull(o.last_error)},
          {"last_http_status", o.last_http_status ? json(o.last_http_status) : json()},
          {"created_at", FormatUtc(o.created_ms)},
          {"delivered_at", o.delivered_ms ? json(FormatUtc(o.delivered_ms)) : json()}};
}

json RecognizedFaceJson(const FaceIdentity& f) {
  json j = FaceJson(f);
  j["label"] = f.matched ? f.name : (f.reason.empty() ? kUnknown : f.reason);
  return j;
}

json EnrollJson(const EnrollResult& result) {
  json images = json::array();
  for (const auto& o : result.outcomes)
    images.push_back({{"image", o.image},
                      {"accepted", o.accepted},
                      {"reason", OrNull(o.reason)},
                      {"detail", OrNull(o.detail)},
                      {"box", o.box ? BoxJson(*o.box) : json()}});
  json body = UserJson(result.user);
  body["success"] = true;
  body["message"] = std::string(result.created ? "enrolled " : "added photos to ") +
                    result.user.employee_id + " (" + result.user.name + ")";
  body["created"] = result.created;
  body["accepted"] = result.accepted;
  body["images"] = images;
  return body;
}

json AttemptJson(const AttemptOutcome& o, const std::string& ts) {
  if (o.success) {
    const FaceIdentity& face = *o.face;
    return {{"success", true},
            {"employee_id", face.employee_id},
            {"name", face.name},
            {"user", face.name},  // the old attendance API's name for it
            {"distance", Round4(face.distance)},
            {"decided_threshold", Round4(face.threshold)},
            {"type", o.decision.type},
            {"message", o.message},
            {"record_id", o.record_id},
            {"ts", ts},
            {"box", BoxJson(face.box)}};
  }
  json out = {{"success", false},
              {"reason", o.reason},
              {"message", o.message},
              {"min_distance", o.min_distance ? json(Round4(*o.min_distance)) : json()},
              {"record_id", o.record_id}};
  if (o.reason == kMultiFace) out["faces"] = o.faces;
  if (o.face) out["box"] = BoxJson(o.face->box);
  if (o.reason == kBadQuality) out["detail"] = o.face->detail;
  if (o.reason == kUnknown) out["decided_threshold"] = Round4(o.face->threshold);
  if (o.reason == kAlreadyRecorded) {
    out["employee_id"] = o.face->employee_id;
    out["name"] = o.face->name;
    out["user"] = o.face->name;
    out["type"] = o.decision.type;
    out["first_ts"] = FormatUtc(o.decision.first_ts_ms);
  }
  return out;
}

}  // namespace faceatt::http
