// faceatt bulk-enroll: one folder per person, in parallel, safe to re-run.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <thread>

#include "command.h"
#include "faceatt/bulk_enroll.h"

namespace faceatt::cli {
namespace {

std::string Duration(double s) {
  char buf[32];
  const int t = static_cast<int>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, t / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  return buf;
}

// A bar with count, rate and ETA on a terminal; a plain line every 10 s otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool quiet) : tty_(::isatty(STDERR_FILENO) == 1), quiet_(quiet) {}
  void operator()(const BulkProgress& p) {
    if (quiet_ || p.total == 0) return;
    const double rate = p.elapsed_seconds > 0 ? p.done / p.elapsed_seconds : 0;
    const std::string eta = rate > 0 ? Duration((p.total - p.done) / rate) : "?";
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = p.done * kWidth / p.total;
      std::fprintf(stderr, "\r[%s%s] %d/%d  %.1f img/s  ETA %s ", std::string(filled, '#').c_str(),
                   std::string(kWidth - filled, '.').c_str(), p.done, p.total, rate, eta.c_str());
      std::fflush(stderr);
      drawn_ = true;
    } else if (p.elapsed_seconds - last_ >= 10 || (p.done == p.total && !final_)) {
      last_ = p.elapsed_seconds;
      final_ = p.done == p.total;
      std::fprintf(stderr, "bulk-enroll: %d/%d images, %.1f img/s, ETA %s\n", p.done, p.total, rate,
                   eta.c_str());
    }
  }
  void Finish() {
    if (drawn_) std::fputc('\n', stderr);
  }

 private:
  bool tty_, quiet_;
  bool drawn_ = false, final_ = false;
  double last_ = 0;
};

}  // namespace

Runner SetupBulkEnroll(CLI::App& app) {
  struct Options {
    std::string dir, report;
    int jobs = 0;
    bool update = false, dry_run = false, largest = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("dir", o->dir,
                 "Folder with one sub-folder per person (default paths.known_faces_dir)");
  app.add_option("--jobs,-j", o->jobs, "Images analysed in parallel (default: number of cores)")
      ->check(CLI::Range(1, 256));
  app.add_flag("--update", o->update,
               "Re-embed changed images; apply name changes from people.csv");
  app.add_flag("--dry-run", o->dry_run, "Analyse and report, change nothing");
  app.add_flag("--largest", o->largest,
               "Use the largest face of a photo showing several (people in the background)");
  app.add_option("--report", o->report, "Write every image's outcome to FILE (.csv, else JSON)");
  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    if (o->dry_run) ctx.WriteNothing();
    FACEATT_ASSIGN_OR_RETURN(Store* store, ctx.store());
    FACEATT_ASSIGN_OR_RETURN(FaceService * service, ctx.service());
    FACEATT_ASSIGN_OR_RETURN(auto models, ctx.models());
    BulkOptions opts;
    opts.dir = o->dir.empty() ? config->paths.known_faces_dir : o->dir;
    opts.jobs = o->jobs;
    opts.update = o->update;
    opts.dry_run = o->dry_run;
    opts.largest = o->largest;
    ProgressPrinter progress(ctx.options().quiet);
    opts.progress = [&progress](const BulkProgress& p) { progress(p); };
    auto result = BulkEnroll(*config, *models, *service, *store, opts);
    progress.Finish();
    FACEATT_ASSIGN_OR_RETURN(BulkSummary s, std::move(result));
    if (!o->report.empty()) FACEATT_RETURN_IF_ERROR(WriteBulkReport(s, o->report));
    for (const auto& w : s.warnings) std::cerr << "warning: " << w.message << "\n";
    for (const auto& i : s.images)
      if (i.reason == kBadLabel && (&i == &s.images.front() || (&i)[-1].label != i.label))
        std::cerr << "warning: folder " << i.label << " skipped: " << i.detail << "\n";
    const double rate = s.seconds > 0 ? s.images_total / s.seconds : 0;
    std::cout << (o->dry_run ? "dry run, nothing written: " : "") << "people: " << s.people_created
              << (o->dry_run ? " to create, " : " created, ") << s.people_updated
              << (o->dry_run ? " to update\n" : " updated\n");
    std::cout << "images: " << s.images_total << " total, " << s.images_enrolled << " enrolled, "
              << s.images_updated << " updated, " << s.images_skipped
              << " skipped (already enrolled), " << s.images_rejected << " rejected";
    if (o->dry_run) {
      int would = 0;
      for (const auto& i : s.images) would += i.outcome == kBulkWouldEnroll;
      std::cout << ", " << would << " would be enrolled";
    }
    std::cout << "\n";
    for (const auto& [reason, n] : s.rejected_by_reason)
      std::cout << "  rejected " << reason << ": " << n << "\n";
    for (const auto& i : s.images)
      if (i.reason == kChanged) {
        std::cout << "  some images changed since they were enrolled: run with --update to "
                     "re-embed them\n";
        break;
      }
    std::cout << "time: " << Fixed(s.seconds, 1) << " s, " << Fixed(rate, 1) << " images/s with "
              << s.jobs << (s.jobs == 1 ? " job\n" : " jobs\n");
    if (!s.warnings.empty()) std::cout << "warnings: " << s.warnings.size() << " (see stderr)\n";
    return kExitOk;
  };
}

}  // namespace faceatt::cli
