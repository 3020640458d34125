#include "faceatt/export.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "faceatt/attendance.h"
#include "faceatt/clock.h"
#include "faceatt/json.h"

namespace faceatt {
namespace {

// Local time with milliseconds: FormatLocal gives seconds and the offset.
std::string LocalTimestamp(int64_t ms) {
  const std::string base = FormatLocal(ms);  // 2026-11-21T17:30:00+09:00
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(((ms % 1000) + 1000) % 1000));
  return base.substr(0, 19) + frac + base.substr(19);
}

// "2026-11-21 17:30:00", local: the form Excel turns into a date-time cell.
std::string ExcelTime(int64_t ms) {
  std::string t = FormatLocal(ms).substr(0, 19);
  t[10] = ' ';
  return t;
}

// Numbers rounded for reading (JSON's shortest form prints 0.4123, not 0.41230000000000003).
double Round(double v, double scale) { return std::round(v * scale) / scale; }

struct Person {
  std::string name, department;
};

// excel_time beside the ISO timestamp: Excel reads "YYYY-MM-DD HH:MM:SS" as a
// date-time, and ISO 8601 with an offset as text.
const std::vector<std::string> kEventColumns = {
    "id",         "timestamp", "excel_time",    "date",   "employee_id", "name",
    "department", "type",      "status",        "reason", "device_id",   "distance",
    "image_ref",  "ts_client", "name_at_event", "voided", "groups"};
const std::vector<std::string> kSummaryColumns = {"date",     "employee_id", "name",  "department",
                                                  "first_in", "last_out",    "hours", "events"};

// Rows as (column -> text or null) in column order, then rendered.
using Row = std::vector<nlohmann::json>;

std::string Render(const std::vector<std::string>& columns, const std::vector<Row>& rows,
                   const ExportOptions& o) {
  std::string out;
  if (o.format == "csv") {
    if (o.bom) out += "\xEF\xBB\xBF";
    out += CsvRow(columns);
    for (const auto& r : rows) {
      std::vector<std::string> fields;
      for (const auto& v : r)
        fields.push_back(v.is_null()         ? ""
                         : v.is_string()     ? NeutraliseFormula(v.get<std::string>())
                         : v.is_structured() ? NeutraliseFormula(DumpJson(v))
                                             : DumpJson(v));
      out += CsvRow(fields);
    }
    return out;
  }
  nlohmann::json all = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json obj = nlohmann::json::object();
    for (size_t i = 0; i < columns.size(); ++i) obj[columns[i]] = r[i];
    if (o.format == "jsonl")
      out += DumpJson(obj) + "\n";
    else
      all.push_back(std::move(obj));
  }
  if (o.format == "json") out = DumpJson(all, 2) + "\n";
  return out;
}

}  // namespace

std::string NeutraliseFormula(const std::string& v) {
  if (v.empty() || std::string_view("=+-@\t\r").find(v[0]) == std::string_view::npos) return v;
  // A number (-3.5, +82) is data, not a formula.
  char* end = nullptr;
  std::strtod(v.c_str(), &end);
  if (v[0] != '=' && v[0] != '@' && end == v.c_str() + v.size()) return v;
  return "'" + v;
}

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvRow(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + CsvField(fields[i]);
  return out + "\r\n";
}

Result<std::vector<std::vector<std::string>>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  size_t i = 0;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) i = 3;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) return Status::BadInput("CSV: unterminated quoted field");
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::string> NextDate(const std::string& date) {
  FACEATT_RETURN_IF_ERROR(LocalDayStart(date));  // the Result, not its .status(): that would dangle
  using namespace std::chrono;
  const int y = std::stoi(date.substr(0, 4));
  const unsigned m = std::stoul(date.substr(5, 2)), d = std::stoul(date.substr(8, 2));
  const year_month_day next{sys_days{year{y} / month{m} / day{d}} + days{1}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(next.year()),
                static_cast<unsigned>(next.month()), static_cast<unsigned>(next.day()));
  return std::string(buf);
}

Result<std::string> ExportAttendance(Store& store, const ExportOptions& o) {
  if (o.format != "csv" && o.format != "json" && o.format != "jsonl")
    return Status::InvalidArgument("--format must be csv, json or jsonl, not '" + o.format + "'");
  if (o.with_corrections && o.summary_daily)
    return Status::InvalidArgument("--with-corrections applies to events, not --summary daily");
  if (o.status && *o.status != kStatusSuccess && *o.status != kStatusUnknown &&
      *o.status != kStatusFailed)
    return Status::InvalidArgument("status must be success, unknown or failed");
  if (o.summary_daily && (o.include_failed || o.type || o.status))
    return Status::InvalidArgument(
        "--summary daily counts successful IN/OUT events only: drop --include-failed and --type");
  AttendanceQuery q;
  q.limit = 0;
  q.newest_first = false;
  if (o.from_date) {
    FACEATT_ASSIGN_OR_RETURN(int64_t from, LocalDayStart(*o.from_date));
    q.from_ms = from;
  }
  if (o.to_date) {
    FACEATT_ASSIGN_OR_RETURN(std::string next, NextDate(*o.to_date));
    FACEATT_ASSIGN_OR_RETURN(int64_t to, LocalDayStart(next));
    q.to_ms = to;
  }
  if (q.from_ms && q.to_ms && *q.from_ms >= *q.to_ms)
    return Status::InvalidArgument("--from " + *o.from_date + " is after --to " + *o.to_date);
  if (o.type) {
    FACEATT_ASSIGN_OR_RETURN(std::string t, ParseAttendanceType(*o.type, false));
    q.type = t;
  }
  if (!o.include_failed) q.status = kStatusSuccess;
  if (o.status) q.status = o.status;
  if (o.group) {
    if (o.group->empty()) return Status::InvalidArgument("--group needs a group name");
    // A typo is an error, not an empty export; a group since emptied still has its rows.
    FACEATT_ASSIGN_OR_RETURN(auto groups, store.ListGroups());
    if (!groups.count(*o.group)) {
      AttendanceQuery any;
      any.group = o.group;
      FACEATT_ASSIGN_OR_RETURN(int64_t n, store.CountAttendance(any));
      if (n == 0) return Status::NotFound("no group '" + *o.group + "' (nor attendance of one)");
    }
    q.group = o.group;
  }
  q.include_voided = o.include_voided;

  FACEATT_ASSIGN_OR_RETURN(auto users, store.ListUsers());
  std::unordered_map<std::string, Person> people;
  for (const auto& u : users) people[u.employee_id] = {u.name, u.department};
  if (o.employee_id) {
    FACEATT_RETURN_IF_ERROR(ValidateEmployeeId(*o.employee_id));
    if (!people.count(*o.employee_id)) {
      AttendanceQuery any;
      any.employee_id = o.employee_id;
      FACEATT_ASSIGN_OR_RETURN(int64_t n, store.CountAttendance(any));
      if (n == 0)
        return Status::NotFound("no employee " + *o.employee_id + " (nor attendance of one)");
    }
    q.employee_id = o.employee_id;
  }
  FACEATT_ASSIGN_OR_RETURN(auto records, store.QueryAttendance(q));
  auto person = [&](const std::optional<std::string>& id) {
    auto it = id ? people.find(*id) : people.end();
    return it == people.end() ? Person{} : it->second;
  };

  std::vector<Row> rows;
  if (!o.summary_daily) {
    std::vector<std::string> columns = kEventColumns;
    if (o.with_corrections) columns.push_back("corrections");
    for (const auto& r : records) {
      // The person's name now when the row is theirs (same id generation);
      // else the name it was recorded with (deleted, or the id re-used).
      const Person p = r.current_name ? person(r.employee_id) : Person{r.name_at_event, ""};
      rows.push_back({r.id, LocalTimestamp(r.ts_server_ms), ExcelTime(r.ts_server_ms),
                      LocalDate(r.ts_server_ms),
                      r.employee_id ? nlohmann::json(*r.employee_id) : nlohmann::json(),
                      OrNull(p.name), OrNull(p.department), OrNull(r.type), r.status,
                      OrNull(r.reason), OrNull(r.device_id),
                      r.distance ? nlohmann::json(Round(*r.distance, 1e4)) : nlohmann::json(),
                      OrNull(r.image_ref), OrNull(r.ts_client), OrNull(r.name_at_event), r.voided,
                      OrNull(r.groups)});
      if (o.with_corrections) {
        nlohmann::json trail = nlohmann::json::array();
        if (r.corrections > 0 || r.added_by_admin) {
          FACEATT_ASSIGN_OR_RETURN(auto audit, store.AttendanceAudit(r.id));
          for (const auto& e : audit) trail.push_back(AuditJson(e));
        }
        rows.back().push_back(trail);
      }
    }
    return Render(columns, rows, o);
  }
  // One row per (local date, person), in date then id order.
  struct Day {
    std::optional<int64_t> first_in, last_out;
    int events = 0;
  };
  std::map<std::pair<std::string, std::string>, Day> days;
  for (const auto& r : records) {
    if (!r.employee_id || r.status != kStatusSuccess) continue;
    Day& d = days[{LocalDate(r.ts_server_ms), *r.employee_id}];
    ++d.events;
    if (r.type == "IN" && (!d.first_in || r.ts_server_ms < *d.first_in))
      d.first_in = r.ts_server_ms;
    if (r.type == "OUT" && (!d.last_out || r.ts_server_ms > *d.last_out))
      d.last_out = r.ts_server_ms;
  }
  for (const auto& [key, d] : days) {
    const Person p = person(key.second);
    nlohmann::json hours;
    if (d.first_in && d.last_out && *d.last_out > *d.first_in)
      hours = Round((*d.last_out - *d.first_in) / 3.6e6, 100);
    rows.push_back({key.first, key.second, OrNull(p.name), OrNull(p.department),
                    d.first_in ? nlohmann::json(LocalTimestamp(*d.first_in)) : nlohmann::json(),
                    d.last_out ? nlohmann::json(LocalTimestamp(*d.last_out)) : nlohmann::json(),
                    hours, d.events});
  }
  return Render(kSummaryColumns, rows, o);
}

}  // namespace faceatt
