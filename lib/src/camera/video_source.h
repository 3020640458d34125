// VideoSource: frames from OpenCV's videoio (a device index, a video file, or
// an RTSP/HTTP URL), for Camera.
//
// videoio lives in a module of its own, libfaceatt_videoio.so, built beside the
// faceatt binary and loaded the first time a camera opens. Linked into the
// binary, libopencv_videoio and the ~220 libraries it pulls in (FFmpeg,
// GStreamer, ...) cost every faceatt process about 130 ms of loading before
// main, while only `serve` with a camera reads video (docs/benchmarks.md).
//
// The module is looked for at $FACEATT_VIDEOIO_MODULE (a file; when set, only
// there), else beside the running executable, then in the build folder it was
// built in. Not found, or not loadable: OpenVideoSource returns kUnavailable
// naming where it looked, and the camera keeps retrying (Camera::Loop).
// Thread safety: OpenVideoSource may be called from any thread; one
// VideoSource is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "faceatt/status.h"

namespace faceatt {

class VideoSource {
 public:
  virtual ~VideoSource() = default;
  // The next frame (8-bit BGR). False at the end of a file or on a failure;
  // error() then says why when the backend said.
  virtual bool Read(cv::Mat* frame) = 0;
  // The source's own frame rate, or 0 when it does not say.
  virtual double Fps() = 0;
  virtual std::string error() const = 0;
};

// The module's one entry point (C linkage, so dlsym finds it by this name).
// Returns null when the source cannot be opened, with the reason in `error`.
// `stream_timeout_ms` bounds opening and each read of a URL source.
using OpenVideoSourceFn = VideoSource* (*)(const char* source, int stream_timeout_ms,
                                           std::string* error);
inline constexpr const char* kOpenVideoSourceSymbol = "faceatt_open_video_source";

// Loads the module from the first of `paths` that exists (once per process:
// OpenVideoSource keeps the answer). kUnavailable naming every path looked at
// when none exists, or the loader's reason when the file is not the module.
Result<OpenVideoSourceFn> LoadVideoModule(const std::vector<std::string>& paths);

// Opens `source`: all digits is a device index, a "://" inside makes it a
// stream, anything else is a file. kUnavailable when the module is missing or
// the source does not open.
Result<std::unique_ptr<VideoSource>> OpenVideoSource(const std::string& source,
                                                     int stream_timeout_ms);

}  // namespace faceatt
