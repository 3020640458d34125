#include "faceatt/camera.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace faceatt
