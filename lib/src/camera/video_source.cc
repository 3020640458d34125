#include "camera/video_source.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

namespace faceatt {
namespace {

constexpr const char* kModuleFile = "libfaceatt_videoio.so";

std::vector<std::string> Candidates() {
  std::vector<std::string> out;
  // Named explicitly, it is the only place looked at.
  if (const char* env = std::getenv("FACEATT_VIDEOIO_MODULE"); env && *env) return {env};
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) out.push_back((exe.parent_path() / kModuleFile).string());
#ifdef FACEATT_VIDEOIO_MODULE_DIR
  out.push_back(std::string(FACEATT_VIDEOIO_MODULE_DIR) + "/" + kModuleFile);
#endif
  return out;
}

}  // namespace

Result<OpenVideoSourceFn> LoadVideoModule(const std::vector<std::string>& paths) {
  std::string looked;
  for (const auto& path : paths) {
    if (!std::filesystem::exists(path)) {
      looked += (looked.empty() ? "" : ", ") + path;
      continue;
    }
    // Kept loaded for the life of the process.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = dlerror();
      return Status::Unavailable("cannot load " + path + ": " + (why ? why : "unknown error"));
    }
    auto open = reinterpret_cast<OpenVideoSourceFn>(dlsym(handle, kOpenVideoSourceSymbol));
    if (!open) return Status::Unavailable(path + " has no " + kOpenVideoSourceSymbol);
    return open;
  }
  return Status::Unavailable(std::string("video support module ") + kModuleFile +
                             " not found (looked at " + looked +
                             "); it is built beside the faceatt binary");
}

Result<std::unique_ptr<VideoSource>> OpenVideoSource(const std::string& source,
                                                     int stream_timeout_ms) {
  static const Result<OpenVideoSourceFn> module = LoadVideoModule(Candidates());
  if (!module.ok()) return module.status();
  std::string error;
  std::unique_ptr<VideoSource> src((*module)(source.c_str(), stream_timeout_ms, &error));
  if (!src) return Status::Unavailable(error.empty() ? "cannot open" : error);
  return src;
}

}  // namespace faceatt
