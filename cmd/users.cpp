// faceatt users list|show|rename|delete: the people in the database.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "faceatt/json.h"
#include "faceatt/maintenance.h"

namespace faceatt::cli {

Runner SetupUsers(CLI::App& app) {
  struct Options {
    std::string mode, id, name, department;
    bool json = false, purge = false;
    int recent = 10;
  };
  auto o = std::make_shared<Options>();
  app.require_subcommand(1);
  CLI::App* list = app.add_subcommand("list", "Everyone enrolled");
  list->add_flag("--json", o->json, "As a JSON array");
  list->callback([o] { o->mode = "list"; });
  CLI::App* show =
      app.add_subcommand("show", "One person: embeddings, thumbnails, recent attendance");
  show->add_option("id", o->id, "Employee id")->required();
  show->add_flag("--json", o->json, "As JSON");
  show->add_option("--recent", o->recent, "Attendance rows to show (default 10)")
      ->check(CLI::Range(0, 100000));
  show->callback([o] { o->mode = "show"; });
  CLI::App* rename = app.add_subcommand("rename", "Change a person's name (and department)");
  rename->add_option("id", o->id, "Employee id")->required();
  rename->add_option("name", o->name, "New name")->required();
  rename->add_option("--department", o->department, "New department");
  rename->callback([o] { o->mode = "rename"; });
  CLI::App* del =
      app.add_subcommand("delete", "Remove a person, their embeddings, thumbnails and crops");
  del->add_option("id", o->id, "Employee id")->required();
  del->add_flag("--purge", o->purge, "Also delete their attendance rows (kept by default)");
  del->callback([o] { o->mode = "delete"; });

  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Store * store, ctx.store());
    FACEATT_ASSIGN_OR_RETURN(DataDir data, ctx.data_dir());
    if (o->mode == "list") {
      FACEATT_ASSIGN_OR_RETURN(auto users, store->ListUsers());
      if (o->json) {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& u : users) all.push_back(UserJson(u));
        std::cout << DumpJson(all, 2) << "\n";
        return kExitOk;
      }
      std::cout << Pad("EMPLOYEE_ID", 12) << Pad("NAME", 28) << Pad("DEPARTMENT", 16)
                << Pad("EMBEDDINGS", 11) << "CREATED\n";
      for (const auto& u : users)
        std::cout << Pad(u.employee_id, 12) << Pad(u.name, 28)
                  << Pad(u.department.empty() ? "-" : u.department, 16)
                  << Pad(std::to_string(u.embeddings), 11) << u.created_at
                  << (u.active ? "" : "  (inactive)") << "\n";
      std::cout << users.size() << (users.size() == 1 ? " person\n" : " people\n");
      return kExitOk;
    }
    FACEATT_RETURN_IF_ERROR(ValidateEmployeeId(o->id).WithPrefix("bad employee id"));
    if (o->mode == "show") {
      FACEATT_ASSIGN_OR_RETURN(User u, store->GetUser(o->id));
      FACEATT_ASSIGN_OR_RETURN(auto mine, store->ListEmbeddings(u.employee_id));
      AttendanceQuery q;
      q.employee_id = o->id;
      q.limit = o->recent;
      FACEATT_ASSIGN_OR_RETURN(auto recent, o->recent > 0 ? store->QueryAttendance(q)
                                                          : Result<std::vector<AttendanceRecord>>(
                                                                std::vector<AttendanceRecord>{}));
      nlohmann::json embeddings = nlohmann::json::array(), rows = nlohmann::json::array();
      for (const auto& e : mine)
        embeddings.push_back(
            {{"id", e.id},
             {"model_id", e.model_id},
             {"source", e.source_path},
             {"thumbnail", e.thumbnail_path.empty() ? "" : data.Absolute(e.thumbnail_path)},
             {"crop", e.crop_path.empty() ? "" : data.Absolute(e.crop_path)},
             {"created_at", e.created_at}});
      for (const auto& r : recent)
        rows.push_back({{"id", r.id},
                        {"time", FormatLocal(r.ts_server_ms)},
                        {"type", r.type},
                        {"status", r.status},
                        {"reason", r.reason},
                        {"device_id", r.device_id}});
      if (o->json) {
        nlohmann::json j = UserJson(u);
        j["thumbnails"] = embeddings;
        j["recent_attendance"] = rows;
        std::cout << DumpJson(j, 2) << "\n";
        return kExitOk;
      }
      std::cout << "employee_id: " << u.employee_id << "\nname:        " << u.name
                << "\ndepartment:  " << u.department
                << "\nactive:      " << (u.active ? "yes" : "no")
                << "\ncreated:     " << u.created_at << "\nembeddings:  " << u.embeddings << "\n";
      for (const auto& e : embeddings)
        std::cout << "  " << e["model_id"].get<std::string>() << "  thumbnail "
                  << e["thumbnail"].get<std::string>() << "  from "
                  << e["source"].get<std::string>() << "\n";
      std::cout << "recent attendance:" << (rows.empty() ? " none\n" : "\n");
      for (const auto& r : recent)
        std::cout << "  " << FormatLocal(r.ts_server_ms) << "  " << Pad(r.type, 4) << r.status
                  << (r.reason.empty() ? "" : " (" + r.reason + ")")
                  << (r.device_id.empty() ? "" : "  " + r.device_id) << "\n";
      return kExitOk;
    }
    if (o->mode == "rename") {
      FACEATT_RETURN_IF_ERROR(ValidateName(o->name));
      std::optional<std::string> dept;
      if (!o->department.empty()) dept = o->department;
      FACEATT_RETURN_IF_ERROR(store->UpdateUser(o->id, o->name, dept, std::nullopt));
      FACEATT_ASSIGN_OR_RETURN(User u, store->GetUser(o->id));
      std::cout << u.employee_id << "\t" << u.name
                << (u.department.empty() ? "" : "\t" + u.department) << "\n";
      return kExitOk;
    }
    // delete
    FACEATT_ASSIGN_OR_RETURN(User u, store->GetUser(o->id));
    AttendanceQuery q;
    q.employee_id = o->id;
    FACEATT_ASSIGN_OR_RETURN(int64_t rows, store->CountAttendance(q));
    FACEATT_ASSIGN_OR_RETURN(DeletedPerson gone, DeletePerson(*store, data, o->id, o->purge));
    std::cout << "deleted " << u.employee_id << " (" << u.name << "): " << gone.embeddings
              << " embeddings, " << gone.files_removed << " files; " << rows << " attendance rows "
              << (o->purge ? "deleted" : "kept") << "\n";
    return kExitOk;
  };
}

}  // namespace faceatt::cli
