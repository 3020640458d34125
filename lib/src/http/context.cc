#include "http/context.h"

namespace faceatt::http {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

bool Context::no_keys() const {
  return config.server.admin_keys.empty() && config.server.device_keys.empty() &&
         config.server.reader_keys.empty() && config.server.trusted_networks.empty() &&
         config.server.group_keys.empty();
}

void Context::Stage(const char* stage, std::chrono::steady_clock::time_point t0) {
  metrics.Observe("faceatt_stage_duration_seconds", std::string("stage=\"") + stage + "\"",
                  Seconds(t0));
}

void Context::ObserveStages(const FacePipeline& pipeline) {
  const auto& t = pipeline.last_times();
  metrics.Observe("faceatt_stage_duration_seconds", "stage=\"detect\"", t.detect);
  metrics.Observe("faceatt_stage_duration_seconds", "stage=\"landmarks\"", t.landmarks);
  if (t.embed > 0) metrics.Observe("faceatt_stage_duration_seconds", "stage=\"embed\"", t.embed);
}

Status Context::NoFrame() const {
  return Status::Unavailable(camera ? "the camera has no recent frame"
                                    : "no camera is configured (camera.source)")
      .WithReason(kCameraUnavailable);
}

}  // namespace faceatt::http
