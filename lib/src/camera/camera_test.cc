#include "faceatt/camera.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "camera/video_source.h"
#include "support/testing.h"

namespace faceatt {
namespace {

TEST(GuideTest, StatesAndMessages) {
  const cv::Size frame(640, 480);
  EXPECT_FALSE(CheckGuide(frame, {}, 0.18).ready);
  auto centred = CheckGuide(frame, {Box{240, 140, 400, 300}}, 0.18);
  EXPECT_TRUE(centred.ready);
  EXPECT_EQ(centred.faces[0].state, GuideState::kReady);
  EXPECT_EQ(CheckGuide(frame, {Box{300, 220, 340, 260}}, 0.18).faces[0].state,
            GuideState::kTooSmall);
  EXPECT_EQ(CheckGuide(frame, {Box{0, 0, 160, 160}}, 0.18).faces[0].state, GuideState::kOffCentre);
  auto two = CheckGuide(frame, {Box{240, 140, 400, 300}, Box{0, 0, 160, 160}}, 0.18);
  EXPECT_FALSE(two.ready);
  EXPECT_EQ(two.faces[1].state, GuideState::kSeveral);
}

// videoio as a module (video_source.h): a missing file and a file that is not
// the module are each kUnavailable with the reason; the built module reads a
// real video made from a face photo.
TEST(VideoModuleTest, MissingOrWrongModuleIsUnavailable) {
  testing::TempDir t;
  auto missing = LoadVideoModule({t.path() + "/nowhere.so", t.path() + "/neither.so"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kUnavailable);
  EXPECT_NE(missing.status().message().find(t.path() + "/neither.so"), std::string::npos)
      << missing.status().message();
  testing::WriteFile(t.path() + "/fake.so", "not a shared object");
  auto wrong = LoadVideoModule({t.path() + "/fake.so"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Code::kUnavailable);
  EXPECT_NE(wrong.status().message().find("cannot load"), std::string::npos);
}

TEST(VideoModuleTest, ReadsAVideoFile) {
  testing::TempDir t;
  cv::Mat face = cv::imread(testing::Face("lfw/Abdullah_Gul/Abdullah_Gul_0001.jpg"));
  ASSERT_FALSE(face.empty());
  const std::string video = t.path() + "/v.avi";
  {
    cv::VideoWriter w(video, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, face.size());
    ASSERT_TRUE(w.isOpened());
    for (int i = 0; i < 5; ++i) w.write(face);
  }
  auto src = OpenVideoSource(video, 1000);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  EXPECT_NEAR((*src)->Fps(), 10, 0.5);
  cv::Mat frame;
  int frames = 0;
  while ((*src)->Read(&frame)) {
    EXPECT_EQ(frame.size(), face.size());
    EXPECT_LT(cv::norm(frame, face, cv::NORM_L1) / face.total() / 3, 8) << "MJPEG keeps the photo";
    ++frames;
  }
  EXPECT_EQ(frames, 5);
  auto none = OpenVideoSource(t.path() + "/absent.avi", 1000);
  EXPECT_EQ(none.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace faceatt
