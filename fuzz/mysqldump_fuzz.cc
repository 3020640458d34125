// mysqldump and `mysql --batch` TSV parsing (faceatt import): any text.
// Pass: no crash, no sanitizer report; every row parsed has as many values as
// its table has columns.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "migrate/tables.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto dump = faceatt::migrate::ParseMysqlDump(text, "fuzz.sql");
  if (dump.ok())
    for (const auto& [name, table] : *dump)
      for (const auto& row : table.rows)
        if (row.values.size() != table.columns.size()) std::abort();
  auto tsv = faceatt::migrate::ParseMysqlTsv(text, "fuzz.tsv");
  if (tsv.ok())
    for (const auto& row : tsv->rows)
      if (row.values.size() != tsv->columns.size()) std::abort();
  return 0;
}
