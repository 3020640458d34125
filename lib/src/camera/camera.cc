#include "faceatt/camera.h"

#include "camera/video_source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <opencv2/imgproc.hpp>

namespace faceatt {
namespace {
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// A frame older than this (source down) is not served as "latest".
constexpr int64_t kStaleFrameMs = 5000;
}  // namespace

Camera::Camera(CameraConfig config, CameraOptions options)
    : config_(std::move(config)), options_(options) {}

Camera::~Camera() { Stop(); }

void Camera::Start() {
  if (thread_.joinable() || config_.source.empty()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void Camera::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  connected_ = false;
}

std::optional<CameraFrame> Camera::Latest() const {
  std::lock_guard lock(mu_);
  if (!has_frame_ || WallMs() - last_frame_wall_ms_ > kStaleFrameMs) return std::nullopt;
  return latest_;
}

std::optional<CameraFrame> Camera::WaitNewer(int64_t after_seq, int64_t timeout_ms) const {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
               [&] { return stop_ || (has_frame_ && latest_.seq > after_seq); });
  if (!has_frame_ || latest_.seq <= after_seq) return std::nullopt;
  return latest_;
}

CameraCounters Camera::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

bool Camera::SleepFor(int64_t ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_; });
  return !stop_;
}

namespace {
constexpr int kStreamTimeoutMs = 5000;
}  // namespace

void Camera::Loop() {
  const bool is_index =
      !config_.source.empty() && std::all_of(config_.source.begin(), config_.source.end(),
                                             [](unsigned char c) { return std::isdigit(c); });
  // Live streams (rtsp://, http://) arrive at their own pace: reading them as
  // fast as they come keeps the latest frame the newest. Files are paced.
  const bool is_url = config_.source.find("://") != std::string::npos;
  int64_t backoff = options_.backoff_start_ms;
  bool first_open = true;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    auto opened = OpenVideoSource(config_.source, kStreamTimeoutMs);
    if (!first_open) {
      std::lock_guard lock(mu_);
      ++counters_.reconnects;
    }
    first_open = false;
    if (!opened.ok()) {
      {
        std::lock_guard lock(mu_);
        ++counters_.open_failures;
      }
      spdlog::warn("camera {}: {}; retrying in {} ms", config_.source, opened.status().message(),
                   backoff);
      if (!SleepFor(backoff)) return;
      backoff = std::min(backoff * 2, options_.backoff_max_ms);
      continue;
    }
    std::unique_ptr<VideoSource> cap = std::move(opened).value();
    spdlog::info("camera {}: opened", config_.source);
    // Files play at their own rate (or the stream FPS), not as fast as they decode.
    double fps = cap->Fps();
    if (!(fps > 0 && fps < 240)) fps = config_.fps > 0 ? config_.fps : 20;
    const int64_t frame_ms = is_index || is_url ? 0 : static_cast<int64_t>(1000.0 / fps);
    bool got_any = false;
    for (;;) {
      cv::Mat frame;
      if (!cap->Read(&frame)) {
        if (!cap->error().empty()) spdlog::warn("camera {}: {}", config_.source, cap->error());
        break;
      }
      got_any = true;
      connected_ = true;
      backoff = options_.backoff_start_ms;
      {
        std::lock_guard lock(mu_);
        latest_.image = frame;  // a new Mat each read: readers keep their own reference
        ++latest_.seq;
        latest_.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
        has_frame_ = true;
        last_frame_wall_ms_ = WallMs();
        ++counters_.frames;
      }
      cv_.notify_all();
      if (frame_ms > 0 && !SleepFor(frame_ms)) return;
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    connected_ = false;
    spdlog::warn("camera {}: source ended or failed; reconnecting in {} ms", config_.source,
                 backoff);
    if (!SleepFor(got_any ? options_.backoff_start_ms : backoff)) return;
    if (!got_any) backoff = std::min(backoff * 2, options_.backoff_max_ms);
  }
}

cv::RotatedRect GuideEllipse(const cv::Size& frame) {
  return cv::RotatedRect(cv::Point2f(frame.width / 2.0f, frame.height / 2.0f),
                         cv::Size2f(frame.width * 0.5f, frame.height * 0.8f), 0);
}

bool InsideGuide(const cv::Size& frame, const Box& box) {
  const double cx = (box.left + box.right) / 2.0, cy = (box.top + box.bottom) / 2.0;
  const double ax = frame.width * 0.25, ay = frame.height * 0.4;
  if (ax <= 0 || ay <= 0) return false;
  const double dx = (cx - frame.width / 2.0) / ax, dy = (cy - frame.height / 2.0) / ay;
  return dx * dx + dy * dy <= 1.0;
}

GuideVerdict CheckGuide(const cv::Size& frame, const std::vector<Box>& faces, double min_face) {
  GuideVerdict v;
  if (faces.empty()) {
    v.message = "Look at the camera";
    return v;
  }
  if (faces.size() > 1) {
    for (const auto& b : faces) v.faces.push_back({b, GuideState::kSeveral});
    v.message = "One person at a time";
    return v;
  }
  GuideFace f{faces[0], GuideState::kReady};
  if (frame.width > 0 && faces[0].width() < min_face * frame.width) {
    f.state = GuideState::kTooSmall;
    v.message = "Come closer";
  } else if (!InsideGuide(frame, faces[0])) {
    f.state = GuideState::kOffCentre;
    v.message = "Move into the oval";
  } else {
    v.ready = true;
    v.message = "Hold still";
  }
  v.faces.push_back(f);
  return v;
}

void DrawOverlay(cv::Mat& image, const GuideVerdict& verdict) {
  if (image.empty()) return;
  const cv::Scalar kGreen(0, 200, 0), kYellow(0, 220, 255), kOrange(0, 140, 255),
      kWhite(255, 255, 255);
  cv::ellipse(image, GuideEllipse(image.size()), verdict.ready ? kGreen : kWhite, 2, cv::LINE_AA);
  for (const auto& f : verdict.faces) {
    const cv::Scalar colour = f.state == GuideState::kReady     ? kGreen
                              : f.state == GuideState::kSeveral ? kOrange
                                                                : kYellow;
    cv::rectangle(image, cv::Rect(f.box.left, f.box.top, f.box.width(), f.box.height()), colour, 2);
  }
  const double scale = std::max(0.5, image.cols / 800.0);
  int baseline = 0;
  const cv::Size text =
      cv::getTextSize(verdict.message, cv::FONT_HERSHEY_SIMPLEX, scale, 2, &baseline);
  const cv::Point at((image.cols - text.width) / 2, image.rows - 20);
  cv::rectangle(image,
                cv::Rect(at.x - 8, at.y - text.height - 8, text.width + 16, text.height + 16),
                cv::Scalar(0, 0, 0), cv::FILLED);
  cv::putText(image, verdict.message, at, cv::FONT_HERSHEY_SIMPLEX, scale, kWhite, 2, cv::LINE_AA);
}

}  // namespace faceatt
