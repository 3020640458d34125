// faceatt store copy --from URL --to URL [--force]: moves a whole store to
// another backend (SQLite <-> PostgreSQL) and verifies it (store_copy.h).
#include <filesystem>
#include <iostream>

#include "command.h"
#include "faceatt/postgres_store.h"
#include "faceatt/store_copy.h"

namespace faceatt::cli {

Runner SetupStore(CLI::App& app) {
  struct Options {
    std::string from, to;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  app.require_subcommand(1);
  CLI::App* copy = app.add_subcommand(
      "copy", "Copy every person, embedding, group and attendance row to another store, verified");
  copy->add_option("--from", o->from, "Source: sqlite:PATH or postgresql://user@host:port/db")
      ->required();
  copy->add_option("--to", o->to, "Destination (created or migrated as needed)")->required();
  copy->add_flag("--force", o->force, "Replace everything in a destination that holds rows");
  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Config * c, ctx.config());
    StoreOptions options;
    options.id_prefix = c->enroll.id_prefix;
    options.id_digits = c->enroll.id_digits;
    // A source that is not there is a mistake, not an empty store to create.
    if (o->from.rfind("sqlite:", 0) == 0 && !std::filesystem::exists(o->from.substr(7)))
      return Status::NotFound("no SQLite database at " + o->from.substr(7));
    if (o->from == o->to) return Status::InvalidArgument("--from and --to name the same store");
    auto open = [&](const std::string& url, const char* which) -> Result<std::unique_ptr<Store>> {
      if (url.rfind("sqlite:", 0) != 0 && url.rfind("postgres", 0) != 0)
        return Status::InvalidArgument(std::string(which) + " " + RedactUrl(url) +
                                       ": give sqlite:PATH or postgresql://user@host:port/db");
      auto s = OpenStore(url, options);
      if (!s.ok()) return s.status().WithPrefix(which);
      return s;
    };
    FACEATT_ASSIGN_OR_RETURN(auto from, open(o->from, "--from"));
    FACEATT_ASSIGN_OR_RETURN(auto to, open(o->to, "--to"));
    CopyOptions copy;
    copy.force = o->force;
    copy.progress = [](const std::string& line) { std::cerr << line << "\n"; };
    FACEATT_ASSIGN_OR_RETURN(auto tables, CopyStore(*from, *to, copy));
    std::cout << "copied " << RedactUrl(o->from) << " to " << RedactUrl(o->to)
              << " (row counts and SHA-256 checksums verified)\n";
    for (const auto& t : tables)
      std::cout << "  " << Pad(t.name, 18) << Pad(std::to_string(t.rows), 8)
                << t.sha256.substr(0, 16) << "\n";
    return kExitOk;
  };
}

}  // namespace faceatt::cli
