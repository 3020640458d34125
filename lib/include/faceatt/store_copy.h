// Copying a whole store to another backend (`faceatt store copy`): SQLite to
// PostgreSQL when an installation outgrows one machine, and back.
//
// Copies every table as it is (people, embeddings with their model ids and
// vectors, groups, retired ids, the id counter, attendance with its ids,
// generations, voided rows and audit trail, the webhook outbox), reading the
// source in one snapshot and writing the destination in one transaction, then
// reads the destination back and compares each table's row count and SHA-256
// checksum with the source's. Files (thumbnails, crops) are not in the store
// and are not copied: they stay in the data folder.
//
// Outcomes: kConflict when the destination already holds rows and !force
// (nothing is written); kCorruption when the verification finds a difference
// (the destination is left as written, the report names the table); the
// backends' own errors otherwise. Progress goes to `progress`, one line a table.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "faceatt/store.h"

namespace faceatt {

struct TableSummary {
  std::string name;
  int64_t rows = 0;
  std::string sha256;  // hex, over the rows in primary-key order
};

struct CopyOptions {
  bool force = false;  // replace a destination that already holds rows
  std::function<void(const std::string&)> progress;
};

// The summaries of every table of `store` (what CopyStore verifies).
Result<std::vector<TableSummary>> SummarizeStore(MaintenanceStore& store);

// Copies `from` into `to`; returns the verified summaries.
Result<std::vector<TableSummary>> CopyStore(MaintenanceStore& from, MaintenanceStore& to,
                                            const CopyOptions& options);

}  // namespace faceatt
