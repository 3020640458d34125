// faceatt reset-users: delete every person (attendance is kept), after a backup.
#include <iostream>

#include "command.h"
#include "faceatt/maintenance.h"

namespace faceatt::cli {

Runner SetupResetUsers(CLI::App& app) {
  struct Options {
    bool yes = false, no_backup = false;
  };
  auto o = std::make_shared<Options>();
  app.add_flag("--yes,-y", o->yes,
               "Do not ask for confirmation (required when stdin is not a terminal)");
  app.add_flag("--no-backup", o->no_backup, "Skip the database backup into data/backups/");
  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Store* store, ctx.store());
    FACEATT_ASSIGN_OR_RETURN(DataDir data, ctx.data_dir());
    FACEATT_ASSIGN_OR_RETURN(int64_t people, store->CountUsers());
    FACEATT_ASSIGN_OR_RETURN(int64_t embeddings, store->CountEmbeddings());
    if (!o->yes) {
      if (!ctx.stdin_is_terminal())
        return Status::Conflict("refusing to delete " + std::to_string(people) +
                                " people without confirmation: pass --yes");
      std::cerr << "Delete all " << people << " people and " << embeddings
                << " embeddings, their thumbnails and crops? Attendance is kept"
                << (o->no_backup ? "" : "; the database is backed up first")
                << ". Type 'yes': " << std::flush;
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "yes" && answer != "y")
        return Status::Conflict("not confirmed; nothing deleted");
    }
    SystemClock clock;
    FACEATT_ASSIGN_OR_RETURN(ResetResult r, ResetUsers(*store, data, !o->no_backup, clock));
    if (!r.backup.empty()) std::cout << "backup: " << r.backup << "\n";
    std::cout << "deleted " << r.people << " people, " << r.embeddings << " embeddings, "
              << r.files_removed << " thumbnail and crop files; attendance kept\n";
    return kExitOk;
  };
}

}  // namespace faceatt::cli
