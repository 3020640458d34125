// POST /enroll/sessions, POST /enroll/sessions/{id}/frames, POST
// /enroll/sessions/{id}/complete and DELETE /enroll/sessions/{id}.
#include "http/enroll_sessions.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "faceatt/face_service.h"
#include "faceatt/image.h"
#include "http/errors.h"
#include "http/guide.h"
#include "http/json.h"
#include "http/request_body.h"
#include "http/routes.h"
#include "http/sessions.h"

namespace faceatt::http {

using json = nlohmann::json;

std::vector<std::string> EnrollSession::PosesDone() const {
  std::vector<std::string> done;
  for (const char* pose : kNeededPoses)
    if (std::any_of(kept.begin(), kept.end(),
                    [&](const EnrollFrame& f) { return f.pose_bucket == pose; }))
      done.push_back(pose);
  return done;
}

bool EnrollSession::Keep(EnrollFrame frame) {
  EnrollFrame* worst = nullptr;
  size_t same = 0;
  for (EnrollFrame& f : kept) {
    if (f.pose_bucket != frame.pose_bucket) continue;
    ++same;
    if (!worst || f.score < worst->score) worst = &f;
  }
  if (same < kFramesPerPose) {
    kept.push_back(std::move(frame));
    return true;
  }
  if (frame.score <= worst->score) return false;
  *worst = std::move(frame);
  return true;
}

std::vector<const EnrollFrame*> EnrollSession::Best() const {
  std::vector<const EnrollFrame*> sorted;
  for (const EnrollFrame& f : kept) sorted.push_back(&f);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const EnrollFrame* a, const EnrollFrame* b) { return a->score > b->score; });
  std::vector<const EnrollFrame*> best;
  for (const char* pose : kNeededPoses)
    for (const EnrollFrame* f : sorted)
      if (f->pose_bucket == pose) {
        best.push_back(f);
        break;
      }
  for (const EnrollFrame* f : sorted)
    if (best.size() < kEnrollFrames && std::find(best.begin(), best.end(), f) == best.end())
      best.push_back(f);
  if (best.size() > kEnrollFrames) best.resize(kEnrollFrames);
  return best;
}

void EnrollSessions::DropExpired() {
  const int64_t now = clock_->NowMillis();
  for (auto it = sessions_.begin(); it != sessions_.end();)
    it = it->second.expires_ms <= now && !it->second.completing ? sessions_.erase(it)
                                                                : std::next(it);
}

Result<std::string> EnrollSessions::Start(EnrollSession session) {
  // 128 bits: unguessable, and short enough for a URL.
  FACEATT_ASSIGN_OR_RETURN(std::string id, RandomHex(16));
  std::lock_guard lock(mu_);
  DropExpired();
  if (sessions_.size() >= kMaxEnrollSessions)
    return Status::Unavailable("too many enrollment sessions open (" +
                               std::to_string(kMaxEnrollSessions) +
                               "): finish or cancel one, or wait for one to expire");
  session.expires_ms = clock_->NowMillis() + kEnrollSessionTtlMs;
  sessions_.emplace(id, std::move(session));
  return id;
}

Status EnrollSessions::With(const std::string& id, const std::function<Status(EnrollSession&)>& f) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.expires_ms <= clock_->NowMillis())
    return Status::NotFound("no enrollment session " + id + " (unknown, finished or expired)");
  return f(it->second);
}

bool EnrollSessions::Erase(const std::string& id) {
  std::lock_guard lock(mu_);
  return sessions_.erase(id) > 0;
}

size_t EnrollSessions::size() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

namespace {

json ProgressJson(const EnrollSession& s) {
  const auto done = s.PosesDone();
  return {{"frames", s.frames_received},
          {"kept", s.kept.size()},
          {"poses_done", done},
          {"ready", done.size() == std::size(kNeededPoses)}};
}

// The crop kept of a frame: the face and some room around it, small.
Result<std::string> CropOf(const cv::Mat& image, const Box& box) {
  const double cx = (box.left + box.right) / 2.0, cy = (box.top + box.bottom) / 2.0;
  const double half = std::max(box.width(), box.height()) * kCropScale / 2;
  const cv::Rect want(static_cast<int>(cx - half), static_cast<int>(cy - half),
                      static_cast<int>(2 * half), static_cast<int>(2 * half));
  const cv::Rect rect = want & cv::Rect(0, 0, image.cols, image.rows);
  if (rect.empty()) return Status::Internal("the face lies outside its frame");
  cv::Mat crop = image(rect);
  const int side = std::max(rect.width, rect.height);
  if (side > kCropMaxSide) {
    const double s = static_cast<double>(kCropMaxSide) / side;
    cv::Mat small;
    cv::resize(crop, small, cv::Size(), s, s, cv::INTER_AREA);
    crop = small;
  }
  return EncodeJpeg(crop, kCropJpegQuality);
}

}  // namespace

void HandleEnrollSessionStart(Context& ctx, const Request& req, Response& res) {
  auto body = BodyFields(req);
  if (!body.ok()) return SendError(req, res, body.status());
  EnrollSession s;
  for (auto [key, out] : {std::pair{"employee_id", &s.employee_id}, std::pair{"name", &s.name},
                          std::pair{"department", &s.department}}) {
    auto v = JsonString(*body, key);
    if (!v.ok()) return SendError(req, res, v.status());
    *out = *v;
  }
  if (s.name.empty() && s.employee_id.empty())
    return SendError(req, res, Status::InvalidArgument("name is required for a new person"));
  if (body->contains("groups") && !(*body)["groups"].is_null()) {
    const json& groups = (*body)["groups"];
    if (!groups.is_array())
      return SendError(req, res, Status::InvalidArgument("groups must be an array"));
    for (const auto& g : groups) {
      if (!g.is_string() || g.get<std::string>().empty())
        return SendError(req, res, Status::InvalidArgument("groups must hold non-empty strings"));
      s.groups.push_back(g.get<std::string>());
    }
  }
  auto id = ctx.enroll_sessions->Start(std::move(s));
  if (!id.ok()) return SendError(req, res, id.status());
  int64_t expires = 0;
  (void)ctx.enroll_sessions->With(*id, [&](EnrollSession& open) {
    expires = open.expires_ms;
    return Status::Ok();
  });
  SendJson(res, 201,
           {{"session_id", *id},
            {"expires_at", FormatUtc(expires)},
            {"needed_poses",
             std::vector<std::string>(std::begin(kNeededPoses), std::end(kNeededPoses))}});
}

void HandleEnrollSessionFrame(Context& ctx, const Request& req, Response& res) {
  const std::string id = req.matches[1];
  // An unknown session is refused before any image work.
  if (Status st = ctx.enroll_sessions->With(id, [](EnrollSession&) { return Status::Ok(); });
      !st.ok())
    return SendError(req, res, st);
  auto fields = FrameFields(req);
  if (!fields.ok()) return SendError(req, res, fields.status());
  auto oval = OvalOf(req, *fields);
  if (!oval.ok()) return SendError(req, res, oval.status());
  auto lease = ctx.pool->Acquire();
  if (!lease.ok()) return SendError(req, res, lease.status());
  auto image = FrameImage(ctx, req, *fields);
  if (!image.ok()) return SendError(req, res, image.status());
  auto view = AnalyzeFrame(ctx, **lease, *image, *oval, "enroll:" + id);
  if (!view.ok()) return SendError(req, res, view.status());
  json answer = FrameJson(*view);
  std::string reason;
  std::optional<EnrollFrame> frame;
  if (view->guidance == kNoFace || view->guidance == kMultiFace) {
    reason = view->guidance;
  } else if (!view->face->quality_issue.empty()) {
    reason = kBadQuality;
  } else if (view->guidance != "ready") {
    reason = "not_ready";  // come_closer, move_into_oval, hold_still: see guidance
  } else {
    auto crop = CropOf(*image, view->face->box);
    if (!crop.ok()) return SendError(req, res, crop.status());
    // Without the 68 landmarks (the 5-point model) every frame counts as front.
    frame = EnrollFrame{std::move(*crop), view->pose ? PoseBucket(*view->pose) : "front",
                        view->face->sharpness};
  }
  answer["pose_bucket"] = frame ? json(frame->pose_bucket) : json();
  Status st = ctx.enroll_sessions->With(id, [&](EnrollSession& s) {
    ++s.frames_received;
    if (frame && !s.Keep(std::move(*frame))) reason = "duplicate_pose";
    answer["progress"] = ProgressJson(s);
    return Status::Ok();
  });
  if (!st.ok()) return SendError(req, res, st);  // expired meanwhile
  answer["accepted"] = reason.empty();
  answer["reason"] = reason.empty() ? json() : json(reason);
  SendJson(res, 200, answer);
}

void HandleEnrollSessionComplete(Context& ctx, const Request& req, Response& res) {
  const std::string id = req.matches[1];
  EnrollRequest er;
  std::vector<std::string> groups;
  Status st = ctx.enroll_sessions->With(id, [&](EnrollSession& s) {
    if (s.completing) return Status::Conflict("this enrollment session is being completed");
    if (s.kept.empty())
      return Status::Conflict("no frame accepted yet: send frames until one is accepted");
    s.completing = true;
    er.employee_id = s.employee_id;
    er.name = s.name;
    er.department = s.department;
    groups = s.groups;
    int n = 0;
    for (const EnrollFrame* f : s.Best())
      er.images.push_back(
          {"frame-" + std::to_string(++n) + "-" + f->pose_bucket + ".jpg", f->jpeg, true});
    return Status::Ok();
  });
  if (!st.ok()) return SendError(req, res, st);
  auto done = [&](bool finished) {
    if (finished) {
      ctx.enroll_sessions->Erase(id);
    } else {
      (void)ctx.enroll_sessions->With(id, [](EnrollSession& s) {
        s.completing = false;
        return Status::Ok();
      });
    }
  };
  auto lease = ctx.pool->Acquire();
  if (!lease.ok()) {
    done(false);
    return SendError(req, res, lease.status());
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto result = ctx.service->Enroll(**lease, er);  // the rules and reasons of POST /enroll
  ctx.Stage("enroll", t0);
  if (!result.ok()) {
    done(false);  // the frames stay: the admin may fix the name or id and complete again
    return SendError(req, res, result.status());
  }
  done(true);
  for (const std::string& group : groups)
    if (Status g = ctx.store->SetGroupMembership(result->user.employee_id, group, true); !g.ok())
      return SendError(req, res, g);
  if (!groups.empty())
    if (Status r = ctx.service->Reload(); !r.ok()) return SendError(req, res, r);
  ctx.events.Publish("enrolled",
                     {{"employee_id", result->user.employee_id}, {"name", result->user.name}});
  json body = EnrollJson(*result);
  body["groups"] = groups;
  SendJson(res, 201, body);
}

void HandleEnrollSessionCancel(Context& ctx, const Request& req, Response& res) {
  if (!ctx.enroll_sessions->Erase(req.matches[1]))
    return SendError(req, res,
                     Status::NotFound("no enrollment session " + req.matches[1].str() +
                                      " (unknown, finished or expired)"));
  res.status = 204;
}

}  // namespace faceatt::http
