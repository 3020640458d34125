// faceatt calibrate: tolerance and margin from the people already enrolled.
#include <iostream>

#include "command.h"
#include "faceatt/eval.h"

namespace faceatt::cli {
namespace {
// A suggestion that names fewer than this share of the enrolled photos'
// own people would make most check-ins fail: too few or mislabelled
// enrollments, or a target rate too strict for the gallery. --apply refuses it
// (exit 4) unless --force.
constexpr double kMinGenuineAcceptToApply = 0.5;
}  // namespace

Runner SetupCalibrate(CLI::App& app) {
  struct Options {
    double target_far = 0.01;
    bool apply = false;
    bool force = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option(
         "--target-far", o->target_far,
         "Impostor-accept rate to aim for in 1:N search over everyone enrolled (default 0.01)")
      ->check(CLI::Range(1e-6, 0.5));
  app.add_flag("--apply", o->apply,
               "Write the suggested tolerance and margin into the config file");
  app.add_flag("--force", o->force,
               "With --apply: write them even when they accept fewer than half of the enrolled "
               "photos as their person");
  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    (void)config;
    FACEATT_ASSIGN_OR_RETURN(FaceService * service, ctx.service());
    FACEATT_ASSIGN_OR_RETURN(auto rows, service->store().LoadEmbeddings(service->model_id()));
    CalibrationOptions options;
    options.target_far = o->target_far;
    FACEATT_ASSIGN_OR_RETURN(Calibration c, Calibrate(rows, options));
    const MatchPolicy& now = service->policy();
    std::cout << "model             " << service->model_id() << "\n"
              << "enrolled          " << c.people << " people, " << c.embeddings << " photos\n"
              << "genuine           " << c.genuine_pairs << " photos vs own mean: median "
              << Fixed(c.genuine_median) << ", 95th percentile " << Fixed(c.genuine_p95) << "\n"
              << "impostor          " << c.impostor_pairs << " photo vs other person: median "
              << Fixed(c.impostor_median) << ", 1st percentile " << Fixed(c.impostor_p1) << "\n"
              << "target            " << Fixed(100 * o->target_far, 2)
              << "% impostor accepts in 1:" << c.people
              << " search = " << Fixed(100 * c.per_comparison_far, 4) << "% per comparison"
              << (c.extrapolated ? " (beyond the measured pairs: Gaussian tail)" : "") << "\n"
              << "suggested         tolerance " << Fixed(c.tolerance) << ", margin "
              << Fixed(c.margin, 2) << "  (now " << Fixed(now.tolerance) << ", "
              << Fixed(now.margin, 2) << ")\n"
              << "with them         " << Fixed(100 * c.genuine_accept, 1)
              << "% of photos accepted as their person, " << Fixed(100 * c.observed_far, 1)
              << "% of photos accepted as someone else when their person is left out\n";
    if (c.people < 20)
      std::cout << "note: with " << c.people
                << " people the estimate is rough; calibrate again as more enroll\n";
    if (!o->apply) {
      std::cout << "run with --apply to write them into "
                << (ctx.config_file().empty() ? "the config file" : ctx.config_file()) << "\n";
      return kExitOk;
    }
    if (ctx.config_file().empty())
      return Status::InvalidArgument(
          "--apply needs a config file: pass --config FILE (or create config.toml)");
    if (c.genuine_accept < kMinGenuineAcceptToApply && !o->force)
      return Status::Conflict("not written: the suggestion accepts only " +
                              Fixed(100 * c.genuine_accept, 1) +
                              "% of the enrolled photos as their own person (fewer than half); "
                              "check the enrollments or the target rate, or pass --force");
    FACEATT_RETURN_IF_ERROR(
        UpdateConfigFile(ctx.config_file(), {{"recognition.tolerance", Fixed(c.tolerance)},
                                             {"recognition.margin", Fixed(c.margin, 2)}}));
    std::cout << "written to " << ctx.config_file() << "\n";
    return kExitOk;
  };
}

}  // namespace faceatt::cli
