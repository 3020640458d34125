// The tables `faceatt store copy` moves, with their columns in the order
// MaintenanceStore::ExportTables and ImportTables use on every backend. Parents
// before children: an import inserts in this order and deletes in reverse.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "faceatt/status.h"
#include "faceatt/store.h"

namespace faceatt {

struct CopyColumn {
  const char* name;
  char kind;  // 'i' integer, 'r' real, 't' text, 'b' bytes (the embedding vector)
};
struct CopyTable {
  const char* name;
  std::vector<CopyColumn> columns;
  const char* order_by;  // the primary key: rows in a stable order for the checksums
  bool has_serial_id;    // an id column whose generator continues after the copied ids
};

// A real's text in exports: enough digits that it reads back as the same double.
inline std::string FormatReal(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

inline const std::vector<CopyTable>& CopyTables() {
  static const std::vector<CopyTable> tables = {
      {"users",
       {{"id", 'i'},
        {"employee_id", 't'},
        {"name", 't'},
        {"department", 't'},
        {"active", 'i'},
        {"created_at", 't'},
        {"updated_at", 't'},
        {"generation", 'i'}},
       "id",
       true},
      {"embeddings",
       {{"id", 'i'},
        {"user_id", 'i'},
        {"model_id", 't'},
        {"vector", 'b'},
        {"quality", 'r'},
        {"source_path", 't'},
        {"source_sha256", 't'},
        {"thumbnail_path", 't'},
        {"crop_path", 't'},
        {"created_at", 't'}},
       "id",
       true},
      {"user_groups", {{"user_id", 'i'}, {"name", 't'}}, "user_id, name", false},
      {"retired_ids", {{"employee_id", 't'}, {"generation", 'i'}}, "employee_id", false},
      {"id_sequence", {{"name", 't'}, {"next", 'i'}}, "name", false},
      {"attendance",
       {{"id", 'i'},
        {"employee_id", 't'},
        {"type", 't'},
        {"status", 't'},
        {"reason", 't'},
        {"device_id", 't'},
        {"distance", 'r'},
        {"ts_server", 't'},
        {"ts_client", 't'},
        {"image_ref", 't'},
        {"name", 't'},
        {"generation", 'i'},
        {"voided", 'i'},
        {"added_by_admin", 'i'},
        {"groups", 't'}},
       "id",
       true},
      {"attendance_audit",
       {{"id", 'i'},
        {"attendance_id", 'i'},
        {"action", 't'},
        {"actor", 't'},
        {"at", 't'},
        {"reason", 't'},
        {"old_value", 't'},
        {"new_value", 't'}},
       "id",
       true},
      {"webhook_outbox",
       {{"id", 'i'},
        {"url", 't'},
        {"event", 't'},
        {"body", 't'},
        {"status", 't'},
        {"attempts", 'i'},
        {"next_attempt_at", 't'},
        {"last_error", 't'},
        {"last_http_status", 'i'},
        {"created_at", 't'},
        {"delivered_at", 't'}},
       "id",
       true},
  };
  return tables;
}

// DeleteEmbedding's rule on every backend: `all` is the person's embeddings;
// the one to delete must be among them and must not be the last.
inline Result<StoredEmbedding> PickEmbeddingToDelete(const std::vector<StoredEmbedding>& all,
                                                     const std::string& employee_id,
                                                     int64_t embedding_id) {
  for (const auto& e : all) {
    if (e.id != embedding_id) continue;
    if (all.size() == 1)
      return Status::Conflict("photo " + std::to_string(embedding_id) + " is the last of " +
                              employee_id + "; delete the person instead");
    return e;
  }
  return Status::NotFound("no photo " + std::to_string(embedding_id) + " of " + employee_id);
}

}  // namespace faceatt
