// faceatt attendance add|void|amend|list|history: the attendance log and its
// corrections. Nothing is deleted: a void marks a row, an amend changes its
// type or time, and each writes who, when and why into the audit table.
// Reads the database only: no model is loaded.
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "command.h"
#include "faceatt/attendance.h"
#include "faceatt/json.h"

namespace faceatt::cli {
namespace {

struct Options {
  std::string action, target, type, at, reason, by, device = "admin", employee, from, to;
  bool json = false, include_voided = false;
  int limit = 50;
};

// "cli:<--by or $USER>": the audit row names the person at the keyboard.
std::string Actor(const Options& o) {
  std::string who = o.by;
  if (who.empty()) {
    const char* user = std::getenv("USER");
    who = user && *user ? user : "unknown";
  }
  return "cli:" + who;
}

Result<int64_t> RowId(const std::string& text) {
  char* end = nullptr;
  const long long id = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || id <= 0)
    return Status::InvalidArgument("attendance record id must be a positive number, not '" + text +
                                   "'");
  return static_cast<int64_t>(id);
}

std::string Name(const AttendanceRecord& r) {
  if (r.current_name && !r.current_name->empty() && *r.current_name != r.name_at_event)
    return *r.current_name + " (then " + r.name_at_event + ")";
  return r.name_at_event.empty() ? "-" : r.name_at_event;
}

std::string Flags(const AttendanceRecord& r) {
  std::string f;
  if (r.voided) f += " [voided]";
  if (r.corrections > 0 && !r.voided) f += " [amended]";
  if (r.added_by_admin) f += " [added by admin]";
  return f;
}

void PrintRow(const AttendanceRecord& r) {
  std::cout << r.id << "\t" << FormatLocal(r.ts_server_ms) << "\t"
            << (r.employee_id ? *r.employee_id : "-") << "\t" << Name(r) << "\t"
            << (r.type.empty() ? "-" : r.type) << "\t" << r.status
            << (r.reason.empty() ? "" : " (" + r.reason + ")") << Flags(r) << "\n";
}

nlohmann::json RowJson(const AttendanceRecord& r) {
  nlohmann::json j = {{"id", r.id},
                      {"ts_server", FormatUtc(r.ts_server_ms)},
                      {"time", FormatLocal(r.ts_server_ms)},
                      {"employee_id", r.employee_id ? nlohmann::json(*r.employee_id) : nullptr},
                      {"type", OrNull(r.type)},
                      {"status", r.status},
                      {"reason", OrNull(r.reason)},
                      {"device_id", r.device_id}};
  j.update(AttendanceFactsJson(r));
  return j;
}

Result<int> List(Store& store, const Options& o) {
  AttendanceQuery q;
  q.limit = o.limit;
  q.include_voided = o.include_voided;
  if (!o.employee.empty()) q.employee_id = o.employee;
  if (!o.from.empty()) {
    FACEATT_ASSIGN_OR_RETURN(int64_t from, LocalDayStart(o.from));
    q.from_ms = from;
  }
  if (!o.to.empty()) {
    FACEATT_ASSIGN_OR_RETURN(int64_t to, LocalDayStart(o.to));
    q.to_ms = to + 24 * 3600 * 1000;  // --to is inclusive
  }
  FACEATT_ASSIGN_OR_RETURN(auto rows, store.QueryAttendance(q));
  if (o.json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& r : rows) all.push_back(RowJson(r));
    std::cout << DumpJson(all, 2) << "\n";
  } else {
    for (const auto& r : rows) PrintRow(r);
  }
  return kExitOk;
}

Result<int> History(Store& store, const Options& o) {
  FACEATT_ASSIGN_OR_RETURN(int64_t id, RowId(o.target));
  FACEATT_ASSIGN_OR_RETURN(AttendanceRecord r, store.GetAttendance(id));
  FACEATT_ASSIGN_OR_RETURN(auto audit, store.AttendanceAudit(id));
  if (o.json) {
    nlohmann::json j = RowJson(r), trail = nlohmann::json::array();
    for (const auto& e : audit) trail.push_back(AuditJson(e));
    j["corrections"] = trail;
    std::cout << DumpJson(j, 2) << "\n";
    return kExitOk;
  }
  PrintRow(r);
  if (audit.empty()) std::cout << "  no corrections\n";
  for (const auto& e : audit)
    std::cout << "  " << FormatLocal(e.at_ms) << "  " << e.action << " by " << e.actor << ": "
              << e.reason << (e.old_value.empty() ? "" : "  was " + e.old_value)
              << (e.new_value.empty() ? "" : "  now " + e.new_value) << "\n";
  return kExitOk;
}

Result<int> Correct(Store& store, const Options& o) {
  const Correction by{Actor(o), o.reason};
  if (o.reason.empty()) return Status::InvalidArgument("--reason is required for a correction");
  std::optional<int64_t> at;
  if (!o.at.empty()) {
    FACEATT_ASSIGN_OR_RETURN(int64_t t, ParseWallTime(o.at));
    at = t;
  }
  std::optional<std::string> type;
  if (!o.type.empty()) {
    FACEATT_ASSIGN_OR_RETURN(std::string t, ParseAttendanceType(o.type, false));
    type = t;
  }
  int64_t id = 0;
  if (o.action == "add") {
    FACEATT_RETURN_IF_ERROR(ValidateEmployeeId(o.target).WithPrefix("bad employee id"));
    if (!type || !at) return Status::InvalidArgument("add needs --type and --at");
    AttendanceRecord r;
    r.employee_id = o.target;
    r.type = *type;
    r.ts_server_ms = *at;
    r.device_id = o.device;
    r.reason = "manual";
    FACEATT_ASSIGN_OR_RETURN(id, store.AddCorrectedAttendance(r, by));
  } else {
    FACEATT_ASSIGN_OR_RETURN(id, RowId(o.target));
    if (o.action == "void") {
      FACEATT_RETURN_IF_ERROR(store.VoidAttendance(id, by));
    } else {
      FACEATT_RETURN_IF_ERROR(store.AmendAttendance(id, type, at, by));
    }
  }
  FACEATT_ASSIGN_OR_RETURN(AttendanceRecord r, store.GetAttendance(id));
  if (o.json)
    std::cout << DumpJson(RowJson(r), 2) << "\n";
  else
    PrintRow(r);
  return kExitOk;
}

}  // namespace

Runner SetupAttendance(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.require_subcommand(1);
  auto correction = [o](CLI::App* sub) {
    sub->add_option("--reason", o->reason, "Why (required; kept in the audit trail)")->required();
    sub->add_option("--by", o->by, "Who corrects (default $USER)");
    sub->add_flag("--json", o->json, "Print the record as JSON");
  };
  CLI::App* add = app.add_subcommand("add", "Add a record at its real time (a forgotten check)");
  add->add_option("employee_id", o->target, "Employee id")->required();
  add->add_option("--type", o->type, "IN or OUT")->required();
  add->add_option("--at", o->at, "When: YYYY-MM-DDTHH:MM[:SS] local, or ISO 8601 with offset")
      ->required();
  add->add_option("--device", o->device, "Device id to record (default admin)");
  correction(add);
  CLI::App* void_ = app.add_subcommand("void", "Void a record (kept, left out of reports)");
  void_->add_option("id", o->target, "Attendance record id")->required();
  correction(void_);
  CLI::App* amend = app.add_subcommand("amend", "Change a record's type and/or time");
  amend->add_option("id", o->target, "Attendance record id")->required();
  amend->add_option("--type", o->type, "New type: IN or OUT");
  amend->add_option("--at", o->at, "New time: YYYY-MM-DDTHH:MM[:SS] local, or with offset");
  correction(amend);
  CLI::App* list = app.add_subcommand("list", "Recent records, newest first");
  list->add_option("--employee", o->employee, "Only this employee id");
  list->add_option("--from", o->from, "First local date, YYYY-MM-DD");
  list->add_option("--to", o->to, "Last local date, YYYY-MM-DD (inclusive)");
  list->add_flag("--include-voided", o->include_voided, "Also voided records");
  list->add_option("--limit", o->limit, "At most N rows (default 50, 0 = all)")
      ->check(CLI::Range(0, 1 << 30));
  list->add_flag("--json", o->json, "As a JSON array");
  CLI::App* history = app.add_subcommand("history", "One record and its corrections");
  history->add_option("id", o->target, "Attendance record id")->required();
  history->add_flag("--json", o->json, "As JSON");
  for (CLI::App* sub : {add, void_, amend, list, history})
    sub->callback([o, sub] { o->action = sub->get_name(); });

  return [o](Context& ctx) -> Result<int> {
    FACEATT_ASSIGN_OR_RETURN(Store * store, ctx.store());
    if (o->action == "list") return List(*store, *o);
    if (o->action == "history") return History(*store, *o);
    return Correct(*store, *o);
  };
}

}  // namespace faceatt::cli
