// Data-folder maintenance behind `faceatt users delete`, `reset-users` and
// `fix-paths`: deleting a person with their files, backing up the database,
// and repairing the file paths the database holds.
//
// Thread safety: call from one thread; the store serialises its own access.
#pragma once

#include <string>
#include <vector>

#include "faceatt/clock.h"
#include "faceatt/data_dir.h"
#include "faceatt/status.h"
#include "faceatt/store.h"

namespace faceatt {

// Removes the thumbnails and crops of deleted embeddings (never the source
// photos); returns how many files were removed. Missing files are not an error.
int RemoveEmbeddingFiles(const DataDir& data, const std::vector<StoredEmbedding>& removed);

struct DeletedPerson {
  int embeddings = 0;     // embeddings deleted
  int files_removed = 0;  // their thumbnails and crops
};
// Deletes a person and their embeddings (their attendance rows too when
// purge_attendance), then their thumbnails and crops (RemoveEmbeddingFiles).
// kNotFound when there is no such person; when the store fails nothing is
// deleted, files included. The files go after the database change is
// committed, so a crash between the two leaves only unreferenced files
// (reset-users clears those).
Result<DeletedPerson> DeletePerson(PeopleStore& store, const DataDir& data,
                                   const std::string& employee_id, bool purge_attendance);

// Deletes one of a person's embeddings (PeopleStore::DeleteEmbedding: kNotFound,
// kConflict for their last one), then its thumbnail and crop, as DeletePerson
// does. Returns the deleted embedding.
Result<StoredEmbedding> DeletePersonPhoto(PeopleStore& store, const DataDir& data,
                                          const std::string& employee_id, int64_t embedding_id);

// A consistent copy of the database in data/backups/faceatt-<UTC time>.db
// (a new name when that exists). Returns the backup's path.
Result<std::string> BackupDatabase(MaintenanceStore& store, const DataDir& data,
                                   const Clock& clock);

struct ResetResult {
  std::string backup;  // "" with no backup
  int people = 0;
  int embeddings = 0;
  int files_removed = 0;
};
// Backs up (unless !backup), deletes every person and embedding (attendance is
// kept), then removes thumbnails/ and faces/ from the data folder.
Result<ResetResult> ResetUsers(Store& store, const DataDir& data, bool backup, const Clock& clock);

struct PathFix {
  FileRef ref;
  std::string action;    // rewrite | relocate | missing
  std::string new_path;  // for rewrite / relocate
};
struct FixPathsResult {
  int checked = 0;
  int ok = 0;
  std::vector<PathFix> fixes;  // every reference not already fine
};
// Checks every file reference: an absolute path inside the data folder becomes
// relative, and so does a stale one whose tail exists under the data folder (the
// folder moved) (rewrite); a file that moved inside the data folder is found by
// name, confirmed by sha256 when the database knows it (relocate); otherwise the
// reference is reported (missing).
// With dry_run nothing is changed. Running it twice changes nothing the second time.
Result<FixPathsResult> FixPaths(MaintenanceStore& store, const DataDir& data, bool dry_run);

}  // namespace faceatt
