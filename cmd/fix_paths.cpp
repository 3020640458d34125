// faceatt fix-paths: make the database's file references data-folder-relative
// again, find moved files, and report missing ones.
#include <iostream>

#include "command.h"
#include "faceatt/maintenance.h"

namespace faceatt::cli {

Runner SetupFixPaths(CLI::App& app) {
  auto dry_run = std::make_shared<bool>(false);
  app.add_flag("--dry-run", *dry_run, "Print what would change, change nothing");
  return [dry_run](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Store* store, ctx.store());
    FACEATT_ASSIGN_OR_RETURN(DataDir data, ctx.data_dir());
    FACEATT_ASSIGN_OR_RETURN(FixPathsResult r, FixPaths(*store, data, *dry_run));
    int rewrite = 0, relocate = 0, missing = 0;
    const char* would = *dry_run ? "would " : "";
    for (const auto& f : r.fixes) {
      const std::string where =
          f.ref.table + "." + f.ref.column + " #" + std::to_string(f.ref.row_id);
      if (f.action == "missing") {
        ++missing;
        std::cout << "missing   " << where << "  " << f.ref.path << "\n";
      } else {
        (f.action == "rewrite" ? rewrite : relocate)++;
        std::cout << would << f.action << (f.action == "rewrite" ? "  " : " ") << where << "  "
                  << f.ref.path << " -> " << f.new_path << "\n";
      }
    }
    std::cout << r.checked << " references: " << r.ok << " fine, " << rewrite
              << (*dry_run ? " to rewrite, " : " rewritten, ") << relocate
              << (*dry_run ? " to relocate, " : " relocated, ") << missing << " missing"
              << (*dry_run ? " (dry run: nothing changed)" : "") << "\n";
    return kExitOk;
  };
}

}  // namespace faceatt::cli
