#include "vision/landmarks.h"

#include <dlib/image_processing/frontal_face_detector.h>
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "faceatt/image.h"
#include "faceatt/pipeline.h"
#include "support/testing.h"

namespace faceatt::vision {
namespace {

// PredictShape finds dlib's 68 points exactly, on every face HOG finds in real
// portraits and group photos, and on boxes that stick out of the image.
TEST(LandmarksTest, SameLandmarksAsDlibOnRealFaces) {
  auto files = ResolveModelFiles(testing::TestConfig());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  dlib::shape_predictor sp;
  ASSERT_TRUE(LoadShapePredictor(files->landmarks, "", sp).ok());
  const ShapePredictorParts parts = PartsOf(sp);
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
      const dlib::full_object_detection found = PredictShape(parts, img, box);
      ASSERT_EQ(found.num_parts(), 68u);
      EXPECT_EQ(found.get_rect(), expected.get_rect());
      for (unsigned long k = 0; k < 68; ++k) EXPECT_EQ(found.part(k), expected.part(k)) << photo;
      ++faces;
    }
  }
  EXPECT_GE(faces, 30u);
}

}  // namespace
}  // namespace faceatt::vision
