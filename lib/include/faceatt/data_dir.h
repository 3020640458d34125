// The data folder: where the database, thumbnails, crops and backups live.
// Paths stored in the database are relative to it, so the folder can move.
//
// Thread safety: immutable value.
#pragma once

#include <chrono>
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

  // Removes the temporaries a killed WriteFileAtomic left under thumbnails/
  // and faces/ (`NAME.tmp.XXXXXX`) that were last written longer than `min_age` ago
  // (younger ones may belong to a write in progress in another process).
  // Best effort: returns how many were removed; unreadable folders are passed over.
  int RemoveStaleTemporaries(std::chrono::seconds min_age = kStaleTemporaryAge) const;
  // A write takes milliseconds; ten minutes leaves any live writer alone.
  static constexpr std::chrono::seconds kStaleTemporaryAge{600};

 private:
  std::string root_;
};

// True when `label` is safe as one path component: not empty, not "." or "..",
// no '/', '\\' or NUL, and no control characters.
bool IsSafePathComponent(const std::string& label);

}  // namespace faceatt
