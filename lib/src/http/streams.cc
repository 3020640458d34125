#include "http/streams.h"

#include <algorithm>
#include <chrono>

#include "faceatt/image.h"
#include "faceatt/json.h"
#include "http/errors.h"
#include "http/routes.h"

namespace faceatt::http {
namespace {

// Events kept for SSE subscribers that fall behind.
constexpr size_t kEventBacklog = 256;
// SSE keep-alive comment interval, in 1 s waits.
constexpr int kSsePingEvery = 15;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Streams (SSE, MJPEG) each hold a server thread for as long as they last:
// at most kStreamThreads at once, so they never take the request threads.
bool OpenStream(Context& ctx, const Request& req, Response& res) {
  if (++ctx.open_streams > kStreamThreads) {
    --ctx.open_streams;
    SendError(req, res,
              Status::Unavailable("too many open streams (" + std::to_string(kStreamThreads) +
                                  "); try again later"));
    return false;
  }
  return true;
}

}  // namespace

void EventHub::Publish(const std::string& type, const nlohmann::json& data) {
  {
    std::lock_guard lock(mu_);
    events_.push_back({++seq_, "event: " + type + "\ndata: " + DumpJson(data) + "\n\n"});
    if (events_.size() > kEventBacklog) events_.pop_front();
  }
  cv_.notify_all();
}

int64_t EventHub::seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

bool EventHub::Next(int64_t& after, std::string& out) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || seq_ > after; });
  if (stop_) return false;
  for (const auto& [s, text] : events_)
    if (s > after) out += text;
  after = seq_;
  return true;
}

void EventHub::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

Streamer::Streamer(Camera* camera, std::unique_ptr<FacePipeline> pipeline, CameraConfig config,
                   Metrics* metrics)
    : camera_(camera),
      pipeline_(std::move(pipeline)),
      config_(std::move(config)),
      metrics_(metrics) {
  thread_ = std::thread([this] { Loop(); });
}

Streamer::~Streamer() { Stop(); }

void Streamer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Streamer::AddViewer() {
  {
    std::lock_guard lock(mu_);
    ++viewers_;
  }
  cv_.notify_all();
}

void Streamer::RemoveViewer() {
  std::lock_guard lock(mu_);
  --viewers_;
}

std::shared_ptr<const std::string> Streamer::Next(int64_t& after, bool& stopping) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || seq_ > after; });
  stopping = stop_;
  if (stop_ || seq_ <= after) return nullptr;
  after = seq_;
  return jpeg_;
}

int Streamer::viewers() const {
  std::lock_guard lock(mu_);
  return viewers_;
}

cv::Mat Streamer::Annotate(FacePipeline& pipeline, const cv::Mat& frame, double min_face) {
  std::vector<Box> boxes;
  AnalyzeOptions opts;
  opts.embed = false;
  auto faces = pipeline.Analyze(frame, opts);
  if (faces.ok())
    for (const auto& f : *faces) boxes.push_back(f.box);
  cv::Mat out = frame.clone();
  DrawOverlay(out, CheckGuide(frame.size(), boxes, min_face));
  return out;
}

void Streamer::Loop() {
  int64_t frame_seq = 0;
  const int64_t period_ms = 1000 / std::max(1, config_.fps);
  int64_t last_ms = 0;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || viewers_ > 0; });
      if (stop_) return;
    }
    auto frame = camera_->WaitNewer(frame_seq, 500);
    if (!frame) continue;
    frame_seq = frame->seq;
    const int64_t wait = last_ms + period_ms - WallMs();
    if (wait > 0) {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stop_; })) return;
    }
    last_ms = WallMs();
    cv::Mat annotated;
    try {
      annotated = Annotate(*pipeline_, frame->image, config_.guide_min_face);
    } catch (const std::exception& e) {
      annotated = frame->image;
    }
    auto jpeg = EncodeJpeg(annotated, config_.jpeg_quality);
    if (!jpeg.ok()) continue;
    metrics_->Count("faceatt_mjpeg_frames_encoded_total", "");
    {
      std::lock_guard lock(mu_);
      jpeg_ = std::make_shared<const std::string>(std::move(*jpeg));
      ++seq_;
    }
    cv_.notify_all();
  }
}

void HandleEvents(Context& ctx, const Request& req, Response& res) {
  if (!OpenStream(ctx, req, res)) return;
  int64_t after = ctx.events.seq();
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto waits = std::make_shared<int>(0);
  res.set_chunked_content_provider(
      "text/event-stream",
      [&ctx, after, waits](size_t, httplib::DataSink& sink) mutable {
        if (*waits == 0 && after >= 0) {
          const std::string hello = ": connected\nretry: 3000\n\n";
          if (!sink.write(hello.data(), hello.size())) return false;
        }
        std::string out;
        if (ctx.stopping || !ctx.events.Next(after, out)) {
          sink.done();
          return false;
        }
        if (out.empty() && ++*waits % kSsePingEvery == 0) out = ": ping\n\n";
        if (out.empty()) return true;
        if (*waits == 0) *waits = 1;  // the greeting is sent once
        return sink.write(out.data(), out.size());
      },
      [&ctx](bool) { --ctx.open_streams; });
}

void HandleStream(Context& ctx, const Request& req, Response& res) {
  if (!ctx.camera || !ctx.streamer) return SendError(req, res, ctx.NoFrame());
  if (!OpenStream(ctx, req, res)) return;
  ctx.streamer->AddViewer();
  res.set_header("Cache-Control", "no-cache");
  auto last = std::make_shared<int64_t>(0);
  res.set_chunked_content_provider(
      "multipart/x-mixed-replace; boundary=frame",
      [&ctx, last](size_t, httplib::DataSink& sink) {
        bool stop = false;
        auto jpeg = ctx.streamer->Next(*last, stop);
        if (stop || ctx.stopping) {
          sink.done();
          return false;
        }
        if (!jpeg) return true;  // no new frame yet: wait again
        const std::string head = "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " +
                                 std::to_string(jpeg->size()) + "\r\n\r\n";
        // A slow viewer blocks here on its own socket; frames encoded meanwhile
        // are skipped (only the latest is kept), so nothing piles up.
        return sink.write(head.data(), head.size()) && sink.write(jpeg->data(), jpeg->size()) &&
               sink.write("\r\n", 2);
      },
      [&ctx](bool) {
        ctx.streamer->RemoveViewer();
        --ctx.open_streams;
      });
}

void HandleCapture(Context& ctx, const Request& req, Response& res) {
  auto frame = ctx.camera ? ctx.camera->Latest() : std::nullopt;
  if (!frame) return SendError(req, res, ctx.NoFrame());
  cv::Mat image = frame->image;
  if (req.get_param_value("preview") == "1") {
    auto lease = ctx.pool->Acquire();
    if (!lease.ok()) return SendError(req, res, lease.status());
    image = Streamer::Annotate(**lease, image, ctx.config.camera.guide_min_face);
  }
  auto jpeg = EncodeJpeg(image, ctx.config.camera.jpeg_quality);
  if (!jpeg.ok()) return SendError(req, res, jpeg.status());
  res.set_header("Cache-Control", "no-cache");
  res.set_content(std::move(*jpeg), "image/jpeg");
}

}  // namespace faceatt::http
