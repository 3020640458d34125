#include "faceatt/evidence.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "faceatt/image.h"
#include "support/photos.h"
#include "support/testing.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;

void Age(const std::string& path, std::chrono::hours by) {
  fs::last_write_time(path, fs::file_time_type::clock::now() - by);
}

TEST(Evidence, KeepsADecodableCropUnderTheAttemptsDayFolder) {
  testing::TempDir t;
  const DataDir data(t.path());
  auto image = ReadImageFile(testing::Face(testing::photos::kObamaA), {});
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  const Box box{image->cols / 4, image->rows / 4, image->cols / 2, image->rows / 2};
  auto ref = KeepAttemptPhoto(data, *image, box, *ParseTimestamp("2026-11-21T08:30:00Z"));
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->rfind("attempts/" + LocalDate(*ParseTimestamp("2026-11-21T08:30:00Z")) + "/", 0),
            0u)
      << *ref;
  const cv::Mat kept = cv::imread(t.path() + "/" + *ref);
  ASSERT_FALSE(kept.empty());
  // The box with a quarter of its size as margin on each side, inside the image.
  EXPECT_GT(kept.cols, box.width());
  EXPECT_LE(kept.cols, image->cols);
  auto file = AttemptPhotoFile(data, *ref);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  // Two attempts in the same millisecond get two files.
  auto again = KeepAttemptPhoto(data, *image, box, *ParseTimestamp("2026-11-21T08:30:00Z"));
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *ref);
  EXPECT_EQ(KeepAttemptPhoto(data, *image, Box{-50, -50, -10, -10}, 0).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(KeepAttemptPhoto(data, cv::Mat(), box, 0).status().code(), Code::kInvalidArgument);
}

TEST(Evidence, RefsOutsideTheAttemptsFolderAreNotFound) {
  testing::TempDir t;
  const DataDir data(t.path());
  testing::WriteFile(t.path() + "/faceatt.db", "not a photo");
  fs::create_directories(t.path() + "/attempts/2026-11-21");
  // A link planted inside attempts/ leading out of it.
  fs::create_symlink(t.path() + "/faceatt.db", t.path() + "/attempts/2026-11-21/link.jpg");
  for (const std::string ref :
       {"", "../../etc/passwd", "/etc/passwd", "faceatt.db", "attempts/../faceatt.db",
        "attempts/2026-11-21/link.jpg", "attempts/2026-11-21/gone.jpg"})
    EXPECT_EQ(AttemptPhotoFile(data, ref).status().code(), Code::kNotFound) << ref;
  EXPECT_NE(AttemptPhotoFile(data, "attempts/2026-11-21/gone.jpg")
                .status()
                .message()
                .find("photo no longer kept"),
            std::string::npos);
}

TEST(Evidence, SweepDeletesOnlyOldFilesInsideTheAttemptsFolder) {
  testing::TempDir t;
  const DataDir data(t.path());
  EXPECT_EQ(*SweepAttemptPhotos(data, 90), 0);  // nothing kept yet
  auto image = ReadImageFile(testing::Face(testing::photos::kObamaA), {});
  ASSERT_TRUE(image.ok());
  const Box box{0, 0, image->cols / 2, image->rows / 2};
  auto old_ref = KeepAttemptPhoto(data, *image, box, *ParseTimestamp("2026-08-01T08:00:00Z"));
  auto new_ref = KeepAttemptPhoto(data, *image, box, *ParseTimestamp("2026-11-21T08:00:00Z"));
  ASSERT_TRUE(old_ref.ok() && new_ref.ok());
  const std::string old_file = t.path() + "/" + *old_ref, new_file = t.path() + "/" + *new_ref;
  Age(old_file, std::chrono::hours(24 * 91));
  Age(new_file, std::chrono::hours(24 * 89));
  // Old files outside attempts/ stay, a link's target too.
  const std::string outside = t.path() + "/faceatt.db";
  testing::WriteFile(outside, "database");
  Age(outside, std::chrono::hours(24 * 400));
  const std::string link = t.path() + "/attempts/link.jpg";
  fs::create_symlink(outside, link);

  EXPECT_EQ(*SweepAttemptPhotos(data, 0), 0);  // 0 keeps forever
  EXPECT_TRUE(fs::exists(old_file));
  EXPECT_EQ(SweepAttemptPhotos(data, -1).status().code(), Code::kInvalidArgument);

  auto removed = SweepAttemptPhotos(data, 90);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2);  // the old photo and the link
  EXPECT_FALSE(fs::exists(old_file));
  EXPECT_FALSE(fs::exists(fs::path(old_file).parent_path()));  // its emptied day folder
  EXPECT_FALSE(fs::is_symlink(link));
  EXPECT_TRUE(fs::exists(new_file));
  EXPECT_EQ(testing::ReadFile(outside), "database");
  EXPECT_TRUE(fs::exists(t.path() + "/attempts"));
}

}  // namespace
}  // namespace faceatt
