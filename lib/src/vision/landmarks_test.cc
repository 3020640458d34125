#include "vision/landmarks.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "faceatt/image.h"
#include "faceatt/pipeline.h"
#include "support/testing.h"
#include "vision/model_cache.h"

namespace faceatt::vision {
namespace {

std::string ModelPath() {
  auto files = ResolveModelFiles(testing::TestConfig());
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  return files.ok() ? files->landmarks : "";
}

// The flat model finds dlib's 68 points exactly, on every face HOG finds in
// real portraits and group photos, and on boxes that stick out of the image;
// both from the bytes in memory and mapped from the cache file.
TEST(LandmarksTest, SameLandmarksAsDlibOnRealFaces) {
  const std::string path = ModelPath();
  ASSERT_FALSE(path.empty());
  dlib::shape_predictor sp;
  ASSERT_TRUE(LoadShapePredictor(path, sp).ok());
  testing::TempDir cache;
  auto in_memory = LandmarkModel::Load(path, "");
  ASSERT_TRUE(in_memory.ok()) << in_memory.status().ToString();
  ASSERT_TRUE(LandmarkModel::Load(path, cache.path()).ok());  // writes the cache
  auto mapped = LandmarkModel::Load(path, cache.path());      // maps it
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  ASSERT_EQ((*mapped)->num_parts(), 68u);
  dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();

  std::vector<std::string> photos = testing::FilesIn(testing::Face("group"));
  photos.resize(std::min<size_t>(photos.size(), 8));
  for (const char* person :
       {"lfw/George_W_Bush", "lfw/David_Stern", "people/informramiz/s1_ramiz_raja"}) {
    auto more = testing::FilesIn(testing::Face(person));
    for (size_t i = 0; i < more.size() && i < 4; ++i) photos.push_back(more[i]);
  }
  size_t faces = 0;
  for (const auto& photo : photos) {
    auto image = ReadImageFile(photo, ImageLimits{});
    if (!image.ok()) continue;  // a sub-folder
    cv::Mat bgr = *image;
    if (std::max(bgr.cols, bgr.rows) > 1200) {
      const double s = 1200.0 / std::max(bgr.cols, bgr.rows);
      cv::resize(*image, bgr, cv::Size(), s, s, cv::INTER_AREA);
    }
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    dlib::cv_image<dlib::bgr_pixel> img(bgr);
    std::vector<dlib::rectangle> boxes = detector(dlib::cv_image<unsigned char>(gray));
    // A box half outside the image: landmarks sample pixels that are not there.
    boxes.push_back(dlib::rectangle(-bgr.cols / 4, -bgr.rows / 4, bgr.cols / 3, bgr.rows / 3));
    for (const auto& box : boxes) {
      const dlib::full_object_detection expected = sp(img, box);
      for (const auto* model : {&*in_memory, &*mapped}) {
        const dlib::full_object_detection found = (*model)->Predict(img, box);
        ASSERT_EQ(found.num_parts(), 68u);
        EXPECT_EQ(found.get_rect(), expected.get_rect());
        for (unsigned long k = 0; k < 68; ++k) EXPECT_EQ(found.part(k), expected.part(k)) << photo;
      }
      ++faces;
    }
  }
  EXPECT_GE(faces, 30u);
}

// Another source file's key, a cut file, a flipped count, nothing: never a model.
TEST(LandmarksTest, DamagedOrForeignFlatBytesAreRefused) {
  dlib::shape_predictor sp;
  ASSERT_TRUE(LoadShapePredictor(ModelPath(), sp).ok());
  const std::string flat = LandmarkModel::Flatten(sp, "key-1");
  ASSERT_FALSE(flat.empty());
  ASSERT_TRUE(LandmarkModel::FromBytes(flat, "key-1").ok());
  EXPECT_EQ(LandmarkModel::FromBytes(flat, "key-2").status().code(), Code::kNotFound);
  EXPECT_EQ(LandmarkModel::FromBytes(flat.substr(0, flat.size() / 2), "key-1").status().code(),
            Code::kCorruption);
  EXPECT_EQ(LandmarkModel::FromBytes(flat.substr(0, flat.size() - 1), "key-1").status().code(),
            Code::kCorruption);
  std::string flipped = flat;
  flipped[8 + 8 + 8 + 7] ^= 0x40;  // the number of cascades
  EXPECT_EQ(LandmarkModel::FromBytes(flipped, "key-1").status().code(), Code::kCorruption);
  EXPECT_EQ(LandmarkModel::FromBytes("", "key-1").status().code(), Code::kCorruption);
}

TEST(LandmarksTest, CacheWrittenOnFirstLoadUsedAfterAndRebuiltWhenDamaged) {
  const std::string path = ModelPath();
  ASSERT_FALSE(path.empty());
  testing::TempDir dir;
  const std::string cache = LandmarkCachePath(path, dir.path());
  ASSERT_TRUE(LandmarkModel::Load(path, dir.path()).ok());
  const std::string written = testing::ReadFile(cache);
  ASSERT_FALSE(written.empty());
  ASSERT_TRUE(LandmarkModel::Load(path, dir.path()).ok());
  // A damaged cache falls back to the model file and is written again.
  testing::WriteFile(cache, written.substr(0, 1000));
  ASSERT_TRUE(LandmarkModel::Load(path, dir.path()).ok());
  EXPECT_EQ(testing::ReadFile(cache), written);
  // A file that is not a predictor is named in the error; a missing one is not found.
  testing::WriteFile(dir / "bogus.dat", "not a model");
  auto bad = LandmarkModel::Load(dir / "bogus.dat", dir.path());
  EXPECT_EQ(bad.status().code(), Code::kBadInput);
  EXPECT_NE(bad.status().message().find("bogus.dat"), std::string::npos);
  EXPECT_EQ(LandmarkModel::Load(dir / "missing.dat", dir.path()).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace faceatt::vision
