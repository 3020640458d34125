// faceatt: one binary, one row per subcommand. Errors become output here only:
// one line on stderr and the exit code that goes with the Status.
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "command.h"

namespace {

using faceatt::cli::Setup;

struct CommandRow {
  const char* name;
  const char* summary;
  Setup setup;
};

const CommandRow kCommands[] = {
    {"enroll", "Enroll one person from one or more photos", faceatt::cli::SetupEnroll},
    {"identify", "Name every face in one or more photos", faceatt::cli::SetupIdentify},
    {"bulk-enroll", "Enroll every person of a known_faces folder (parallel, resumable)",
     faceatt::cli::SetupBulkEnroll},
    {"reembed", "Recompute every stored embedding with the current model (after a switch)",
     faceatt::cli::SetupReembed},
    {"users", "List, show, rename or delete enrolled people", faceatt::cli::SetupUsers},
    {"reset-users", "Delete every person (attendance kept), after a backup",
     faceatt::cli::SetupResetUsers},
    {"fix-paths", "Repair the file paths the database holds", faceatt::cli::SetupFixPaths},
    {"export", "Export attendance as CSV, JSON or JSON Lines (no models loaded)",
     faceatt::cli::SetupExport},
    {"report", "Presence: today's board, a person's status, per-day summaries",
     faceatt::cli::SetupReport},
    {"groups", "List groups, put people in or take them out of one", faceatt::cli::SetupGroups},
    {"attendance", "List attendance; add, void or amend a record (audited)",
     faceatt::cli::SetupAttendance},
    {"eval", "Measure accuracy on a folder of people (temporary store)", faceatt::cli::SetupEval},
    {"calibrate", "Suggest tolerance and margin from the people enrolled",
     faceatt::cli::SetupCalibrate},
    {"import", "Import people, embeddings and attendance from the Python services (resumable)",
     faceatt::cli::SetupImport},
    {"serve", "Run the HTTP API, camera stream and webhooks (daemon)", faceatt::cli::SetupServe},
    {"store", "Copy the whole store to another backend (SQLite <-> PostgreSQL), verified",
     faceatt::cli::SetupStore},
};

void SetUpLogging(const faceatt::cli::GlobalOptions& g) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_pattern("%^%l%$: %v");
  console->set_level(g.quiet          ? spdlog::level::err
                     : g.verbose >= 2 ? spdlog::level::debug
                     : g.verbose == 1 ? spdlog::level::info
                                      : spdlog::level::warn);
  auto logger = std::make_shared<spdlog::logger>("faceatt", console);
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

// Adds the rotating log file once the configuration is known; only when a
// config file was read, so a plain `faceatt identify` in any folder leaves no logs/.
void AddFileLogging(faceatt::cli::Context& ctx) {
  auto config = ctx.config();
  if (!config.ok() || ctx.config_file().empty() || !(*config)->logging.file) return;
  const auto& l = (*config)->logging;
  try {
    std::filesystem::create_directories((*config)->paths.log_dir);
    auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        (*config)->paths.log_dir + "/faceatt.log", static_cast<size_t>(l.max_file_mb) << 20,
        static_cast<size_t>(l.max_files));
    file->set_level(spdlog::level::from_str(l.level));
    spdlog::default_logger()->sinks().push_back(file);
  } catch (const std::exception& e) {
    spdlog::warn("log file disabled: {}", e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace faceatt::cli;
  CLI::App app{"faceatt: face-recognition attendance toolkit"};
  app.footer(std::string("\n") + kExitCodeHelp);
  app.require_subcommand(1);
  app.set_version_flag("--version", FACEATT_VERSION);
  GlobalOptions g;
  app.add_option("--config", g.config_path,
                 "Configuration file (default: $FACEATT_CONFIG, else ./config.toml)");
  app.add_option("--data-dir", g.data_dir, "Data folder (overrides paths.data_dir)");
  app.add_option("--store", g.store_url,
                 "Store URL: sqlite:PATH or postgresql://user@host:port/db (overrides store.url)");
  app.add_flag("-v,--verbose", g.verbose, "More log output (-vv for debug)");
  app.add_flag("-q,--quiet", g.quiet, "Only errors on stderr");
  app.fallthrough();

  std::vector<std::pair<CLI::App*, Runner>> runners;
  for (const auto& row : kCommands) {
    CLI::App* sub = app.add_subcommand(row.name, row.summary);
    sub->footer(std::string("\n") + kExitCodeHelp);
    runners.emplace_back(sub, row.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "faceatt: " << e.what() << " (see faceatt --help)\n";
    return kExitUsage;
  }
  SetUpLogging(g);
  Context ctx(g);
  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    AddFileLogging(ctx);
    faceatt::Result<int> result = faceatt::Status::Internal("command did not run");
    try {
      result = run(ctx);
    } catch (const std::exception& e) {
      result = faceatt::Status::Internal(e.what());
    }
    if (!result.ok()) {
      spdlog::debug("{} failed: {}", sub->get_name(), result.status().ToString());
      std::cerr << "faceatt " << sub->get_name() << ": " << result.status().message() << "\n";
      return ExitCodeFor(result.status());
    }
    return *result;
  }
  return kExitUsage;
}
