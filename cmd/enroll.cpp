// faceatt enroll: one person from one or more photos.
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"

namespace faceatt::cli {

Runner SetupEnroll(CLI::App& app) {
  struct Options {
    std::string name, id, department;
    bool largest = false, force = false, json = false, reuse_retired_id = false;
    std::vector<std::string> images;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--name", o->name, "Person's name (required for a new person)");
  app.add_option("--id", o->id, "Employee id: adds photos to this person, or creates it");
  app.add_option("--department", o->department, "Department");
  app.add_flag("--largest", o->largest, "Use the largest face when a photo shows several");
  app.add_flag("--force", o->force, "Enroll even if the face matches someone already enrolled");
  app.add_flag("--json", o->json, "Print the result as JSON");
  app.add_flag("--reuse-retired-id", o->reuse_retired_id,
               "Give a deleted person's --id to this new person (their old rows stay theirs)");
  app.add_option("images", o->images, "Photos of the person")->required();
  return [o](Context& ctx) -> Result<int> {
    if (o->id.empty() && o->name.empty())
      return Status::InvalidArgument("--name is required for a new person (or give --id)");
    FACEATT_ASSIGN_OR_RETURN(FaceService * service, ctx.service());
    FACEATT_ASSIGN_OR_RETURN(FacePipeline * pipeline, ctx.pipeline());
    EnrollRequest req;
    req.employee_id = o->id;
    req.name = o->name;
    req.department = o->department;
    req.largest = o->largest;
    req.force = o->force;
    req.reuse_retired_id = o->reuse_retired_id;
    for (const auto& path : o->images) req.images.push_back({path, ""});
    FACEATT_ASSIGN_OR_RETURN(EnrollResult r, service->Enroll(*pipeline, req));
    if (o->json) {
      nlohmann::json images = nlohmann::json::array();
      for (const auto& out : r.outcomes)
        images.push_back({{"image", out.image},
                          {"accepted", out.accepted},
                          {"reason", out.accepted ? nlohmann::json() : nlohmann::json(out.reason)},
                          {"detail", out.detail}});
      std::cout << nlohmann::json{{"employee_id", r.user.employee_id},
                                  {"name", r.user.name},
                                  {"department", r.user.department},
                                  {"created", r.created},
                                  {"accepted", r.accepted},
                                  {"embeddings", r.user.embeddings},
                                  {"images", images}}
                       .dump()
                << "\n";
    } else {
      std::cout << r.user.employee_id << "\t" << r.user.name << "\t"
                << (r.created ? "created" : "updated") << ", " << r.accepted << " of "
                << r.outcomes.size() << " photos enrolled\n";
      for (const auto& out : r.outcomes)
        if (!out.accepted)
          std::cout << "  skipped " << out.image << ": " << out.reason
                    << (out.detail.empty() ? "" : " (" + out.detail + ")") << "\n";
    }
    return kExitOk;
  };
}

}  // namespace faceatt::cli
