// What every subcommand file shares: the context that loads only what a command
// asks for (so `export` never loads a model), exit codes, and output helpers.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

#include "faceatt/config.h"
#include "faceatt/data_dir.h"
#include "faceatt/face_service.h"
#include "faceatt/pipeline.h"
#include "faceatt/status.h"
#include "faceatt/store.h"

namespace faceatt::cli {

// Exit codes, documented in --help and the README.
enum Exit : int {
  kExitOk = 0,
  kExitNoMatch = 1,      // ran fine, but nothing was recognised
  kExitUsage = 2,        // bad flags or configuration
  kExitBadInput = 3,     // unreadable/unusable input, unknown id
  kExitRefused = 4,      // refused by a rule (duplicate face, id taken, not confirmed)
  kExitUnavailable = 5,  // models, database or camera unusable
  kExitInternal = 10,    // a bug
};
int ExitCodeFor(const Status& status);
extern const char* const kExitCodeHelp;

struct GlobalOptions {
  std::string config_path;  // "" = $FACEATT_CONFIG or ./config.toml
  std::string data_dir;     // overrides paths.data_dir
  std::string store_url;    // overrides store.url (--store)
  int verbose = 0;
  bool quiet = false;
};

class Context {
 public:
  explicit Context(GlobalOptions options) : options_(std::move(options)) {}

  Result<Config*> config();
  Result<DataDir> data_dir();
  Result<Store*> store();
  // From now on store() creates nothing: with no database yet it opens an empty
  // one in memory (a dry run must leave the data folder as it was).
  void WriteNothing() { write_nothing_ = true; }
  Result<std::shared_ptr<const Models>> models();
  Result<FaceService*> service();  // store + models
  Result<FacePipeline*> pipeline();

  const GlobalOptions& options() const { return options_; }
  bool stdout_is_terminal() const;
  bool stdin_is_terminal() const;
  // The config file actually read ("" when none).
  const std::string& config_file() const { return config_file_; }

 private:
  GlobalOptions options_;
  std::unique_ptr<Config> config_;
  std::string config_file_;
  std::unique_ptr<Store> store_;
  bool write_nothing_ = false;
  std::shared_ptr<const Models> models_;
  std::unique_ptr<FaceService> service_;
  std::unique_ptr<FacePipeline> pipeline_;
};

// A subcommand: set-up adds its flags to `app` and returns what runs it.
using Runner = std::function<Result<int>(Context&)>;
using Setup = Runner (*)(CLI::App& app);

Runner SetupEnroll(CLI::App& app);
Runner SetupIdentify(CLI::App& app);
Runner SetupBulkEnroll(CLI::App& app);
Runner SetupUsers(CLI::App& app);
Runner SetupResetUsers(CLI::App& app);
Runner SetupFixPaths(CLI::App& app);
Runner SetupExport(CLI::App& app);
Runner SetupAttendance(CLI::App& app);
Runner SetupEval(CLI::App& app);
Runner SetupCalibrate(CLI::App& app);
Runner SetupServe(CLI::App& app);
Runner SetupReembed(CLI::App& app);
Runner SetupReport(CLI::App& app);
Runner SetupGroups(CLI::App& app);
Runner SetupImport(CLI::App& app);
Runner SetupStore(CLI::App& app);

// Formats a distance as "0.412".
std::string Fixed(double value, int digits = 3);
// Columns a UTF-8 string takes in a terminal (wcwidth: Hangul and CJK are two).
size_t DisplayWidth(const std::string& utf8);
// Pads to `width` display columns (at least one space after the text).
std::string Pad(const std::string& utf8, size_t width);

}  // namespace faceatt::cli
