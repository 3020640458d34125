// faceatt identify: every face in every photo, named or unknown.
#include <spdlog/spdlog.h>

#include <iostream>

#include "command.h"
#include "faceatt/attendance.h"
#include "faceatt/evidence.h"
#include "faceatt/json.h"

namespace faceatt::cli {
namespace {

void PrintText(const std::string& image, const Identification& id) {
  const size_t n = id.faces.size();
  std::cout << image << ": "
            << (n == 0 ? "no face\n" : std::to_string(n) + (n == 1 ? " face\n" : " faces\n"));
  for (const auto& f : id.faces) {
    std::string who = f.matched ? f.employee_id + "  " + f.name
                                : f.reason + (f.detail.empty() ? "" : " (" + f.detail + ")");
    std::cout << "  " << who;
    if (f.distance >= 0)
      std::cout << "  distance " << Fixed(f.distance) << " (threshold " << Fixed(f.threshold, 2)
                << ")";
    std::cout << "  box " << f.box.left << "," << f.box.top << "-" << f.box.right << ","
              << f.box.bottom << "\n";
  }
}

// --json: one line per image, each face with its candidates.
nlohmann::json ImageJson(const std::string& path, const Result<Identification>& id) {
  nlohmann::json faces = nlohmann::json::array();
  if (!id.ok())
    return {
        {"image", path}, {"reason", kBadInput}, {"error", id.status().message()}, {"faces", faces}};
  for (const auto& f : id->faces) {
    faces.push_back(FaceJson(f));
    faces.back()["candidates"] = CandidatesJson(f);
  }
  return {{"image", path}, {"reason", OrNull(id->reason)}, {"faces", faces}};
}

// --record: the attempt under the server's rules (one face, usable, matched,
// cooldown), with the row it wrote. Returns the record as JSON and a line for people.
Result<nlohmann::json> RecordAttempt(AttendanceRecorder& recorder, const Result<Identification>& id,
                                     const Attempt& attempt, std::string* line) {
  AttemptOutcome o;
  if (id.ok()) {
    FACEATT_ASSIGN_OR_RETURN(o, recorder.RecordIdentification(*id, attempt));
  } else {
    o.reason = kBadInput;
    FACEATT_ASSIGN_OR_RETURN(o.record_id, recorder.RecordFailure(kBadInput, std::nullopt, attempt));
  }
  const bool matched = o.face && o.face->matched;
  const char* status = o.success              ? kStatusSuccess
                       : o.reason == kUnknown ? kStatusUnknown
                                              : kStatusFailed;
  if (matched)
    *line = (o.success ? "recorded: " : "refused: ") + o.face->employee_id + " " + o.face->name +
            " " + o.decision.type + ": " + o.message + (o.success ? "" : " (" + o.reason + ")");
  else
    *line = "not recorded: " + o.reason + (o.message.empty() ? "" : " (" + o.message + ")");
  *line += " [record " + std::to_string(o.record_id) + "]";
  nlohmann::json j{{"recorded", o.success},
                   {"status", status},
                   {"reason", OrNull(o.reason)},
                   {"record_id", o.record_id}};
  if (matched) {
    j["employee_id"] = o.face->employee_id;
    j["type"] = o.decision.type;
    j["message"] = o.message;
  }
  return j;
}

}  // namespace

Runner SetupIdentify(CLI::App& app) {
  struct Options {
    bool json = false, record = false;
    int top = 0;
    double tolerance = 0;
    std::string type = "auto", device = "cli", group;
    std::vector<std::string> images;
  };
  auto o = std::make_shared<Options>();
  app.add_flag("--json", o->json, "One JSON object per image per line");
  app.add_option("--top", o->top, "Candidates to list per face (default recognition.top_k)")
      ->check(CLI::Range(1, 100));
  app.add_option("--tolerance", o->tolerance, "Accept distances up to this (default: config/model)")
      ->check(CLI::Range(0.01, 2.0));
  app.add_flag("--record", o->record,
               "Record attendance for the photo's one face (same rules and audit rows as serve)");
  app.add_option("--type", o->type, "With --record: IN, OUT or auto (default auto)");
  app.add_option("--device", o->device,
                 "With --record: device id stored with the record (default cli)");
  app.add_option("--group", o->group,
                 "Only this group's people are candidates (default: the --device's "
                 "attendance.device_groups group, else everyone)");
  app.add_option("images", o->images, "Photos to identify")->required();
  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    Attempt attempt;
    std::unique_ptr<AttendanceRecorder> recorder;
    static const SystemClock kClock;
    if (o->record) {
      FACEATT_ASSIGN_OR_RETURN(attempt.type, ParseAttendanceType(o->type));
      attempt.device_id = o->device;
      FACEATT_ASSIGN_OR_RETURN(Store * store, ctx.store());
      recorder = std::make_unique<AttendanceRecorder>(store, config->attendance, &kClock);
    }
    FACEATT_ASSIGN_OR_RETURN(FaceService * service, ctx.service());
    FACEATT_ASSIGN_OR_RETURN(FacePipeline * pipeline, ctx.pipeline());
    if (service->people() == 0)
      spdlog::warn("nobody is enrolled yet for model {}; every face will be unknown",
                   service->model_id());
    IdentifyOptions opts;
    if (o->tolerance > 0) opts.tolerance = o->tolerance;
    if (o->top > 0) opts.top_k = o->top;
    opts.group = o->group.empty() ? DeviceGroup(*config, o->device) : o->group;
    if (!opts.group.empty() && !service->HasGroup(opts.group))
      return Status::NotFound("no group '" + opts.group + "' (faceatt groups list)");
    const ImageLimits limits{config->image.max_bytes, config->image.max_pixels};
    bool any_match = false, any_bad = false;
    for (const auto& path : o->images) {
      auto image = ReadImageFile(path, limits);
      Result<Identification> id = image.ok() ? service->Identify(*pipeline, *image, opts)
                                             : Result<Identification>(image.status());
      if (!id.ok() && id.status().code() == Code::kInternal) return id.status();
      nlohmann::json record;
      std::string record_line;
      if (recorder) {
        attempt.ts_client = FormatUtc(kClock.NowMillis());
        attempt.keep_photo = nullptr;
        if (config->attendance.keep_photos && image.ok())
          attempt.keep_photo = AttemptPhotoKeeper(DataDir(config->paths.data_dir), *image, kClock);
        FACEATT_ASSIGN_OR_RETURN(record, RecordAttempt(*recorder, id, attempt, &record_line));
      }
      any_bad |= !id.ok();
      if (id.ok())
        for (const auto& f : id->faces) any_match |= f.matched;
      if (o->json) {
        nlohmann::json j = ImageJson(path, id);
        if (recorder) j["attendance"] = record;
        std::cout << j.dump() << "\n";
      } else if (id.ok()) {
        PrintText(path, *id);
        if (recorder) std::cout << "  " << record_line << "\n";
      } else if (recorder) {
        std::cout << path << ": " << record_line << "\n";
      }
      if (!id.ok()) std::cerr << "faceatt identify: " << id.status().message() << "\n";
    }
    if (any_bad) return kExitBadInput;
    return any_match ? kExitOk : kExitNoMatch;
  };
}

}  // namespace faceatt::cli
