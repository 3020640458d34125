#include "faceatt/data_dir.h"

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

bool IsSafePathComponent(const std::string& label) {
  if (label.empty() || label == "." || label == ".." || label.size() > 255) return false;
  for (unsigned char c : label)
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace faceatt
