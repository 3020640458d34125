// Camera: a worker thread reads frames from an OpenCV source (a device index
// like "0", a video file, or an RTSP/HTTP URL), keeps only the latest one, and
// reconnects with exponential backoff when the source fails or ends (a file is
// played again from the start). The server runs without a camera.
//
// The guide: an ellipse in the middle of the frame where the face should be.
// CheckGuide() gives each face a state (ready / too small / off-centre / several
// faces) and one message for the person; DrawOverlay() draws it (boxes green
// when ready, yellow when too small or off-centre, orange with several faces).
//
// Images are cv::Mat (8-bit BGR), the library's image type everywhere
// (image.h decodes into it, pipeline.h detects in it): a captured frame goes
// to the pipeline and the MJPEG stream shared, without a copy, and a wrapper
// type would only rename it. The guide's geometry uses cv::Size and
// cv::RotatedRect for the same reason: DrawOverlay hands them to OpenCV.
//
// Thread safety: Camera methods may be called from any thread; CheckGuide and
// DrawOverlay are pure functions.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>

#include "faceatt/config.h"
#include "faceatt/pipeline.h"

namespace faceatt {

struct CameraFrame {
  cv::Mat image;    // BGR; shared, never written after capture
  int64_t seq = 0;  // increases with every frame read
  int64_t ts_ms = 0;
};

struct CameraOptions {
  int64_t backoff_start_ms = 500;  // first reconnect delay; doubles per failure
  int64_t backoff_max_ms = 10'000;
};

struct CameraCounters {
  int64_t frames = 0;
  int64_t reconnects = 0;  // re-opens after a failure or the end of a file
  int64_t open_failures = 0;
};

class Camera {
 public:
  Camera(CameraConfig config, CameraOptions options = {});
  ~Camera();  // Stop()

  void Start();
  void Stop();
  bool connected() const { return connected_.load(); }
  const std::string& source() const { return config_.source; }
  // The latest frame (nullopt before the first one, or when the source has been
  // down for longer than a few seconds).
  std::optional<CameraFrame> Latest() const;
  // Waits (at most timeout_ms) for a frame newer than `after_seq`.
  std::optional<CameraFrame> WaitNewer(int64_t after_seq, int64_t timeout_ms) const;
  CameraCounters counters() const;

 private:
  void Loop();
  bool SleepFor(int64_t ms);  // false when stopping

  CameraConfig config_;
  CameraOptions options_;
  std::atomic<bool> connected_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stop_ = false;
  CameraFrame latest_;
  bool has_frame_ = false;
  int64_t last_frame_wall_ms_ = 0;
  CameraCounters counters_;
  std::thread thread_;
};

// ---- The guide ellipse and the overlay ----

enum class GuideState { kReady, kTooSmall, kOffCentre, kSeveral };

struct GuideFace {
  Box box;
  GuideState state = GuideState::kReady;
};

struct GuideVerdict {
  std::vector<GuideFace> faces;
  std::string message;  // "Look at the camera", "Come closer", "Move into the oval", ...
  bool ready = false;   // exactly one face, large enough, inside the ellipse
};

// The guide ellipse of a frame: centred, 0.25 of the width and 0.4 of the height
// as half-axes (a face at arm's length fits).
cv::RotatedRect GuideEllipse(const cv::Size& frame);
// True when the box's centre lies inside the ellipse.
bool InsideGuide(const cv::Size& frame, const Box& box);
// min_face: face width / frame width below which the face is too small.
GuideVerdict CheckGuide(const cv::Size& frame, const std::vector<Box>& faces, double min_face);
// Draws the ellipse, the boxes and the message on `image` (in place).
void DrawOverlay(cv::Mat& image, const GuideVerdict& verdict);

}  // namespace faceatt
