// libfaceatt_videoio.so: the only code that links OpenCV's videoio. Built as a
// module (lib/CMakeLists.txt) and loaded by video_source.cc; see video_source.h.
// Nothing thrown here crosses into the binary: every OpenCV exception becomes
// a null source or a failed read with its message.
#include <algorithm>
#include <cctype>
#include <exception>
#include <opencv2/videoio.hpp>

#include "camera/video_source.h"

namespace faceatt {
namespace {

class CvVideoSource final : public VideoSource {
 public:
  bool Open(const std::string& source, int stream_timeout_ms, std::string* error) {
    const bool is_index =
        !source.empty() &&
        std::all_of(source.begin(), source.end(), [](unsigned char c) { return std::isdigit(c); });
    const bool is_url = source.find("://") != std::string::npos;
    try {
      if (is_index)
        cap_.open(std::stoi(source));
      else if (is_url)  // a dead host must not hold the reader (or shutdown) for FFmpeg's 30 s
        cap_.open(source, cv::CAP_ANY,
                  {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, stream_timeout_ms,
                   cv::CAP_PROP_READ_TIMEOUT_MSEC, stream_timeout_ms});
      else
        cap_.open(source);
    } catch (const std::exception& e) {
      *error = e.what();
      return false;
    }
    if (!cap_.isOpened()) {
      *error = "cannot open";
      return false;
    }
    return true;
  }

  bool Read(cv::Mat* frame) override {
    try {
      return cap_.read(*frame) && !frame->empty();
    } catch (const std::exception& e) {
      error_ = e.what();
      return false;
    }
  }

  double Fps() override {
    try {
      return cap_.get(cv::CAP_PROP_FPS);
    } catch (const std::exception&) {
      return 0;
    }
  }

  std::string error() const override { return error_; }

 private:
  cv::VideoCapture cap_;
  std::string error_;
};

}  // namespace
}  // namespace faceatt

extern "C" __attribute__((visibility("default"))) faceatt::VideoSource* faceatt_open_video_source(
    const char* source, int stream_timeout_ms, std::string* error) {
  auto src = std::make_unique<faceatt::CvVideoSource>();
  if (!src->Open(source, stream_timeout_ms, error)) return nullptr;
  return src.release();
}
