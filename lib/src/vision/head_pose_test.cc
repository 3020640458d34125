#include "faceatt/head_pose.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "support/testing.h"

namespace faceatt {
namespace {

// The 68 landmarks of the one face in `photo` (under FacesDir()), through
// faceatt's own detector and landmark model.
std::vector<cv::Point2f> LandmarksOf(FacePipeline& pipeline, const cv::Mat& image) {
  auto faces = pipeline.Analyze(image, {.embed = false});
  EXPECT_TRUE(faces.ok());
  if (!faces.ok() || faces->size() != 1) return {};
  auto points = pipeline.aligner().Landmarks(image, faces->front().box);
  EXPECT_TRUE(points.ok()) << points.status().ToString();
  return points.ok() ? *points : std::vector<cv::Point2f>{};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

TEST(HeadPoseTest, OnlySixtyEightPoints) {
  EXPECT_FALSE(EstimateHeadPose({}));
  EXPECT_FALSE(EstimateHeadPose(std::vector<cv::Point2f>(5, {10, 10})));
  EXPECT_FALSE(EstimateHeadPose(std::vector<cv::Point2f>(68, {10, 10}))) << "degenerate";
}

TEST(HeadPoseTest, BucketsByTheLargerAngle) {
  EXPECT_EQ(PoseBucket({0, 0, 0}), "front");
  EXPECT_EQ(PoseBucket({11, -9, 30}), "front");
  EXPECT_EQ(PoseBucket({20, 5, 0}), "left");
  EXPECT_EQ(PoseBucket({-20, 5, 0}), "right");
  EXPECT_EQ(PoseBucket({5, 15, 0}), "up");
  EXPECT_EQ(PoseBucket({5, -15, 0}), "down");
  EXPECT_EQ(PoseBucket({13, -15, 0}), "down") << "pitch 1.5x its limit, yaw 1.1x";
}

// On real photos: LFW's first photo of the first 40 people is mostly frontal,
// so the median yaw and pitch are near zero (this is what sets
// kFrontalNoseDrop); rotating a photo rolls it by as much; mirroring it turns
// the yaw the other way.
TEST(HeadPoseTest, RealFacesFrontalRotatedMirrored) {
  auto pipeline = testing::RealModels()->NewPipeline();
  std::vector<double> yaws, pitches;
  std::vector<std::string> people;
  for (const auto& entry : std::filesystem::directory_iterator(testing::Face("lfw")))
    people.push_back(entry.path().filename().string());
  std::sort(people.begin(), people.end());
  ASSERT_GE(people.size(), 40u);
  people.resize(40);
  for (const std::string& person : people) {
    const auto photos = testing::FilesIn(testing::Face("lfw/" + person));
    ASSERT_FALSE(photos.empty());
    auto pose = EstimateHeadPose(LandmarksOf(*pipeline, cv::imread(photos.front())));
    if (!pose) continue;
    yaws.push_back(pose->yaw);
    pitches.push_back(pose->pitch);
  }
  ASSERT_GE(yaws.size(), 35u);
  EXPECT_LT(std::abs(Median(yaws)), 5) << Median(yaws);
  EXPECT_LT(std::abs(Median(pitches)), 5) << Median(pitches);

  const cv::Mat photo = cv::imread(testing::Face("lfw/Vladimir_Putin/Vladimir_Putin_0001.jpg"));
  auto upright = EstimateHeadPose(LandmarksOf(*pipeline, photo));
  ASSERT_TRUE(upright);
  cv::Mat rotated;
  const cv::Mat turn = cv::getRotationMatrix2D(cv::Point2f(photo.cols / 2.f, photo.rows / 2.f), -15,
                                               1.0);  // clockwise in the image
  cv::warpAffine(photo, rotated, turn, photo.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  auto tilted = EstimateHeadPose(LandmarksOf(*pipeline, rotated));
  ASSERT_TRUE(tilted);
  EXPECT_NEAR(tilted->roll - upright->roll, 15, 3);
  EXPECT_NEAR(tilted->yaw, upright->yaw, 4);
  cv::Mat mirrored;
  cv::flip(photo, mirrored, 1);
  auto flipped = EstimateHeadPose(LandmarksOf(*pipeline, mirrored));
  ASSERT_TRUE(flipped);
  EXPECT_NEAR(flipped->yaw, -upright->yaw, 3);
  EXPECT_NEAR(flipped->roll, -upright->roll, 2);
  EXPECT_NEAR(flipped->pitch, upright->pitch, 3);
}

}  // namespace
}  // namespace faceatt
