// Config loading: a TOML file and FACEATT_* environment variables. The input is
// the file's text, optionally followed by a line "#env" and NAME=VALUE lines.
// Pass: no crash, no sanitizer report; a loaded config validates and every key
// reads back.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "faceatt/config.h"

namespace {
// Config::Load reads a file: one per fuzzing process, removed at exit.
struct ScratchFile {
  std::string path;
  ScratchFile() {
    const char* tmp = std::getenv("TMPDIR");
    path = std::string(tmp ? tmp : "/tmp") + "/faceatt-config-fuzz-" + std::to_string(::getpid()) +
           ".toml";
  }
  ~ScratchFile() { ::unlink(path.c_str()); }
};
const std::string& ConfigPath() {
  static const ScratchFile file;
  return file.path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\n#env\n");
  std::map<std::string, std::string> env;
  if (split != std::string::npos) {
    size_t start = split + 6;
    while (start < input.size()) {
      const size_t end = std::min(input.find('\n', start), input.size());
      const std::string line = input.substr(start, end - start);
      const size_t eq = line.find('=');
      if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
      start = end + 1;
    }
  }
  {
    std::ofstream out(ConfigPath(), std::ios::binary | std::ios::trunc);
    out << input.substr(0, split);
  }
  (void)faceatt::EnvironmentWarnings(env);
  auto config = faceatt::Config::Load(ConfigPath(), true, env);
  if (config.ok()) {
    if (!config->Validate().ok()) std::abort();  // Load returns only valid configs
    for (const std::string& key : faceatt::Config::Keys()) (void)config->Get(key);
  }
  return 0;
}
