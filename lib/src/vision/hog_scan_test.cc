#include "vision/hog_scan.h"

#include <dlib/opencv.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "faceatt/image.h"
#include "support/testing.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;

// Every photo in a folder of ../shared/faces, gray, no longer than 1000 px and
// small ones doubled to at least 400 px, as the pipeline sizes them.
std::vector<cv::Mat> GrayPhotos(const std::string& folder, size_t limit) {
  std::vector<std::string> paths;
  for (const auto& e : fs::recursive_directory_iterator(testing::Face(folder)))
    if (e.is_regular_file() && e.path().extension() != ".md") paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  std::vector<cv::Mat> out;
  for (size_t i = 0; i < paths.size() && out.size() < limit; i += 1 + paths.size() / limit) {
    auto image = ReadImageFile(paths[i], ImageLimits{});
    if (!image.ok()) continue;  // noface/ holds a few files that are not images
    cv::Mat gray;
    cv::cvtColor(*image, gray, cv::COLOR_BGR2GRAY);
    const int longest = std::max(gray.cols, gray.rows);
    double scale = longest > 1000 ? 1000.0 / longest : 1.0;
    while (longest * scale < 400) scale *= 2;
    if (scale != 1.0) cv::resize(gray, gray, cv::Size(), scale, scale, cv::INTER_AREA);
    out.push_back(gray);
  }
  return out;
}

// HogScanner returns dlib's detections: the same boxes from the same filters,
// in the same order, with confidences equal up to float rounding.
void ExpectSameAsDlib(const std::vector<cv::Mat>& photos, unsigned long levels, size_t& compared) {
  dlib::frontal_face_detector dlib_detector = dlib::get_frontal_face_detector();
  if (levels < dlib_detector.get_scanner().get_max_pyramid_levels()) {
    dlib::frontal_face_detector::image_scanner_type scanner;
    scanner.copy_configuration(dlib_detector.get_scanner());
    scanner.set_max_pyramid_levels(levels);
    std::vector<dlib::frontal_face_detector::feature_vector_type> weights;
    for (unsigned long i = 0; i < dlib_detector.num_detectors(); ++i)
      weights.push_back(dlib_detector.get_w(i));
    dlib_detector =
        dlib::frontal_face_detector(scanner, dlib_detector.get_overlap_tester(), weights);
  }
  HogScanner ours(dlib::get_frontal_face_detector());
  ASSERT_TRUE(ours.separable());
  for (const cv::Mat& gray : photos) {
    std::vector<dlib::rect_detection> expected;
    dlib_detector(dlib::cv_image<unsigned char>(gray), expected, 0.0);
    const auto found = ours.Detect(gray, levels);
    ASSERT_EQ(found.size(), expected.size()) << gray.cols << "x" << gray.rows;
    for (size_t i = 0; i < found.size(); ++i) {
      EXPECT_EQ(found[i].rect, expected[i].rect);
      EXPECT_EQ(found[i].weight_index, expected[i].weight_index);
      EXPECT_NEAR(found[i].detection_confidence, expected[i].detection_confidence, 1e-4);
    }
    compared += found.size();
  }
}

TEST(HogScanTest, FindsWhatDlibFindsOnRealPhotos) {
  size_t compared = 0;
  for (const char* folder : {"group", "lfw", "people/bbt", "people/web-celebs", "other", "noface"})
    ExpectSameAsDlib(GrayPhotos(folder, 25), 1000, compared);
  EXPECT_GE(compared, 100u);  // the comparison saw real faces, not only empty results
}

// The two-thread split scans the first two levels of a photo on its own.
TEST(HogScanTest, LimitsThePyramidAsDlibDoes) {
  size_t compared = 0;
  ExpectSameAsDlib(GrayPhotos("group", 15), 2, compared);
  ExpectSameAsDlib(GrayPhotos("lfw", 15), 1, compared);
  EXPECT_GE(compared, 15u);
}

// Images smaller than the detection window have no level to scan.
TEST(HogScanTest, TinyAndBlankImagesFindNothing) {
  HogScanner ours(dlib::get_frontal_face_detector());
  EXPECT_TRUE(ours.Detect(cv::Mat(40, 30, CV_8UC1, cv::Scalar(128)), 1000).empty());
  EXPECT_TRUE(ours.Detect(cv::Mat(480, 640, CV_8UC1, cv::Scalar(0)), 1000).empty());
}

}  // namespace
}  // namespace faceatt
