// Enrollment from a webcam: a registration session collects frames of one
// person (POST /enroll/sessions/{id}/frames), keeping the best few of each
// head pose, then enrolls the best of them (complete) through
// FaceService::Enroll, the path of POST /enroll, with its rules.
//
// Memory is bounded: at most kMaxEnrollSessions sessions (more: 503), each
// keeping at most kFramesPerPose frames of each of the kNeededPoses, and of
// a frame only a small JPEG crop around the face (at most kCropMaxSide px),
// never the whole frame. A session expires kEnrollSessionTtl after it starts
// (then 404, and its memory is freed by the next start).
//
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "faceatt/clock.h"
#include "faceatt/head_pose.h"
#include "faceatt/status.h"

namespace faceatt::http {

// Sessions open at once: a few admins enrolling; each holds at most ~0.5 MB.
inline constexpr size_t kMaxEnrollSessions = 32;
// Time to enroll one person in front of a camera, with room to spare.
inline constexpr int64_t kEnrollSessionTtlMs = 10 * 60 * 1000;
// The poses asked for, in the order the page guides through them.
inline constexpr const char* kNeededPoses[] = {"front", "left", "right", "up", "down"};
// Frames kept per pose (the sharpest): enough for a choice if one fails to
// re-detect at enrollment; more would only add memory.
inline constexpr size_t kFramesPerPose = 2;
// Frames enrolled by complete: one per pose first, then the sharpest of the rest.
inline constexpr size_t kEnrollFrames = 5;
// The kept crop: the face box grown by this factor around its centre (room for
// the detector to find the face again), at most kCropMaxSide px, JPEG quality
// kCropJpegQuality (near-lossless for the recognizer at this size).
inline constexpr double kCropScale = 2.2;
inline constexpr int kCropMaxSide = 400;
inline constexpr int kCropJpegQuality = 92;

struct EnrollFrame {
  std::string jpeg;  // the crop
  std::string pose_bucket;
  double score = 0;  // sharpness of the aligned chip: higher is better
};

struct EnrollSession {
  std::string employee_id, name, department;
  std::vector<std::string> groups;
  int64_t expires_ms = 0;
  int frames_received = 0;
  bool completing = false;  // a complete is running
  std::vector<EnrollFrame> kept;

  // The poses with at least one kept frame, in kNeededPoses order.
  std::vector<std::string> PosesDone() const;
  // Keeps `frame` if its pose has room or it beats the pose's worst frame;
  // false when it does not (duplicate_pose).
  bool Keep(EnrollFrame frame);
  // Up to kEnrollFrames frames: the best of each pose, then the best others.
  std::vector<const EnrollFrame*> Best() const;
};

class EnrollSessions {
 public:
  explicit EnrollSessions(const Clock* clock) : clock_(clock) {}
  // Opens `session` (expires_ms set here); its id (32 hex digits).
  // kUnavailable when kMaxEnrollSessions live sessions are open.
  Result<std::string> Start(EnrollSession session);
  // Runs `f` on the live session `id` under the lock; kNotFound when unknown or expired.
  Status With(const std::string& id, const std::function<Status(EnrollSession&)>& f);
  // Ends `id`; false when it was not open.
  bool Erase(const std::string& id);
  size_t size();

 private:
  void DropExpired();  // under mu_
  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, EnrollSession> sessions_;  // under mu_
};

}  // namespace faceatt::http
