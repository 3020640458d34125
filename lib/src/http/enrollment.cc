// POST /enroll (multipart form) and POST /enroll/json: one person from one or
// more photos, under the same rules as `faceatt enroll`.
#include "http/errors.h"
#include "http/json.h"
#include "http/request_body.h"
#include "http/routes.h"

namespace faceatt::http {
namespace {

using json = nlohmann::json;

// An optional boolean form field: true/1, false/0 or absent (false).
Result<bool> FormFlag(const Request& req, const char* key) {
  const std::string v = FormValue(req, key);
  if (!v.empty() && v != "true" && v != "false" && v != "1" && v != "0")
    return Status::InvalidArgument(std::string(key) + " must be true or false");
  return v == "true" || v == "1";
}

// {name, employee_id, department, force, reuse_retired_id, image | images}
// with base64 images, as JSON or an urlencoded form (BodyFields).
Result<EnrollRequest> ParseEnrollJson(const Request& req) {
  EnrollRequest er;
  FACEATT_ASSIGN_OR_RETURN(json body, BodyFields(req));
  FACEATT_ASSIGN_OR_RETURN(er.name, JsonString(body, "name"));
  FACEATT_ASSIGN_OR_RETURN(er.employee_id, JsonString(body, "employee_id"));
  FACEATT_ASSIGN_OR_RETURN(er.department, JsonString(body, "department"));
  FACEATT_ASSIGN_OR_RETURN(er.force, JsonBool(body, "force", false));
  FACEATT_ASSIGN_OR_RETURN(er.reuse_retired_id, JsonBool(body, "reuse_retired_id", false));
  std::vector<std::string> texts;
  if (body.contains("image")) {
    FACEATT_ASSIGN_OR_RETURN(std::string one, JsonString(body, "image"));
    texts.push_back(std::move(one));
  }
  if (body.contains("images")) {
    if (!body["images"].is_array()) return Status::InvalidArgument("images must be an array");
    for (const auto& v : body["images"]) {
      if (!v.is_string()) return Status::InvalidArgument("images must hold strings");
      texts.push_back(v.get<std::string>());
    }
  }
  for (size_t i = 0; i < texts.size(); ++i) {
    FACEATT_ASSIGN_OR_RETURN(std::string bytes, DecodeBase64(texts[i]));
    er.images.push_back({"image" + std::to_string(i + 1), std::move(bytes), true});
  }
  return er;
}

// Multipart fields name, employee_id, department, force, reuse_retired_id and
// repeated image files; another body is read as /enroll/json reads it (the old
// clients post urlencoded forms and JSON to /enroll too).
Result<EnrollRequest> ParseEnrollForm(const Request& req) {
  if (!req.is_multipart_form_data()) return ParseEnrollJson(req);
  EnrollRequest er;
  er.name = FormValue(req, "name");
  er.employee_id = FormValue(req, "employee_id");
  er.department = FormValue(req, "department");
  FACEATT_ASSIGN_OR_RETURN(er.force, FormFlag(req, "force"));
  FACEATT_ASSIGN_OR_RETURN(er.reuse_retired_id, FormFlag(req, "reuse_retired_id"));
  auto range = req.files.equal_range("image");
  for (auto it = range.first; it != range.second; ++it) {
    const auto& f = it->second;
    er.images.push_back(EnrollImage{
        f.filename.empty() ? "image" + std::to_string(er.images.size() + 1) : f.filename, f.content,
        true});
  }
  return er;
}

void Enroll(Context& ctx, const Request& req, Response& res, Result<EnrollRequest> parsed) {
  if (!parsed.ok()) return SendError(req, res, parsed.status());
  const EnrollRequest& er = *parsed;
  if (er.images.empty())
    return SendError(req, res, Status::InvalidArgument("at least one image is required"));
  for (const auto& im : er.images)
    if (im.bytes.empty())
      return SendError(req, res, Status::InvalidArgument(im.name + ": empty image"));
  auto lease = ctx.pool->Acquire();
  if (!lease.ok()) return SendError(req, res, lease.status());
  const auto t0 = std::chrono::steady_clock::now();
  // The Status reason says why (no_face, ..., face_enrolled_as_someone_else).
  auto result = ctx.service->Enroll(**lease, er);
  ctx.Stage("enroll", t0);
  if (!result.ok()) return SendError(req, res, result.status());
  ctx.events.Publish("enrolled",
                     {{"employee_id", result->user.employee_id}, {"name", result->user.name}});
  // 200 whether created or not, as the old attendance API answered (issue 15).
  SendJson(res, 200, EnrollJson(*result));
}

}  // namespace

void HandleEnrollForm(Context& ctx, const Request& req, Response& res) {
  Enroll(ctx, req, res, ParseEnrollForm(req));
}

void HandleEnrollJson(Context& ctx, const Request& req, Response& res) {
  Enroll(ctx, req, res, ParseEnrollJson(req));
}

}  // namespace faceatt::http
