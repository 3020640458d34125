#include "faceatt/data_dir.h"

#include <cctype>
#include <filesystem>

namespace faceatt {
namespace fs = std::filesystem;

DataDir::DataDir(std::string root) {
  std::error_code ec;
  fs::path p = fs::absolute(root, ec);
  root_ = (ec ? fs::path(root) : p).lexically_normal().string();
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string DataDir::Relative(const std::string& path) const {
  if (path.empty()) return path;
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec).lexically_normal();
  const fs::path rel = abs.lexically_relative(root_);
  if (!rel.empty() && *rel.begin() != "..") return rel.string();
  return abs.string();
}

std::string DataDir::Absolute(const std::string& stored) const {
  if (stored.empty() || stored[0] == '/') return stored;
  return (fs::path(root_) / stored).lexically_normal().string();
}

namespace {
// WriteFileAtomic's temporaries: the target name, ".tmp.", six mkstemp characters.
bool IsAtomicTemporary(const std::string& name) {
  const size_t dot = name.rfind(".tmp.");
  if (dot == std::string::npos || dot == 0 || name.size() - dot != 11) return false;
  for (size_t i = dot + 5; i < name.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(name[i]))) return false;
  return true;
}
}  // namespace

int DataDir::RemoveStaleTemporaries(std::chrono::seconds min_age) const {
  const auto cutoff = fs::file_time_type::clock::now() - min_age;
  int removed = 0;
  // Only the folders faceatt writes image files into; the root may be shared.
  for (const std::string& dir : {thumbnails(), faces()}) {
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code entry_ec;
      if (!it->is_regular_file(entry_ec) || !IsAtomicTemporary(it->path().filename().string()))
        continue;
      const auto written = it->last_write_time(entry_ec);
      if (!entry_ec && written < cutoff && fs::remove(it->path(), entry_ec)) ++removed;
    }
  }
  return removed;
}

bool IsSafePathComponent(const std::string& label) {
  if (label.empty() || label == "." || label == ".." || label.size() > 255) return false;
  for (unsigned char c : label)
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace faceatt
