#include "vision/model_cache.h"

#include <dlib/opencv.h>
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "faceatt/image.h"
#include "faceatt/pipeline.h"
#include "support/testing.h"

namespace faceatt::vision {
namespace {

// The cached HOG detector finds exactly the faces dlib's built-in one finds.
TEST(ModelCacheTest, HogDetectorFromTheCacheDetectsTheSame) {
  testing::TempDir dir;
  dlib::frontal_face_detector built, cached;
  ASSERT_TRUE(LoadFrontalFaceDetector(dir.path(), built).ok());  // builds and writes
  const auto files = testing::FilesIn(dir.path());
  ASSERT_EQ(files.size(), 1u);
  ASSERT_TRUE(LoadFrontalFaceDetector(dir.path(), cached).ok());  // reads
  auto image =
      ReadImageFile(testing::Face("group/face_recognition__two_people.jpg"), ImageLimits{});
  ASSERT_TRUE(image.ok());
  cv::Mat gray;
  cv::cvtColor(*image, gray, cv::COLOR_BGR2GRAY);
  dlib::cv_image<unsigned char> img(gray);
  const auto a = built(img), b = cached(img);
  ASSERT_GE(a.size(), 2u);
  EXPECT_EQ(a, b);
  // Damaged: rebuilt and rewritten.
  const std::string whole = testing::ReadFile(files[0]);
  testing::WriteFile(files[0], whole.substr(0, whole.size() / 3));
  ASSERT_TRUE(LoadFrontalFaceDetector(dir.path(), cached).ok());
  EXPECT_EQ(cached(img), a);
  EXPECT_EQ(testing::ReadFile(files[0]), whole);
}

}  // namespace
}  // namespace faceatt::vision
