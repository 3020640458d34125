// The Korean attendance API's tables as its owners can hand them over: a
// mysqldump file (CREATE TABLE and INSERT statements) or the TSV that
// `mysql --batch` writes (a header line, tab-separated values, backslash
// escapes, NULL). Each row keeps the line it came from, for error messages.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "faceatt/status.h"

namespace faceatt::migrate {

struct TableRow {
  int line = 0;                                    // 1-based line of the file where the row starts
  std::vector<std::optional<std::string>> values;  // nullopt = SQL NULL
};

struct Table {
  std::string file;
  std::vector<std::string> columns;
  std::vector<TableRow> rows;
  // The column's index, or -1.
  int Column(const std::string& name) const;
  // A row's value of `column` (nullopt when NULL or when the table has no such column).
  std::optional<std::string> Get(const TableRow& row, const std::string& column) const;
  // "file:line".
  std::string Where(const TableRow& row) const;
};

// Every table a mysqldump file creates and fills, by name. kBadInput naming
// file and line for an INSERT that does not parse, a row whose value count
// differs from its columns, or an INSERT into a table never created.
Result<std::map<std::string, Table>> ParseMysqlDump(const std::string& text,
                                                    const std::string& file);
// One `mysql --batch` export. kBadInput naming file and line for a row whose
// field count differs from the header's, or an empty file.
Result<Table> ParseMysqlTsv(const std::string& text, const std::string& file);

}  // namespace faceatt::migrate
