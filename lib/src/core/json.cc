#include "faceatt/json.h"

#include <cmath>

#include "faceatt/clock.h"

namespace faceatt {

std::string DumpJson(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

using json = nlohmann::json;

double Round4(double value) { return std::round(value * 1e4) / 1e4; }

json OrNull(const std::string& s) { return s.empty() ? json() : json(s); }

json BoxJson(const Box& b) {
  return {{"left", b.left}, {"top", b.top}, {"right", b.right}, {"bottom", b.bottom}};
}

json UserJson(const User& u) {
  return {{"employee_id", u.employee_id}, {"name", u.name},
          {"department", u.department},   {"active", u.active},
          {"embeddings", u.embeddings},   {"created_at", u.created_at},
          {"updated_at", u.updated_at}};
}

json PersonDayJson(const PersonDay& d) {
  auto local = [](const std::optional<int64_t>& ms) {
    return ms ? json(FormatLocal(*ms)) : json();
  };
  return {{"date", d.date},
          {"employee_id", d.employee_id},
          {"name", d.name},
          {"department", d.department},
          {"state", d.state},
          {"since", local(d.since)},
          {"first_in", local(d.first_in)},
          {"last_out", local(d.last_out)},
          {"worked_minutes", d.worked_ms / 60000},
          {"events", d.events},
          {"late", d.late},
          {"absent", d.absent}};
}

json FaceJson(const FaceIdentity& f) {
  return {{"box", BoxJson(f.box)},
          {"employee_id", OrNull(f.employee_id)},
          {"name", f.matched ? json(f.name) : json()},
          {"matched", f.matched},
          {"distance", f.distance < 0 ? json() : json(Round4(f.distance))},
          {"threshold", Round4(f.threshold)},
          {"reason", OrNull(f.reason)},
          {"detail", OrNull(f.detail)}};
}

json AttendanceFactsJson(const AttendanceRecord& r) {
  return {{"name_at_event", OrNull(r.name_at_event)},
          {"current_name", r.current_name ? json(*r.current_name) : json()},
          {"voided", r.voided},
          {"corrected", r.corrections > 0},
          {"added_by_admin", r.added_by_admin}};
}

json AuditJson(const AuditEntry& e) {
  auto object = [](const std::string& text) {
    return text.empty() ? json() : json::parse(text, nullptr, false);
  };
  return {{"id", e.id},
          {"attendance_id", e.attendance_id},
          {"action", e.action},
          {"by", e.actor},
          {"at", FormatUtc(e.at_ms)},
          {"reason", e.reason},
          {"old", object(e.old_value)},
          {"new", object(e.new_value)}};
}

json CandidatesJson(const FaceIdentity& f) {
  json out = json::array();
  for (const auto& c : f.candidates)
    out.push_back(
        {{"employee_id", c.employee_id}, {"name", c.name}, {"distance", Round4(c.distance)}});
  return out;
}

}  // namespace faceatt
