// Attendance export for people and cron jobs: CSV (RFC 4180, UTF-8), JSON or
// JSON Lines, raw events or one row per person per local day.
//
// CSV is for spreadsheets (issue 14): UTF-8 with a byte order mark unless
// `bom` is false (Excel reads Korean names right only with it); a cell that
// begins with = + - @ (or a tab or CR) is neutralised with a leading
// apostrophe, as OWASP's CSV-injection advice says, so a name like
// =HYPERLINK(...) stays text; a "excel_time" column ("2026-11-21 17:30:00",
// local) beside the ISO one is read by Excel as a date-time. Voided rows are
// left out unless include_voided; with_corrections adds each row's correction
// trail (a JSON array) and whether it was voided.
//
// Dates are local dates in the process time zone (SetTimeZone, from
// attendance.timezone); --to is inclusive. Timestamps are written as ISO 8601
// local time with the offset ("2026-11-21T17:30:00.000+09:00").
// Each event row carries its "groups" snapshot (';'-separated, as of the
// event); `group` keeps the rows of that group's members at the time.
// Errors: kInvalidArgument for a bad date, type, format or combination;
// kNotFound for an employee id, or a group, that is neither known nor in the log.
//
// Thread safety: ExportAttendance only reads the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "faceatt/status.h"
#include "faceatt/store.h"

namespace faceatt {

struct ExportOptions {
  std::optional<std::string> from_date;  // YYYY-MM-DD, inclusive
  std::optional<std::string> to_date;    // YYYY-MM-DD, inclusive
  std::optional<std::string> employee_id;
  std::optional<std::string> type;   // IN | OUT (any case)
  std::optional<std::string> group;  // rows whose group snapshot (as of the event) holds it
  bool include_failed = false;       // also unknown faces and failures
  // Only rows of this status (success | unknown | failed); overrides
  // include_failed (GET /attendance.csv's status filter).
  std::optional<std::string> status;
  bool summary_daily = false;
  std::string format = "csv";  // csv | json | jsonl
  bool bom = true;             // CSV with a UTF-8 byte order mark (--no-bom: without)
  bool include_voided = false;
  bool with_corrections = false;
};

// The whole export as text (an empty range gives the header row / "[]" / "").
Result<std::string> ExportAttendance(Store& store, const ExportOptions& options);

// One RFC 4180 field: quoted when it holds a comma, quote, CR or LF.
std::string CsvField(const std::string& value);
// A cell a spreadsheet will not run as a formula: a leading ' when it starts
// with = + - @ tab or CR (values that are numbers, like -3.5, are left alone).
std::string NeutraliseFormula(const std::string& value);
// Fields joined by commas, ended by CRLF.
std::string CsvRow(const std::vector<std::string>& fields);
// Parses RFC 4180 text into rows (for tests and people.csv); kBadInput on an
// unterminated quote.
Result<std::vector<std::vector<std::string>>> ParseCsv(const std::string& text);

// The local date after `yyyy_mm_dd`; kInvalidArgument for a bad date.
Result<std::string> NextDate(const std::string& yyyy_mm_dd);

}  // namespace faceatt
