// faceatt groups list|add|remove: the groups people belong to (a class, a department).
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "faceatt/json.h"

namespace faceatt::cli {

Runner SetupGroups(CLI::App& app) {
  struct Options {
    std::string mode, group;
    std::vector<std::string> ids;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  app.require_subcommand(1);
  CLI::App* list = app.add_subcommand("list", "Every group and its members");
  list->add_flag("--json", o->json, "As a JSON object {group: [ids]}");
  list->callback([o] { o->mode = "list"; });
  for (const char* verb : {"add", "remove"}) {
    CLI::App* sub = app.add_subcommand(verb, verb[0] == 'a' ? "Put people in a group (creating it)"
                                                            : "Take people out of a group");
    sub->add_option("group", o->group, "Group name")->required();
    sub->add_option("ids", o->ids, "Employee ids")->required();
    sub->callback([o, verb] { o->mode = verb; });
  }
  return [o](Context& ctx) -> Result<int> {
    if (o->mode == "list") ctx.WriteNothing();
    FACEATT_ASSIGN_OR_RETURN(Store * store, ctx.store());
    if (o->mode != "list") {
      // Every id first, so a typo changes nothing.
      for (const auto& id : o->ids) FACEATT_RETURN_IF_ERROR(store->GetUser(id).status());
      for (const auto& id : o->ids)
        FACEATT_RETURN_IF_ERROR(store->SetGroupMembership(id, o->group, o->mode == "add"));
    }
    FACEATT_ASSIGN_OR_RETURN(auto groups, store->ListGroups());
    if (o->json) {
      std::cout << DumpJson(nlohmann::json(groups), 2) << "\n";
      return kExitOk;
    }
    for (const auto& [name, ids] : groups) {
      if (o->mode != "list" && name != o->group) continue;
      std::cout << Pad(name, 16) << ids.size() << (ids.size() == 1 ? " person: " : " people: ");
      for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
      std::cout << "\n";
    }
    return kExitOk;
  };
}

}  // namespace faceatt::cli
