#include "faceatt/data_dir.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/testing.h"

namespace faceatt {
namespace {
namespace fs = std::filesystem;

// Issue 12: a killed enrollment left data/thumbnails/*.jpg.tmp.* behind forever.
TEST(DataDir, RemovesStaleTemporariesOnly) {
  testing::TempDir t;
  DataDir dir(t / "data");
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  auto make = [&](const std::string& path, bool stale) {
    fs::create_directories(fs::path(path).parent_path());
    testing::WriteFile(path, "");
    if (stale) fs::last_write_time(path, old);
  };
  make(dir.thumbnails() + "/EMP0001_1.jpg.tmp.a1B2c3", true);   // killed write: removed
  make(dir.faces() + "/alice/photo.png.tmp.Zz9yY8", true);      // killed write: removed
  make(dir.thumbnails() + "/EMP0002_1.jpg.tmp.q1W2e3", false);  // being written: kept
  make(dir.thumbnails() + "/EMP0001_1.jpg", true);              // a thumbnail: kept
  make(dir.thumbnails() + "/notes.tmp.txt", true);              // not ours: kept
  make(dir.root() + "/config.toml.tmp.a1B2c3", true);           // outside thumbnails/faces: kept
  EXPECT_EQ(dir.RemoveStaleTemporaries(), 2);
  EXPECT_FALSE(fs::exists(dir.thumbnails() + "/EMP0001_1.jpg.tmp.a1B2c3"));
  EXPECT_FALSE(fs::exists(dir.faces() + "/alice/photo.png.tmp.Zz9yY8"));
  for (const std::string kept :
       {dir.thumbnails() + "/EMP0002_1.jpg.tmp.q1W2e3", dir.thumbnails() + "/EMP0001_1.jpg",
        dir.thumbnails() + "/notes.tmp.txt", dir.root() + "/config.toml.tmp.a1B2c3"})
    EXPECT_TRUE(fs::exists(kept)) << kept;
  EXPECT_EQ(dir.RemoveStaleTemporaries(), 0);
  EXPECT_EQ(DataDir(t / "missing").RemoveStaleTemporaries(), 0);
}

}  // namespace
}  // namespace faceatt
