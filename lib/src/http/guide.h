// What POST /guide and the enrollment sessions see in one frame: the faces,
// the guidance for the person in front of the camera, the one face's box,
// head pose and quality. Nothing is recorded.
//
// Guidance, first that applies: no_face, multi_face, come_closer (face
// narrower than camera.guide_min_face of the frame, or too small for the
// quality rules), move_into_oval (the face's centre outside the oval),
// too_dark, too_bright, too_blurry, hold_still (the face moved more than
// kHoldStillShare of the frame since the same client's previous frame),
// ready.
//
// Thread safety: AnalyzeFrame runs on the caller's leased pipeline; the
// hold_still memory (the last face centre of at most kMaxTracked clients,
// least recently seen forgotten first) is shared under a lock.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "faceatt/head_pose.h"
#include "faceatt/pipeline.h"
#include "faceatt/status.h"
#include "http/context.h"

namespace faceatt::http {

// Where the page draws its guide, as fractions of the frame's width (cx, rx)
// and height (cy, ry). The default matches the kiosk page's ellipse.
struct Oval {
  double cx = 0.5, cy = 0.45, rx = 0.22, ry = 0.32;
};

// The text fields of a frame request (BodyFields); none for a raw image body.
Result<nlohmann::json> FrameFields(const Request& req);

// oval_cx, oval_cy, oval_rx, oval_ry from `fields` (form or JSON), else the
// query; each in (0, 1]; kInvalidArgument naming a bad one.
Result<Oval> OvalOf(const Request& req, const nlohmann::json& fields);

struct FrameView {
  int faces = 0;
  std::string guidance;
  std::optional<Face> face;  // the one face (exactly one found), with its chip
  std::optional<HeadPose> pose;
  cv::Size frame;
};

// Detects (no embedding) and judges one frame. `client` names the frame's
// sender for hold_still ("" = no motion check).
Result<FrameView> AnalyzeFrame(Context& ctx, FacePipeline& pipeline, const cv::Mat& image,
                               const Oval& oval, const std::string& client);

// {faces, guidance, box, pose, quality} of a FrameView (docs/serve.md).
nlohmann::json FrameJson(const FrameView& view);

// The image of a frame request: multipart `image`, JSON `image` (base64), or
// a raw image/jpeg or image/png body.
Result<cv::Mat> FrameImage(Context& ctx, const Request& req, const nlohmann::json& fields);

}  // namespace faceatt::http
