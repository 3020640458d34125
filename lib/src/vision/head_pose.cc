#include "faceatt/head_pose.h"

#include <cmath>

namespace faceatt {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegrees = 180.0 / kPi;

// The nose tip's depth in front of the jaw outline (points 0 and 16, near the
// ears), as a share of half the jaw width: about one (~70 mm each). A rough
// calibration, not a fit against measured poses: with it the nose offsets of
// LFW's photos (up to 0.66 half-widths) read as turns of at most ~35 degrees.
constexpr double kNoseDepthRatio = 1.0;
// On a frontal face the nose tip sits this share of the way from the eye line
// down to the chin: the median (0.279) over the first photo of the first 40
// LFW people through faceatt's own landmarks (head_pose_test.cc checks that
// their median pitch is near zero).
constexpr double kFrontalNoseDrop = 0.28;
// Beyond these angles an enrollment frame counts as turned (left/right) or
// tilted (up/down): far enough to differ from the front for the recognizer,
// near enough for the landmarks and the face detector to still hold.
constexpr double kTurnedYawDegrees = 12;
constexpr double kTiltedPitchDegrees = 10;

// dlib's 68-point order.
constexpr int kJawRight = 0, kJawLeft = 16, kChin = 8, kNoseTip = 30;
constexpr int kRightEyeFirst = 36, kLeftEyeFirst = 42, kEyePoints = 6;

cv::Point2d Mean(const std::vector<cv::Point2f>& p, int first, int count) {
  cv::Point2d sum(0, 0);
  for (int i = first; i < first + count; ++i) sum += cv::Point2d(p[i].x, p[i].y);
  return sum * (1.0 / count);
}

}  // namespace

std::optional<HeadPose> EstimateHeadPose(const std::vector<cv::Point2f>& landmarks) {
  if (landmarks.size() != 68) return std::nullopt;
  const cv::Point2d eye_r = Mean(landmarks, kRightEyeFirst, kEyePoints);
  const cv::Point2d eye_l = Mean(landmarks, kLeftEyeFirst, kEyePoints);
  const cv::Point2d eyes = eye_l - eye_r;
  const double eye_dist = std::hypot(eyes.x, eyes.y);
  if (eye_dist < 1) return std::nullopt;
  HeadPose pose;
  pose.roll = std::atan2(eyes.y, eyes.x) * kDegrees;
  // Into the face's own frame: x along the eye line, y down the face.
  const double c = eyes.x / eye_dist, s = eyes.y / eye_dist;
  const cv::Point2d origin = (eye_l + eye_r) * 0.5;
  auto local = [&](cv::Point2d p) {
    p -= origin;
    return cv::Point2d(p.x * c + p.y * s, -p.x * s + p.y * c);
  };
  const cv::Point2d jaw_r = local(landmarks[kJawRight]), jaw_l = local(landmarks[kJawLeft]);
  const cv::Point2d nose = local(landmarks[kNoseTip]), chin = local(landmarks[kChin]);
  const double half_width = (jaw_l.x - jaw_r.x) / 2;
  const double face_drop = chin.y;  // eye line to chin
  if (half_width < 1 || face_drop < 1) return std::nullopt;
  const double depth = kNoseDepthRatio * half_width;
  const double sideways = nose.x - (jaw_l.x + jaw_r.x) / 2;
  pose.yaw = std::atan2(sideways, depth) * kDegrees;
  const double upward = (kFrontalNoseDrop - nose.y / face_drop) * face_drop;
  pose.pitch = std::atan2(upward, depth) * kDegrees;
  return pose;
}

std::string PoseBucket(const HeadPose& pose) {
  const double yaw = std::abs(pose.yaw) / kTurnedYawDegrees;
  const double pitch = std::abs(pose.pitch) / kTiltedPitchDegrees;
  if (yaw < 1 && pitch < 1) return "front";
  if (yaw >= pitch) return pose.yaw > 0 ? "left" : "right";
  return pose.pitch > 0 ? "up" : "down";
}

}  // namespace faceatt
