// faceatt eval: accuracy on a folder-per-person tree, in a temporary store.
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "command.h"
#include "faceatt/eval.h"
#include "faceatt/image.h"
#include "faceatt/json.h"

namespace faceatt::cli {
namespace {

std::string Percent(double v) { return Fixed(100 * v, 1) + "%"; }

nlohmann::json ReportJson(const EvalReport& r) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : r.points)
    points.push_back({{"target_far", p.target_far},
                      {"tolerance", Round4(p.tolerance)},
                      {"far", Round4(p.far)},
                      {"car", Round4(p.car)},
                      {"bounded_by_samples", p.bounded_by_samples}});
  return {{"model_id", r.model_id},
          {"enroll_per_person", r.enroll_per_person},
          {"people_enrolled", r.people_enrolled},
          {"enrolled_photos", r.enrolled_photos},
          {"impostor_people", r.impostor_people},
          {"genuine_probes", r.genuine_probes},
          {"impostor_probes", r.impostor_probes},
          {"unusable_photos", r.unusable_photos},
          {"match", r.mode == MatchMode::kMin ? "min" : "mean"},
          {"tolerance", Round4(r.tolerance)},
          {"margin", Round4(r.margin)},
          {"rank1", Round4(r.rank1)},
          {"correct_accept_rate", Round4(r.correct_accept_rate)},
          {"wrong_accept_rate", Round4(r.wrong_accept_rate)},
          {"impostor_accept_rate", Round4(r.impostor_accept_rate)},
          {"operating_points", points}};
}

void PrintText(const EvalReport& r) {
  std::cout << "model            " << r.model_id << "\n"
            << "people enrolled  " << r.people_enrolled << " (" << r.enroll_per_person
            << " photos each, " << (r.mode == MatchMode::kMin ? "nearest photo" : "mean embedding")
            << ")\n"
            << "probes           " << r.genuine_probes << " genuine, " << r.impostor_probes
            << " impostor (from " << r.impostor_people << " people never enrolled";
  std::cout << "), " << r.unusable_photos << " photos without a usable face\n"
            << "rank-1           " << Percent(r.rank1) << "\n"
            << "at tolerance " << Fixed(r.tolerance) << ", margin " << Fixed(r.margin) << ":\n"
            << "  correct accept        " << Percent(r.correct_accept_rate) << "\n"
            << "  wrong-person accept   " << Percent(r.wrong_accept_rate) << "\n"
            << "  impostor accept       " << Percent(r.impostor_accept_rate) << "\n"
            << "correct accept at impostor-accept rate (same margin):\n";
  for (const auto& p : r.points) {
    std::cout << "  " << Fixed(100 * p.target_far, 1) << "%  ->  " << Percent(p.car)
              << "  at tolerance " << Fixed(p.tolerance) << " (measured " << Percent(p.far) << ")";
    if (p.bounded_by_samples)
      std::cout << "  [fewer than " << std::lround(1 / p.target_far) << " impostor probes]";
    std::cout << "\n";
  }
}

}  // namespace

Runner SetupEval(CLI::App& app) {
  struct Options {
    std::string dir;
    int enroll = 3;
    std::string impostors;
    bool json = false;
    std::string plot;
    int jobs = 0;
    bool probes = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("dir", o->dir, "Folder with one sub-folder of photos per person")->required();
  app.add_option(
         "--enroll", o->enroll,
         "Photos enrolled per person (default 3); people with fewer than K+1 photos are impostors")
      ->check(CLI::Range(1, 100));
  app.add_option("--impostors", o->impostors,
                 "Extra photos of people never enrolled (all must come back unknown)");
  app.add_flag("--json", o->json, "Print the report as one JSON object");
  app.add_option("--plot", o->plot, "Write genuine/impostor distance histograms to this PNG");
  app.add_flag("--probes", o->probes,
               "With --json: every probe photo's nearest people, distances and decision");
  app.add_option("--jobs", o->jobs, "Photos analysed in parallel (default: CPU cores)")
      ->check(CLI::Range(1, 64));
  return [o](Context& ctx) -> Result<int> {
    // Config and models only: the user's database is never opened.
    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    FACEATT_ASSIGN_OR_RETURN(auto models, ctx.models());
    EvalOptions options;
    options.enroll_per_person = o->enroll;
    options.impostors_dir = o->impostors;
    options.jobs =
        o->jobs > 0 ? o->jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const bool show_progress = !o->json && ctx.stdout_is_terminal() && !ctx.options().quiet;
    if (show_progress)
      options.progress = [](size_t done, size_t total) {
        if (done % 20 == 0 || done == total)
          std::cerr << "\ranalysed " << done << "/" << total << std::flush;
      };
    FACEATT_ASSIGN_OR_RETURN(EvalReport report, Evaluate(o->dir, *config, models, options));
    if (show_progress) std::cerr << "\n";
    if (!o->plot.empty()) {
      FACEATT_ASSIGN_OR_RETURN(std::string png, PlotDistancesPng(report));
      FACEATT_RETURN_IF_ERROR(WriteFileAtomic(o->plot, png));
    }
    if (o->json) {
      nlohmann::json j = ReportJson(report);
      if (!o->plot.empty()) j["plot"] = o->plot;
      if (o->probes) {
        nlohmann::json probes = nlohmann::json::array();
        auto or_null = [](float d) { return d < 0 ? nlohmann::json() : nlohmann::json(Round4(d)); };
        for (const auto& p : report.probes)
          probes.push_back(
              {{"image", p.image},
               {"person", p.person},
               {"enrolled", p.enrolled},
               {"best", p.best},
               {"best_distance", or_null(p.best_distance)},
               {"second_distance", or_null(p.second_distance)},
               {"own_distance", or_null(p.own_distance)},
               {"accepted", p.accepted},
               {"accepted_as", p.accepted ? nlohmann::json(p.accepted_as) : nlohmann::json()}});
        j["probes"] = probes;
      }
      std::cout << j.dump() << "\n";
    } else {
      PrintText(report);
      if (!o->plot.empty()) std::cout << "histograms written to " << o->plot << "\n";
    }
    return kExitOk;
  };
}

}  // namespace faceatt::cli
