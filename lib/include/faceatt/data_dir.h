// The data folder: where the database, thumbnails, crops and backups live.
// Paths stored in the database are relative to it, so the folder can move.
//
// Thread safety: immutable value.
#pragma once

#include <string>

namespace faceatt {

class DataDir {
 public:
  explicit DataDir(std::string root);  // made absolute
  const std::string& root() const { return root_; }
  std::string database() const { return root_ + "/faceatt.db"; }
  std::string thumbnails() const { return root_ + "/thumbnails"; }
  std::string faces() const { return root_ + "/faces"; }
  std::string backups() const { return root_ + "/backups"; }
  std::string captures() const { return root_ + "/captures"; }

  // `path` relative to the root when it lies inside it, else absolute.
  std::string Relative(const std::string& path) const;
  // A stored path made absolute (relative ones are taken from the root).
  std::string Absolute(const std::string& stored) const;

 private:
  std::string root_;
};

// True when `label` is safe as one path component: not empty, not "." or "..",
// no '/', '\\' or NUL, and no control characters.
bool IsSafePathComponent(const std::string& label);

}  // namespace faceatt
