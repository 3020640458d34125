// Head pose from dlib's 68 face landmarks, by the face's own geometry (no 3D
// model fit): roll is the slope of the line through the eyes; yaw is how far
// the nose tip sits from the middle of the jaw line (points 0 and 16), and
// pitch how far it sits above or below its place on a frontal face between
// the eyes and the chin, each offset turned into an angle with the nose's
// depth in front of the jaw outline (head_pose.cc names the constants).
// Accurate to a few degrees near the front and coarser beyond about 30
// degrees: enough to guide someone to look slightly left, right, up or down.
//
// Angles in degrees, as the camera sees the person: yaw > 0 when the nose
// turns toward the image's right (the person's own left), pitch > 0 when the
// person looks up, roll > 0 when the head tilts clockwise in the image.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace faceatt {

struct HeadPose {
  double yaw = 0, pitch = 0, roll = 0;
};

// The pose of a face from its 68 landmarks (image coordinates, dlib's order);
// nullopt for another number of points (the 5-point model) or a degenerate face.
std::optional<HeadPose> EstimateHeadPose(const std::vector<cv::Point2f>& landmarks);

// The pose an enrollment asks for that `pose` shows: "front", "left",
// "right", "up" or "down" (left/right as the person turns: "left" is yaw > 0).
std::string PoseBucket(const HeadPose& pose);

}  // namespace faceatt
