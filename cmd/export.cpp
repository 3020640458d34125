// faceatt export: attendance as CSV / JSON / JSON Lines, for people and cron jobs.
// Reads the database only: no model is loaded.
#include <iostream>

#include "command.h"
#include "faceatt/export.h"
#include "faceatt/image.h"

namespace faceatt::cli {

Runner SetupExport(CLI::App& app) {
  struct Options {
    std::string from, to, employee, group, type, summary, format = "csv", output;
    bool include_failed = false, excel = false, no_bom = false, include_voided = false,
         with_corrections = false;
  };
  auto o = std::make_shared<Options>();
  app.add_option("--from", o->from, "First local date, YYYY-MM-DD (inclusive)");
  app.add_option("--to", o->to, "Last local date, YYYY-MM-DD (inclusive)");
  app.add_option("--employee", o->employee, "Only this employee id");
  // Given empty (--group "") is an error, not "every group".
  CLI::Option* group =
      app.add_option("--group", o->group, "Only rows of this group's members (as of each event)");
  app.add_option("--type", o->type, "Only IN or OUT events");
  app.add_flag("--include-failed", o->include_failed, "Also unknown faces and failed attempts");
  app.add_option("--summary", o->summary,
                 "daily: one row per person per day (first IN, last OUT, hours)")
      ->check(CLI::IsMember({"daily"}));
  app.add_option("--format", o->format, "csv (default), json or jsonl")
      ->check(CLI::IsMember({"csv", "json", "jsonl"}));
  app.add_flag("--excel", o->excel, "Kept for old scripts: the byte order mark is the default");
  app.add_flag("--no-bom", o->no_bom, "CSV without the UTF-8 byte order mark");
  app.add_flag("--include-voided", o->include_voided, "Also voided records (column voided)");
  app.add_flag("--with-corrections", o->with_corrections,
               "Add each record's correction trail (column corrections, JSON)");
  app.add_option("-o,--output", o->output, "Write to FILE atomically instead of stdout");
  return [o, group](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Store * store, ctx.store());
    ExportOptions opts;
    if (!o->from.empty()) opts.from_date = o->from;
    if (!o->to.empty()) opts.to_date = o->to;
    if (!o->employee.empty()) opts.employee_id = o->employee;
    if (!o->type.empty()) opts.type = o->type;
    if (group->count()) opts.group = o->group;
    opts.include_failed = o->include_failed;
    opts.summary_daily = o->summary == "daily";
    opts.format = o->format;
    if (o->excel && o->no_bom) return Status::InvalidArgument("--excel and --no-bom disagree");
    if ((o->excel || o->no_bom) && o->format != "csv")
      return Status::InvalidArgument("--excel and --no-bom apply to CSV only");
    opts.bom = !o->no_bom;
    opts.include_voided = o->include_voided;
    opts.with_corrections = o->with_corrections;
    FACEATT_ASSIGN_OR_RETURN(std::string text, ExportAttendance(*store, opts));
    if (o->output.empty() || o->output == "-") {
      std::cout << text << std::flush;
      if (!std::cout) return Status::IoError("cannot write to stdout");
    } else {
      FACEATT_RETURN_IF_ERROR(WriteFileAtomic(o->output, text));
    }
    return kExitOk;
  };
}

}  // namespace faceatt::cli
