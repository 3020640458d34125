#include "vision/model_cache.h"

#include <dlib/opencv.h>
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <sstream>

#include "faceatt/image.h"
#include "faceatt/pipeline.h"
#include "support/testing.h"

namespace faceatt::vision {
namespace {

std::string LandmarkModel() {
  auto files = ResolveModelFiles(testing::TestConfig());
  EXPECT_TRUE(files.ok()) << files.status().ToString();
  return files.ok() ? files->landmarks : "";
}

std::string DlibBytes(const dlib::shape_predictor& sp) {
  std::ostringstream out;
  dlib::serialize(sp, out);
  return out.str();
}

// The cached predictor is the same object dlib loads: its own serialisation is
// byte for byte the same, and so are the landmarks it finds on a real face.
TEST(ModelCacheTest, RoundTripIsExactAndDamageIsRefused) {
  const std::string model = LandmarkModel();
  ASSERT_FALSE(model.empty());
  dlib::shape_predictor slow;
  ASSERT_TRUE(LoadShapePredictor(model, "", slow).ok());
  ASSERT_EQ(slow.num_parts(), 68u);

  const std::string raw = EncodeShapePredictor(slow, "key-1");
  dlib::shape_predictor fast;
  ASSERT_TRUE(DecodeShapePredictor(raw, "key-1", fast).ok());
  EXPECT_EQ(DlibBytes(fast), DlibBytes(slow));

  auto image = ReadImageFile(testing::Face("lfw/Al_Gore/Al_Gore_0001.jpg"), ImageLimits{});
  ASSERT_TRUE(image.ok());
  dlib::cv_image<dlib::bgr_pixel> img(*image);
  const dlib::rectangle box(70, 70, 180, 180);
  const auto a = slow(img, box), b = fast(img, box);
  for (unsigned long i = 0; i < a.num_parts(); ++i) EXPECT_EQ(a.part(i), b.part(i)) << i;

  // Another source file's key, a cut file, a flipped count: never a predictor.
  EXPECT_EQ(DecodeShapePredictor(raw, "key-2", fast).code(), Code::kNotFound);
  EXPECT_EQ(DecodeShapePredictor(raw.substr(0, raw.size() / 2), "key-1", fast).code(),
            Code::kCorruption);
  std::string flipped = raw;
  flipped[8 + 8 + 5 + 8 + 68 * 2 * 4 + 7] ^= 0x40;  // the number of cascades
  EXPECT_EQ(DecodeShapePredictor(flipped, "key-1", fast).code(), Code::kCorruption);
  EXPECT_EQ(DecodeShapePredictor("", "key-1", fast).code(), Code::kCorruption);
}

TEST(ModelCacheTest, WrittenOnFirstLoadUsedAfterAndRebuiltWhenDamaged) {
  const std::string model = LandmarkModel();
  ASSERT_FALSE(model.empty());
  testing::TempDir dir;
  const std::string cache = LandmarkCachePath(model, dir.path());
  dlib::shape_predictor first, second, third;
  ASSERT_TRUE(LoadShapePredictor(model, dir.path(), first).ok());
  const std::string written = testing::ReadFile(cache);
  ASSERT_FALSE(written.empty());
  ASSERT_TRUE(LoadShapePredictor(model, dir.path(), second).ok());
  EXPECT_EQ(DlibBytes(second), DlibBytes(first));
  // A damaged cache falls back to the model file and is written again.
  testing::WriteFile(cache, written.substr(0, 1000));
  ASSERT_TRUE(LoadShapePredictor(model, dir.path(), third).ok());
  EXPECT_EQ(DlibBytes(third), DlibBytes(first));
  EXPECT_EQ(testing::ReadFile(cache), written);
  // A file that is not a predictor is named in the error.
  testing::WriteFile(dir / "bogus.dat", "not a model");
  auto bad = LoadShapePredictor(dir / "bogus.dat", dir.path(), third);
  EXPECT_EQ(bad.code(), Code::kBadInput);
  EXPECT_NE(bad.message().find("bogus.dat"), std::string::npos);
}

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
