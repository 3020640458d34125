// The server's long-lived streams: EventHub keeps recognition, attendance and
// enrollment events for GET /events (Server-Sent Events); Streamer annotates and
// encodes each camera frame once for every GET /stream.mjpeg viewer.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "faceatt/camera.h"
#include "faceatt/config.h"
#include "faceatt/pipeline.h"
#include "http/metrics.h"

namespace faceatt::http {

class EventHub {
 public:
  // Appends "event: <type>\ndata: <json>" for every subscriber (the last
  // kEventBacklog are kept for subscribers that fall behind).
  void Publish(const std::string& type, const nlohmann::json& data);
  int64_t seq() const;
  // Events after `after` (waiting at most 1 s); updates `after`. False when stopping.
  bool Next(int64_t& after, std::string& out);
  void Stop();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<int64_t, std::string>> events_;
  int64_t seq_ = 0;
  bool stop_ = false;
};

class Streamer {
 public:
  // Starts the encoding thread; it works only while someone watches.
  Streamer(Camera* camera, std::unique_ptr<FacePipeline> pipeline, CameraConfig config,
           Metrics* metrics);
  ~Streamer();  // Stop()
  void Stop();
  void AddViewer();
  void RemoveViewer();
  // The next encoded frame after `after` (at most 1 s wait); nullptr when none.
  // `stopping` is set when the server is shutting down.
  std::shared_ptr<const std::string> Next(int64_t& after, bool& stopping);
  int viewers() const;

  // Detects faces and draws the guide on a copy of `frame`.
  static cv::Mat Annotate(FacePipeline& pipeline, const cv::Mat& frame, double min_face);

 private:
  void Loop();

  Camera* camera_;
  std::unique_ptr<FacePipeline> pipeline_;
  CameraConfig config_;
  Metrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  int viewers_ = 0;
  int64_t seq_ = 0;
  std::shared_ptr<const std::string> jpeg_;
  std::thread thread_;
};

}  // namespace faceatt::http
