// The OpenAPI 3 document served at GET /openapi.json: every route of the
// table in routes.cc with its role (x-role), parameters and request bodies.
#include "http/routes.h"

namespace faceatt::http {

using json = nlohmann::json;

json OpenApiDocument(const std::string& version) {
  const json error_body = {
      {"description",
       "An error: {\"error\": {\"code\", \"message\"[, \"reason\"]}}; /identify, /enroll "
       "and /attendance also put success (false), reason and message at the top"},
      {"content",
       {{"application/json",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"error",
               {{"type", "object"},
                {"properties",
                 {{"code", {{"type", "string"}}},
                  {"message", {{"type", "string"}}},
                  {"reason", {{"type", "string"}}}}}}},
              {"success", {{"type", "boolean"}}},
              {"reason", {{"type", "string"}}},
              {"message", {{"type", "string"}}}}}}}}}}}};
  auto op = [&](const char* summary, const char* role, json extra = json::object()) {
    json responses = {{"200", {{"description", "OK"}}}, {"400", error_body}, {"500", error_body}};
    if (std::string(role) != "public") {
      responses["401"] = error_body;
      responses["403"] = error_body;
    }
    json o = {{"summary", summary}, {"x-role", role}, {"responses", responses}};
    if (std::string(role) == "public") o["security"] = json::array();  // no key needed
    for (auto& [k, v] : extra.items()) o[k] = v;
    return o;
  };
  auto query = [](std::initializer_list<std::pair<const char*, const char*>> params) {
    json out = json::array();
    for (const auto& [name, description] : params)
      out.push_back({{"name", name},
                     {"in", "query"},
                     {"required", false},
                     {"description", description},
                     {"schema", {{"type", "string"}}}});
    return out;
  };
  const json enroll_form = {
      {"content",
       {{"multipart/form-data",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}}},
              {"employee_id",
               {{"type", "string"}, {"description", "empty: generated (EMP001, ...)"}}},
              {"department", {{"type", "string"}}},
              {"force", {{"type", "string"}, {"enum", {"true", "false"}}}},
              {"image",
               {{"type", "array"}, {"items", {{"type", "string"}, {"format", "binary"}}}}}}},
            {"required", {"image"}}}}}},
        {"application/json",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}}},
              {"employee_id", {{"type", "string"}}},
              {"department", {{"type", "string"}}},
              {"force", {{"type", "boolean"}}},
              {"image", {{"type", "string"}, {"description", "base64 or data URL"}}},
              {"images", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}}}}}}}};
  const json image_form = {
      {"content",
       {{"multipart/form-data",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"image", {{"type", "string"}, {"format", "binary"}}},
              {"type", {{"type", "string"}, {"enum", {"IN", "OUT", "auto"}}}},
              {"device_id", {{"type", "string"}}},
              {"ts_client", {{"type", "string"}}}}}}}}},
        {"application/json",
         {{"schema",
           {{"type", "object"},
            {"properties",
             {{"image",
               {{"type", "string"}, {"description", "base64 or data URL; absent = camera mode"}}},
              {"type", {{"type", "string"}}},
              {"device_id", {{"type", "string"}}},
              {"ts_client", {{"type", "string"}}}}}}}}}}}};
  const json id_param = {
      {{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}};
  json frame_body = image_form;
  for (const char* f : {"oval_cx", "oval_cy", "oval_rx", "oval_ry", "session"})
    for (const char* type : {"multipart/form-data", "application/json"})
      frame_body["content"][type]["schema"]["properties"][f] = {{"type", "string"}};
  frame_body["content"]["image/jpeg"] = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
  frame_body["content"]["image/png"] = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
  const json key_body = {{"content",
                          {{"application/json",
                            {{"schema",
                              {{"type", "object"},
                               {"properties", {{"key", {{"type", "string"}}}}},
                               {"required", {"key"}}}}}}}}};
  json paths = {
      {"/health",
       {{"get", op("Status, database, camera, models, counts; 503 when unusable", "public")}}},
      {"/config", {{"get", op("Non-secret settings", "reader")}}},
      {"/enroll",
       {{"post",
         op("Enroll from multipart: name, employee_id, department, force, image (repeatable)",
            "admin", {{"requestBody", enroll_form}})}}},
      {"/enroll/json",
       {{"post", op("Enroll from JSON {name, employee_id, department, force, image|images}",
                    "admin", {{"requestBody", enroll_form}})}}},
      {"/identify",
       {{"post", op("Identify and record attendance (upload, JSON base64, or camera mode)",
                    "device", {{"requestBody", image_form}})}}},
      {"/recognize",
       {{"post", op("Every face with box, label and distance; nothing recorded", "device",
                    {{"requestBody", image_form}})}}},
      {"/recognize/realtime",
       {{"post", op("server.compat = \"ml\" only: every face, each recognised one recorded and "
                    "sent to the webhooks (?min_conf=&send_unknown=&device_id=)",
                    "device", {{"requestBody", image_form}})}}},
      {"/attendance",
       {{"get", op("Attendance records", "reader",
                   {{"parameters", query({{"employee_id", "one person"},
                                          {"from", "YYYY-MM-DD (local) or ISO 8601, inclusive"},
                                          {"to", "YYYY-MM-DD (local, inclusive) or ISO 8601"},
                                          {"status", "success | unknown | failed"},
                                          {"type", "IN | OUT"},
                                          {"group", "rows whose groups (as of the event) hold it"},
                                          {"limit", "1-1000, default 100"},
                                          {"offset", "rows to skip"}})}})},
        {"post",
         op("Record an event by hand {employee_id, type, device_id, ts_client, ts (its real "
            "time: ISO 8601 with offset, or local), reason, by}; audited",
            "admin")}}},
      {"/attendance.csv",
       {{"get",
         op("The records GET /attendance's filters select, every page, as CSV (oldest "
            "first; the columns of faceatt export)",
            "reader",
            {{"parameters", query({{"employee_id", "one person"},
                                   {"from", "YYYY-MM-DD (local), inclusive"},
                                   {"to", "YYYY-MM-DD (local), inclusive"},
                                   {"status", "success | unknown | failed"},
                                   {"type", "IN | OUT"},
                                   {"group", "rows whose groups (as of the event) hold it"}})}})}}},
      {"/attendance/{id}",
       {{"parameters", id_param},
        {"get", op("One record and its corrections (audit trail)", "reader")},
        {"patch", op("Amend type and/or time {type, ts, reason, by}; audited", "admin")}}},
      {"/attendance/{id}/photo",
       {{"parameters", id_param},
        {"get", op("The record's evidence photo (image/jpeg; attendance.keep_photos); 404 when "
                   "none is kept",
                   "admin")}}},
      {"/attendance/{id}/void",
       {{"parameters", id_param},
        {"post", op("Void a record {reason, by} (kept, left out of lists); audited", "admin")}}},
      {"/users", {{"get", op("People", "reader")}}},
      {"/users/{id}",
       {{"parameters", id_param},
        {"get", op("One person", "reader")},
        {"patch", op("Change name, department, active", "admin")},
        {"delete",
         op("Delete a person", "admin",
            {{"parameters", query({{"purge_attendance", "1: also delete their attendance"}})}})}}},
      {"/users/{id}/thumbnail",
       {{"parameters", id_param}, {"get", op("The person's thumbnail (JPEG)", "reader")}}},
      {"/users/{id}/photos",
       {{"parameters", id_param},
        {"get", op("The person's photos (embeddings) [{id, created_at, quality, model, "
                   "has_image}], oldest first",
                   "reader")}}},
      {"/users/{id}/photos/{eid}",
       {{"parameters", json::array({id_param[0],
                                    {{"name", "eid"},
                                     {"in", "path"},
                                     {"required", true},
                                     {"schema", {{"type", "integer"}}}}})},
        {"get", op("The photo's kept face crop (else its thumbnail); 404 when none", "reader")},
        {"delete",
         op("Remove one photo and its files; 409 when it is the person's last", "admin")}}},
      {"/attendance/today",
       {{"get", op("Today's board: who is in (since), who left, who has not come", "reader",
                   {{"parameters", query({{"at", "ISO 8601: the board as of then"}})}})}}},
      {"/attendance/summary",
       {{"get", op("Per working day and person: first IN, last OUT, hours, late, absent", "reader",
                   {{"parameters",
                     query({{"from", "YYYY-MM-DD working day, default today"},
                            {"to", "YYYY-MM-DD, inclusive, default from"},
                            {"employee_id", "one person"},
                            {"at", "ISO 8601: as of then (absences only for begun days)"}})}})}}},
      {"/users/{id}/status",
       {{"parameters", id_param},
        {"get", op("The person's state now: in, left or absent, since when", "reader",
                   {{"parameters", query({{"at", "ISO 8601: as of then"}})}})}}},
      {"/groups", {{"get", op("Every group with its members' employee ids", "reader")}}},
      {"/groups/{name}/members/{id}",
       {{"parameters", json::array({{{"name", "name"},
                                     {"in", "path"},
                                     {"required", true},
                                     {"schema", {{"type", "string"}}}},
                                    {{"name", "id"},
                                     {"in", "path"},
                                     {"required", true},
                                     {"schema", {{"type", "string"}}}}})},
        {"put", op("Put a person in a group (creating it)", "admin")},
        {"delete", op("Take a person out of a group", "admin")}}},
      {"/events", {{"get", op("Server-Sent Events: recognition, attendance, enrolled", "reader")}}},
      {"/metrics", {{"get", op("Prometheus metrics", "reader")}}},
      {"/webhooks/deliveries",
       {{"get", op("Webhook outbox rows and counts", "admin",
                   {{"parameters",
                     query({{"status", "pending | delivered | failed"}, {"limit", "rows"}})}})}}},
      {"/stream.mjpeg",
       {{"get", op("MJPEG stream with the guide overlay; 503 without a camera", "device")}}},
      {"/capture",
       {{"get", op("Latest camera frame as JPEG; 503 without a camera", "device",
                   {{"parameters", query({{"preview", "1: with the guide overlay"}})}})}}},
      {"/openapi.json", {{"get", op("This document", "public")}}},
      {"/", {{"get", op("Redirect (302) to /admin", "public")}}},
      {"/kiosk",
       {{"get",
         op("The kiosk page (HTML; signs in itself; ETag, 304 on If-None-Match)", "public")}}},
      {"/admin",
       {{"get",
         op("The admin page (HTML; signs in itself; ETag, 304 on If-None-Match)", "public")}}},
      {"/session",
       {{"post",
         op("Sign a browser in with an API key {key} (JSON or form): {role, group?, csrf_token, "
            "expires_at} and the HttpOnly cookie faceatt_session; 401 for a wrong key",
            "public", {{"requestBody", key_body}})},
        {"get", op("The cookie's session {role, group?, csrf_token, expires_at}; 401 without one",
                   "public")},
        {"delete", op("Sign out: ends the cookie's session (X-CSRF-Token needed) and clears the "
                      "cookie; 204",
                      "public")}}},
      {"/guide",
       {{"post", op("One frame judged for the camera guide, nothing recorded: {faces, guidance "
                    "(no_face|multi_face|come_closer|move_into_oval|too_dark|too_bright|"
                    "too_blurry|hold_still|ready), box, pose {yaw, pitch, roll, bucket}, quality, "
                    "frame}; image as multipart, JSON base64 or a raw image/jpeg|png body; "
                    "oval_cx, oval_cy, oval_rx, oval_ry (fractions), session or device_id "
                    "(for hold_still)",
                    "device", {{"requestBody", frame_body}})}}},
      {"/enroll/sessions",
       {{"post", op("Start a webcam enrollment {name, employee_id?, department?, groups?}: 201 "
                    "{session_id, expires_at, needed_poses}; 503 when too many are open",
                    "admin")}}},
      {"/enroll/sessions/{id}",
       {{"parameters", id_param},
        {"delete", op("Cancel an enrollment session: 204; 404 unknown or expired", "admin")}}},
      {"/enroll/sessions/{id}/frames",
       {{"parameters", id_param},
        {"post", op("One frame (as /guide): /guide's answer plus accepted, reason (null|no_face|"
                    "multi_face|bad_quality|not_ready|duplicate_pose), pose_bucket, progress "
                    "{frames, kept, poses_done, ready}; 404 unknown or expired",
                    "admin", {{"requestBody", frame_body}})}}},
      {"/enroll/sessions/{id}/complete",
       {{"parameters", id_param},
        {"post", op("Enroll the best frames (one per pose first, at most 5) under POST /enroll's "
                    "rules and codes: 201 with the user as /enroll answers and groups; 409 when "
                    "no frame was accepted; 404 unknown or expired",
                    "admin")}}},
      {"/webhooks/deliveries/{id}/retry",
       {{"parameters", id_param},
        {"post", op("Make a failed or pending delivery due now (a failed one gets "
                    "webhook.max_attempts more tries): the row; 409 if delivered; 404 unknown",
                    "admin")}}},
      {"/errors/recent",
       {{"get", op("The last 50 errors: 5xx answers and warn/error log lines {errors: [{ts, "
                   "source, code, level, message}], max}, oldest first",
                   "admin")}}},
      {"/web/{file}",
       {{"parameters", json::array({{{"name", "file"},
                                     {"in", "path"},
                                     {"required", true},
                                     {"schema", {{"type", "string"}}}}})},
        {"get", op("A file of the web app (script, style, image); ETag, 304 on If-None-Match; "
                   "404 for any other name",
                   "public")}}},
  };
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "faceatt"},
            {"version", version},
            {"description",
             "Face-recognition attendance. Errors: {\"error\": {\"code\", \"message\"}}."}}},
          {"components",
           {{"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
              {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}}}},
          {"security", json::array({{{"bearer", json::array()}}, {{"apiKey", json::array()}}})},
          {"paths", paths}};
}
}  // namespace faceatt::http
