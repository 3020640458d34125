// POST /guide: detects and judges one frame for the kiosk's camera guide;
// nothing is recorded. AnalyzeFrame is shared with the enrollment sessions.
#include "http/guide.h"

#include <chrono>
#include <cmath>
#include <list>
#include <mutex>
#include <unordered_map>

#include "faceatt/face_service.h"
#include "faceatt/image.h"
#include "faceatt/json.h"
#include "http/errors.h"
#include "http/request_body.h"
#include "http/routes.h"

namespace faceatt::http {
namespace {

using json = nlohmann::json;

// A face whose centre moved more than this share of the frame width between
// two frames half a second apart is moving too much for a sharp, steady shot.
constexpr double kHoldStillShare = 0.06;
// Only a frame this recent is a reference for the motion (the page sends
// about two a second; an older one is a new approach).
constexpr auto kHoldStillWindow = std::chrono::seconds(2);
// Clients whose last face centre is remembered (kiosks and browsers at once).
constexpr size_t kMaxTracked = 256;

class MotionTracker {
 public:
  bool Moved(const std::string& client, cv::Point2d centre, int frame_width) {
    if (client.empty() || frame_width <= 0) return false;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    bool moved = false;
    auto it = seen_.find(client);
    if (it != seen_.end()) {
      const Seen& prev = it->second;
      moved = prev.width == frame_width && now - prev.at < kHoldStillWindow &&
              std::hypot(centre.x - prev.centre.x, centre.y - prev.centre.y) >
                  kHoldStillShare * frame_width;
      order_.erase(prev.order);
      seen_.erase(it);
    }
    while (seen_.size() >= kMaxTracked) {
      seen_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(client);
    seen_[client] = Seen{centre, frame_width, now, std::prev(order_.end())};
    return moved;
  }

 private:
  struct Seen {
    cv::Point2d centre;
    int width = 0;
    std::chrono::steady_clock::time_point at;
    std::list<std::string>::iterator order;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Seen> seen_;  // under mu_
  std::list<std::string> order_;                // least recently seen first; under mu_
};

MotionTracker& Tracker() {
  static MotionTracker tracker;
  return tracker;
}

Result<double> Fraction(const Request& req, const json& fields, const char* key, double def) {
  std::optional<double> v;
  if (fields.contains(key)) {
    FACEATT_ASSIGN_OR_RETURN(v, JsonNumber(fields, key));
  } else if (req.has_param(key)) {
    FACEATT_ASSIGN_OR_RETURN(v, JsonNumber(json{{key, req.get_param_value(key)}}, key));
  }
  if (!v) return def;
  if (!(*v > 0 && *v <= 1))
    return Status::InvalidArgument(std::string(key) + " must be a fraction of the frame in (0, 1]");
  return *v;
}

}  // namespace

Result<json> FrameFields(const Request& req) {
  if (req.get_header_value("Content-Type").rfind("image/", 0) == 0) return json::object();
  return BodyFields(req);
}

Result<Oval> OvalOf(const Request& req, const json& fields) {
  Oval o;
  FACEATT_ASSIGN_OR_RETURN(o.cx, Fraction(req, fields, "oval_cx", o.cx));
  FACEATT_ASSIGN_OR_RETURN(o.cy, Fraction(req, fields, "oval_cy", o.cy));
  FACEATT_ASSIGN_OR_RETURN(o.rx, Fraction(req, fields, "oval_rx", o.rx));
  FACEATT_ASSIGN_OR_RETURN(o.ry, Fraction(req, fields, "oval_ry", o.ry));
  return o;
}

Result<cv::Mat> FrameImage(Context& ctx, const Request& req, const json& fields) {
  const std::string type = req.get_header_value("Content-Type");
  if (type.rfind("image/", 0) == 0) {
    const auto& limits = ctx.config.image;
    return DecodeImage(req.body, {limits.max_bytes, limits.max_pixels}, "image");
  }
  return RequestImage(ctx, req, req.is_multipart_form_data() ? nullptr : &fields);
}

Result<FrameView> AnalyzeFrame(Context& ctx, FacePipeline& pipeline, const cv::Mat& image,
                               const Oval& oval, const std::string& client) {
  FrameView view;
  view.frame = image.size();
  AnalyzeOptions options;
  options.embed = false;
  options.keep_chips = true;
  FACEATT_ASSIGN_OR_RETURN(std::vector<Face> faces, pipeline.Analyze(image, options));
  ctx.ObserveStages(pipeline);
  view.faces = static_cast<int>(faces.size());
  if (faces.empty()) {
    view.guidance = kNoFace;
    return view;
  }
  if (faces.size() > 1) {
    view.guidance = kMultiFace;
    return view;
  }
  const Face& face = faces[0];
  view.face = face;
  if (auto points = pipeline.aligner().Landmarks(image, face.box); points.ok())
    view.pose = EstimateHeadPose(*points);
  const double w = image.cols, h = image.rows;
  const double dx = ((face.box.left + face.box.right) / 2.0 / w - oval.cx) / oval.rx;
  const double dy = ((face.box.top + face.box.bottom) / 2.0 / h - oval.cy) / oval.ry;
  const cv::Point2d centre((face.box.left + face.box.right) / 2.0,
                           (face.box.top + face.box.bottom) / 2.0);
  const bool moved = Tracker().Moved(client, centre, image.cols);
  if (face.box.width() < ctx.config.camera.guide_min_face * w || face.quality_issue == kTooSmall)
    view.guidance = "come_closer";
  else if (dx * dx + dy * dy > 1)
    view.guidance = "move_into_oval";
  else if (!face.quality_issue.empty())
    view.guidance = face.quality_issue;  // too_dark, too_bright, too_blurry
  else if (moved)
    view.guidance = "hold_still";
  else
    view.guidance = "ready";
  return view;
}

json FrameJson(const FrameView& view) {
  json body = {{"faces", view.faces},
               {"guidance", view.guidance},
               {"frame", {{"width", view.frame.width}, {"height", view.frame.height}}},
               {"box", nullptr},
               {"pose", nullptr},
               {"quality", nullptr}};
  if (view.face) {
    body["box"] = BoxJson(view.face->box);
    body["quality"] = {
        {"brightness", Round4(view.face->brightness)},
        {"sharpness", Round4(view.face->sharpness)},
        {"issue", view.face->quality_issue.empty() ? json() : json(view.face->quality_issue)}};
  }
  if (view.pose)
    body["pose"] = {{"yaw", std::round(view.pose->yaw * 10) / 10},
                    {"pitch", std::round(view.pose->pitch * 10) / 10},
                    {"roll", std::round(view.pose->roll * 10) / 10},
                    {"bucket", PoseBucket(*view.pose)}};
  return body;
}

void HandleGuide(Context& ctx, const Request& req, Response& res) {
  auto fields = FrameFields(req);
  if (!fields.ok()) return SendError(req, res, fields.status());
  auto oval = OvalOf(req, *fields);
  if (!oval.ok()) return SendError(req, res, oval.status());
  // hold_still compares frames of one sender: its session, else its device.
  std::string client;
  for (const char* key : {"session", "device_id"}) {
    auto v = JsonString(*fields, key);
    if (!v.ok()) return SendError(req, res, v.status());
    if (client.empty()) client = v->empty() ? req.get_param_value(key) : *v;
  }
  auto lease = ctx.pool->Acquire();  // decoded inside the lease, as in /identify
  if (!lease.ok()) return SendError(req, res, lease.status());
  auto image = FrameImage(ctx, req, *fields);
  if (!image.ok()) return SendError(req, res, image.status());
  auto view = AnalyzeFrame(ctx, **lease, *image, *oval, client);
  if (!view.ok()) return SendError(req, res, view.status());
  SendJson(res, 200, FrameJson(*view));
}

}  // namespace faceatt::http
