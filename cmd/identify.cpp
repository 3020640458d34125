// faceatt identify: every face in every photo, named or unknown.
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"

namespace faceatt::cli {
namespace {

nlohmann::json FaceJson(const FaceIdentity& f) {
  nlohmann::json candidates = nlohmann::json::array();
  for (const auto& c : f.candidates)
    candidates.push_back({{"employee_id", c.employee_id}, {"name", c.name}, {"distance", c.distance}});
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); };
  return {{"box", {{"left", f.box.left}, {"top", f.box.top}, {"right", f.box.right}, {"bottom", f.box.bottom}}},
          {"employee_id", or_null(f.employee_id)},
          {"name", f.matched ? nlohmann::json(f.name) : nlohmann::json()},
          {"distance", f.distance < 0 ? nlohmann::json() : nlohmann::json(f.distance)},
          {"threshold", f.threshold},
          {"matched", f.matched},
          {"reason", or_null(f.reason)},
          {"detail", or_null(f.detail)},
          {"candidates", candidates}};
}

void PrintText(const std::string& image, const Identification& id) {
  if (id.faces.empty()) {
    std::cout << image << ": no face\n";
    return;
  }
  std::cout << image << ": " << id.faces.size() << (id.faces.size() == 1 ? " face\n" : " faces\n");
  for (const auto& f : id.faces) {
    std::string who = f.matched ? f.employee_id + "  " + f.name
                                : f.reason + (f.detail.empty() ? "" : " (" + f.detail + ")");
    std::cout << "  " << who;
    if (f.distance >= 0) std::cout << "  distance " << Fixed(f.distance) << " (threshold " << Fixed(f.threshold, 2) << ")";
    std::cout << "  box " << f.box.left << "," << f.box.top << "-" << f.box.right << "," << f.box.bottom << "\n";
  }
}

}  // namespace

Runner SetupIdentify(CLI::App& app) {
  struct Options {
    bool json = false;
    int top = 0;
    double tolerance = 0;
    std::vector<std::string> images;
  };
  auto o = std::make_shared<Options>();
  app.add_flag("--json", o->json, "One JSON object per image per line");
  app.add_option("--top", o->top, "Candidates to list per face (default recognition.top_k)")
      ->check(CLI::Range(1, 100));
  app.add_option("--tolerance", o->tolerance, "Accept distances up to this (default: config/model)")
      ->check(CLI::Range(0.01, 2.0));
  app.add_option("images", o->images, "Photos to identify")->required();
  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    FACEATT_ASSIGN_OR_RETURN(FaceService * service, ctx.service());
    FACEATT_ASSIGN_OR_RETURN(FacePipeline * pipeline, ctx.pipeline());
    if (service->people() == 0)
      std::cerr << "faceatt identify: nobody is enrolled yet for model " << service->model_id()
                << "; every face will be unknown\n";
    IdentifyOptions opts;
    if (o->tolerance > 0) opts.tolerance = o->tolerance;
    if (o->top > 0) opts.top_k = o->top;
    const ImageLimits limits{config->image.max_bytes, config->image.max_pixels};
    bool any_match = false, any_bad = false;
    for (const auto& path : o->images) {
      auto image = ReadImageFile(path, limits);
      Result<Identification> id = image.ok() ? service->Identify(*pipeline, *image, opts)
                                             : Result<Identification>(image.status());
      if (!id.ok()) {
        if (id.status().code() == Code::kInternal) return id.status();
        any_bad = true;
        if (o->json)
          std::cout << nlohmann::json{{"image", path}, {"reason", kBadInput},
                                      {"error", id.status().message()}, {"faces", nlohmann::json::array()}}
                           .dump()
                    << "\n";
        std::cerr << "faceatt identify: " << id.status().message() << "\n";
        continue;
      }
      for (const auto& f : id->faces) any_match |= f.matched;
      if (o->json) {
        nlohmann::json faces = nlohmann::json::array();
        for (const auto& f : id->faces) faces.push_back(FaceJson(f));
        std::cout << nlohmann::json{{"image", path},
                                    {"reason", id->reason.empty() ? nlohmann::json() : nlohmann::json(id->reason)},
                                    {"faces", faces}}
                         .dump()
                  << "\n";
      } else {
        PrintText(path, *id);
      }
    }
    if (any_bad) return kExitBadInput;
    return any_match ? kExitOk : kExitNoMatch;
  };
}

}  // namespace faceatt::cli
