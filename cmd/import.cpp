// faceatt import: people, embeddings and attendance from the Python services
// faceatt replaces (docs/migrate.md).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>

#include "command.h"
#include "faceatt/migrate.h"

namespace faceatt::cli {

Runner SetupImport(CLI::App& app) {
  struct Options {
    std::string source, path, encodings, images, utc_offset = "Z";
    bool dry_run = false, trust = false;
  };
  auto o = std::make_shared<Options>();
  const std::map<std::string, ImportSource> kSources = {
      {"mysqldump", ImportSource::kMysqlDump},
      {"tsv", ImportSource::kMysqlTsv},
      {"ml-data", ImportSource::kMlData},
      {"school-sqlite", ImportSource::kSchoolSqlite}};
  app.add_option("source", o->source,
                 "mysqldump | tsv (the attendance API's MySQL), ml-data (the ML service's "
                 "data/ folder), school-sqlite (the school system's database)")
      ->required()
      ->check(CLI::IsMember({"mysqldump", "tsv", "ml-data", "school-sqlite"}));
  app.add_option("path", o->path, "Dump file, folder of <table>.tsv, data/ folder or SQLite file")
      ->required();
  app.add_option("--encodings", o->encodings,
                 "Folder of the .npy files the rows name (default: beside the dump / the TSV "
                 "folder)");
  app.add_option("--images", o->images, "Folder of {employee_id}_thumb_*.jpg photos");
  app.add_option("--utc-offset", o->utc_offset,
                 "Zone of the source's timestamps without one, e.g. +09:00 (default: UTC)");
  app.add_flag("--trust-unchecked", o->trust,
               "Import 128-D vectors that no photo can check (default only for ml-data)");
  app.add_flag("--dry-run", o->dry_run,
               "Read and check everything, print the report, write nothing");
  return [o, kSources](Context& ctx) -> Result<int> {
    if (o->dry_run) ctx.WriteNothing();
    FACEATT_ASSIGN_OR_RETURN(Config * config, ctx.config());
    FACEATT_ASSIGN_OR_RETURN(FaceService * service, ctx.service());
    FACEATT_ASSIGN_OR_RETURN(FacePipeline * pipeline, ctx.pipeline());
    ImportOptions opts;
    opts.source = kSources.at(o->source);
    opts.path = o->path;
    opts.encodings_dir = o->encodings;
    opts.images_dir = o->images;
    opts.utc_offset = o->utc_offset;
    opts.dry_run = o->dry_run;
    if (o->trust) opts.trust_unchecked = true;
    // Progress on stderr: one updated line on a terminal, a line every 1000 items otherwise.
    const bool tty = ::isatty(STDERR_FILENO) == 1, quiet = ctx.options().quiet;
    opts.progress = [&](int done, int total) {
      if (quiet || (!tty && done % 1000 != 0 && done != total)) return;
      std::fprintf(stderr, "%simport: %d/%d people and attendance rows%s", tty ? "\r" : "", done,
                   total, tty && done != total ? "" : "\n");
      std::fflush(stderr);
    };
    FACEATT_ASSIGN_OR_RETURN(ImportReport r, Import(*config, *service, *pipeline, opts));
    std::cout << (r.dry_run ? "dry run: nothing was written\n" : "") << "model: " << r.model_id
              << " (imported vectors agree within " << Fixed(r.agree_bound, 2) << ")\n"
              << "people: " << r.people.size() << " (" << r.people_created << " created, "
              << r.people_skipped << " already imported, " << r.needs_enrollment.size()
              << " need enrollment)\n"
              << "embeddings: " << r.embeddings_imported << " imported, " << r.embeddings_reembedded
              << " re-embedded from photos, " << r.embeddings_refused << " refused\n"
              << "attendance: " << r.attendance_added << " added (" << r.attendance_success
              << " success, " << r.attendance_unknown << " unknown, " << r.attendance_failed
              << " failed), " << r.attendance_skipped << " already there\n";
    if (!r.ids_continue_after.empty())
      std::cout << "generated ids continue after " << r.ids_continue_after << "\n";
    for (const auto& [cls, ids] : r.classes) {
      std::cout << "class " << cls << " (group):";
      for (const auto& id : ids) std::cout << " " << id;
      std::cout << "\n";
    }
    for (const auto& p : r.people) {
      std::cout << p.employee_id << "\t" << p.name << "\t" << p.outcome;
      if (p.vectors_imported) std::cout << ", " << p.vectors_imported << " vectors imported";
      if (p.reembedded) std::cout << ", " << p.reembedded << " photos re-embedded";
      std::cout << "\n";
      for (const auto& why : p.refused) std::cout << "  refused " << why << "\n";
      for (const auto& why : p.unusable_photos) std::cout << "  photo not used " << why << "\n";
    }
    if (!r.needs_enrollment.empty()) {
      std::cout << "need photos (enroll them with `faceatt enroll --id ID PHOTO`):";
      for (const auto& id : r.needs_enrollment) std::cout << " " << id;
      std::cout << "\n";
    }
    return kExitOk;
  };
}

}  // namespace faceatt::cli
