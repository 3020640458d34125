#include "faceatt/data_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/testing.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;

TEST(DataDirTest, RootIsAbsoluteAndNormalised) {
  EXPECT_EQ(DataDir("/srv/faceatt/data/").root(), "/srv/faceatt/data");
  EXPECT_EQ(DataDir("/srv/faceatt/./x/../data//").root(), "/srv/faceatt/data");
  EXPECT_EQ(DataDir("/").root(), "/");
  // A relative root is taken from the working directory.
  EXPECT_EQ(DataDir("data").root(), (fs::current_path() / "data").string());
}

TEST(DataDirTest, NamesItsFolders) {
  DataDir d("/srv/data");
  EXPECT_EQ(d.database(), "/srv/data/faceatt.db");
  EXPECT_EQ(d.thumbnails(), "/srv/data/thumbnails");
  EXPECT_EQ(d.faces(), "/srv/data/faces");
  EXPECT_EQ(d.backups(), "/srv/data/backups");
  EXPECT_EQ(d.captures(), "/srv/data/captures");
}

TEST(DataDirTest, RelativeInsideAbsoluteOutside) {
  DataDir d("/srv/data");
  EXPECT_EQ(d.Relative("/srv/data/thumbnails/E1/a.jpg"), "thumbnails/E1/a.jpg");
  EXPECT_EQ(d.Relative("/srv/data/faces/../thumbnails/a.jpg"), "thumbnails/a.jpg");
  // Outside the folder (including a sibling that shares its prefix): absolute.
  EXPECT_EQ(d.Relative("/srv/photos/a.jpg"), "/srv/photos/a.jpg");
  EXPECT_EQ(d.Relative("/srv/data2/a.jpg"), "/srv/data2/a.jpg");
  EXPECT_EQ(d.Relative("/srv/data/../photos/a.jpg"), "/srv/photos/a.jpg");
  EXPECT_EQ(d.Relative(""), "");
  // A relative path is taken from the working directory, not the data folder.
  DataDir here(fs::current_path().string());
  EXPECT_EQ(here.Relative("sub/a.jpg"), "sub/a.jpg");
  EXPECT_EQ(d.Relative("sub/a.jpg"), (fs::current_path() / "sub/a.jpg").string());
}

TEST(DataDirTest, AbsoluteRoundTripsRelative) {
  DataDir d("/srv/data");
  EXPECT_EQ(d.Absolute("thumbnails/E1/a.jpg"), "/srv/data/thumbnails/E1/a.jpg");
  EXPECT_EQ(d.Absolute("/srv/photos/a.jpg"), "/srv/photos/a.jpg");
  EXPECT_EQ(d.Absolute(""), "");
  for (const std::string p : {"/srv/data/faces/E2/b.png", "/elsewhere/c.jpg"})
    EXPECT_EQ(d.Absolute(d.Relative(p)), p);
  // The folder moved: stored relative paths follow it.
  EXPECT_EQ(DataDir("/mnt/new").Absolute(d.Relative("/srv/data/faces/x.jpg")),
            "/mnt/new/faces/x.jpg");
}

TEST(DataDirTest, SafePathComponents) {
  for (const std::string ok : {"EMP001", "Barack Obama", "홍길동", "a.b-c_d", "..."})
    EXPECT_TRUE(IsSafePathComponent(ok)) << ok;
  for (const std::string bad : {"", ".", "..", "a/b", "a\\b", "tab\there", "del\x7f"})
    EXPECT_FALSE(IsSafePathComponent(bad)) << bad;
  EXPECT_FALSE(IsSafePathComponent(std::string("nul\0x", 5)));
  EXPECT_TRUE(IsSafePathComponent(std::string(255, 'a')));
  EXPECT_FALSE(IsSafePathComponent(std::string(256, 'a')));
}

// Issue 12: a killed enrollment left data/thumbnails/*.jpg.tmp.* behind forever.
TEST(DataDirTest, RemovesStaleTemporariesOnly) {
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
