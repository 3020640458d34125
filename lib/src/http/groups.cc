// GET /groups, PUT and DELETE /groups/{name}/members/{id}: who is in which group.
#include "http/auth.h"
#include "http/errors.h"
#include "http/routes.h"

namespace faceatt::http {
namespace {

// Adds or removes one person, then reloads the service's groups so scoped
// identification sees the change at once.
void ChangeMembership(Context& ctx, const Request& req, Response& res, bool member) {
  const std::string group = req.matches[1], id = req.matches[2];
  if (Status st = ctx.store->SetGroupMembership(id, group, member); !st.ok())
    return SendError(req, res, st);
  if (Status st = ctx.service->Reload(); !st.ok()) return SendError(req, res, st);
  SendJson(res, 200, {{"group", group}, {"employee_id", id}, {"member", member}});
}

}  // namespace

void HandleGroupList(Context& ctx, const Request& req, Response& res) {
  auto groups = ctx.store->ListGroups();
  if (!groups.ok()) return SendError(req, res, groups.status());
  SendJson(res, 200, {{"groups", *groups}});
}

void HandleGroupAdd(Context& ctx, const Request& req, Response& res) {
  ChangeMembership(ctx, req, res, true);
}

void HandleGroupRemove(Context& ctx, const Request& req, Response& res) {
  ChangeMembership(ctx, req, res, false);
}

}  // namespace faceatt::http
