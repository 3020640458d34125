// GET /users, GET|PATCH|DELETE /users/{id}, GET /users/{id}/thumbnail,
// GET /users/{id}/photos, GET|DELETE /users/{id}/photos/{eid}.
#include <filesystem>

#include "faceatt/image.h"
#include "faceatt/json.h"
#include "faceatt/maintenance.h"
#include "http/errors.h"
#include "http/request_body.h"
#include "http/routes.h"

namespace faceatt::http {
namespace {

using json = nlohmann::json;

// The changes of a PATCH: name, department, active; any other field is refused.
struct UserChanges {
  std::optional<std::string> name, department;
  std::optional<bool> active;
};

Result<UserChanges> ParseUserChanges(const Request& req) {
  FACEATT_ASSIGN_OR_RETURN(json body, BodyFields(req));
  UserChanges c;
  for (const auto& [k, v] : body.items()) {
    if (k == "name" || k == "department") {
      if (!v.is_string()) return Status::InvalidArgument(k + " must be a string");
      (k == "name" ? c.name : c.department) = v.get<std::string>();
    } else if (k == "active") {
      FACEATT_ASSIGN_OR_RETURN(c.active, JsonBool(body, "active", true));
    } else {
      return Status::InvalidArgument("unknown field " + k + " (name, department, active)");
    }
  }
  if (c.name) FACEATT_RETURN_IF_ERROR(ValidateName(*c.name));
  if (c.department && !c.department->empty())
    FACEATT_RETURN_IF_ERROR(ValidateName(*c.department, "department"));
  return c;
}

Status PatchUser(Context& ctx, const std::string& id, const UserChanges& c) {
  FACEATT_RETURN_IF_ERROR(ctx.store->UpdateUser(id, c.name, c.department, c.active));
  return ctx.service->Reload();  // names and active people
}

// The kept image of an embedding: its crop, else its thumbnail; "" when it has
// neither or the stored path leads outside the data folder.
std::string PhotoFile(const DataDir& data, const StoredEmbedding& e) {
  namespace fs = std::filesystem;
  const std::string& stored = !e.crop_path.empty() ? e.crop_path : e.thumbnail_path;
  if (stored.empty()) return "";
  std::error_code ec;
  fs::path root = fs::weakly_canonical(data.root(), ec);
  fs::path file = fs::weakly_canonical(data.Absolute(stored), ec);
  if (ec) return "";
  auto rel = file.lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") return "";
  return file.string();
}

// The embedding {eid} of person {id} (matches 1 and 2), or kNotFound.
Result<StoredEmbedding> FindPhoto(Context& ctx, const Request& req) {
  const std::string id = req.matches[1];
  FACEATT_ASSIGN_OR_RETURN(auto all, ctx.store->ListEmbeddings(id));
  for (const auto& e : all)
    if (std::to_string(e.id) == req.matches[2].str()) return e;
  return Status::NotFound("no photo " + req.matches[2].str() + " of " + id);
}

void SendImage(Response& res, std::string bytes) {
  auto probe = ProbeImage(bytes);
  res.set_content(std::move(bytes),
                  probe.ok() && probe->format == "png" ? "image/png" : "image/jpeg");
}

}  // namespace

void HandleUserList(Context& ctx, const Request& req, Response& res) {
  auto users = ctx.store->ListUsers();
  if (!users.ok()) return SendError(req, res, users.status());
  json list = json::array();
  for (const auto& u : *users) list.push_back(UserJson(u));
  SendJson(res, 200, {{"users", list}, {"count", users->size()}});
}

void HandleUserGet(Context& ctx, const Request& req, Response& res) {
  auto user = ctx.store->GetUser(req.matches[1]);
  if (!user.ok()) return SendError(req, res, user.status());
  SendJson(res, 200, UserJson(*user));
}

void HandleUserPatch(Context& ctx, const Request& req, Response& res) {
  const std::string id = req.matches[1];
  auto changes = ParseUserChanges(req);
  if (!changes.ok()) return SendError(req, res, changes.status());
  if (Status st = PatchUser(ctx, id, *changes); !st.ok()) return SendError(req, res, st);
  HandleUserGet(ctx, req, res);
}

void HandleUserDelete(Context& ctx, const Request& req, Response& res) {
  const std::string id = req.matches[1];
  const std::string purge_param = req.get_param_value("purge_attendance");
  const bool purge = purge_param == "1" || purge_param == "true";
  auto removed = DeletePerson(*ctx.store, ctx.service->data_dir(), id, purge);
  if (!removed.ok()) return SendError(req, res, removed.status());
  ctx.service->ForgetPerson(id);
  SendJson(res, 200,
           {{"deleted", id}, {"embeddings", removed->embeddings}, {"attendance_purged", purge}});
}

void HandleThumbnail(Context& ctx, const Request& req, Response& res) {
  const std::string id = req.matches[1];
  auto all = ctx.store->ListEmbeddings(id);
  if (!all.ok()) return SendError(req, res, all.status());
  const StoredEmbedding* best = nullptr;
  for (const auto& e : *all)
    if (!e.thumbnail_path.empty() && (!best || e.quality > best->quality)) best = &e;
  if (!best) return SendError(req, res, Status::NotFound(id + " has no thumbnail"));
  auto bytes = ReadFileBytes(ctx.service->data_dir().Absolute(best->thumbnail_path),
                             ctx.config.image.max_bytes);
  if (!bytes.ok()) return SendError(req, res, bytes.status());
  SendImage(res, std::move(*bytes));
}

void HandlePhotoList(Context& ctx, const Request& req, Response& res) {
  auto all = ctx.store->ListEmbeddings(req.matches[1]);
  if (!all.ok()) return SendError(req, res, all.status());
  json list = json::array();
  for (const auto& e : *all)
    list.push_back({{"id", e.id},
                    {"created_at", e.created_at},
                    {"quality", e.quality},
                    {"model", e.model_id},
                    {"has_image", !PhotoFile(ctx.service->data_dir(), e).empty()}});
  SendJson(res, 200, {{"photos", list}, {"count", all->size()}});
}

void HandlePhotoGet(Context& ctx, const Request& req, Response& res) {
  auto photo = FindPhoto(ctx, req);
  if (!photo.ok()) return SendError(req, res, photo.status());
  const std::string file = PhotoFile(ctx.service->data_dir(), *photo);
  if (file.empty())
    return SendError(req, res, Status::NotFound("photo " + req.matches[2].str() + " has no image"));
  auto bytes = ReadFileBytes(file, ctx.config.image.max_bytes);
  if (!bytes.ok()) return SendError(req, res, bytes.status());
  SendImage(res, std::move(*bytes));
}

void HandlePhotoDelete(Context& ctx, const Request& req, Response& res) {
  const std::string id = req.matches[1];
  int64_t eid = 0;
  try {
    eid = std::stoll(req.matches[2].str());
  } catch (...) {
    return SendError(req, res, Status::NotFound("no photo " + req.matches[2].str() + " of " + id));
  }
  auto removed = DeletePersonPhoto(*ctx.store, ctx.service->data_dir(), id, eid);
  if (!removed.ok()) return SendError(req, res, removed.status());
  // The gallery drops the embedding; the store change stands even if this fails.
  if (Status st = ctx.service->Reload(); !st.ok()) return SendError(req, res, st);
  SendJson(res, 200,
           {{"deleted", eid},
            {"employee_id", id},
            {"model", removed->model_id},
            {"created_at", removed->created_at}});
}

}  // namespace faceatt::http
