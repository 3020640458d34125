// Import: people, face embeddings and attendance history from the Python
// services faceatt replaces (docs/migrate.md walks through each).
//
// Sources:
//   kMysqlDump / kMysqlTsv  the Korean attendance API: a mysqldump file, or a
//       folder of `mysql --batch` exports (users.tsv, user_embeddings.tsv,
//       attendance.tsv), plus its encodings folder (the .npy files the rows
//       name) and images folder ({employee_id}_thumb_{ts}.jpg);
//   kMlData  the ML microservice's data/ folder: embeddings/<label>.npy (N x 128)
//       and faces/<label>/*.jpg;
//   kSchoolSqlite  the school system's SQLite file: classes, students (their
//       class becomes the department; the class mapping is in the report),
//       face_embeddings (512-D InsightFace: never imported) and attendance.
//
// Embeddings: only 128-D vectors can be face_recognition's (dlib ResNet)
// descriptors. Each is checked against the embedding, under the current model,
// of the person's photos that came along: it is imported when its distance
// to the nearest is at most the identify tolerance (so the imported vector
// would identify that photo as this person), and the person is re-embedded
// from the photos otherwise (every vector refused with its distance). A vector
// with no photo to check against is imported only when `trust_unchecked` (the
// ML microservice only ever wrote face_recognition's descriptors; the Korean
// API wrote DeepFace Facenet's 128-D when dlib was missing). Vectors of
// another size (the 512-D HOG fallback, InsightFace) are refused. A person
// left with no embedding is created and listed as needing enrollment.
//
// Outcomes: every input is read and checked before the first write, so bad
// input (a malformed dump or TSV, a truncated .npy, a missing or unreadable
// file a row names) returns kBadInput naming the file and line and changes
// nothing. Each person (with their embeddings) is one transaction, each
// attendance row another; people already in the store are skipped and an
// attendance row identical to a stored one (person, time, type, status,
// device) is not added again, so a run stopped at any moment is resumed by
// running it again. A store error stops the run (what was committed stays).
// Defaults: writes (dry_run false); timestamps without a zone are UTC.
// Thread safety: one call at a time per FaceService/FacePipeline.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "faceatt/config.h"
#include "faceatt/face_service.h"
#include "faceatt/pipeline.h"

namespace faceatt {

enum class ImportSource { kMysqlDump, kMysqlTsv, kMlData, kSchoolSqlite };

struct ImportOptions {
  ImportSource source = ImportSource::kMysqlDump;
  std::string path;              // dump file, TSV folder, data/ folder or SQLite file
  std::string encodings_dir;     // Korean API: where the .npy files are ("" = beside the dump)
  std::string images_dir;        // Korean API: thumbnails ("" = none)
  std::string utc_offset = "Z";  // zone of the source's naive timestamps ("+09:00")
  bool dry_run = false;
  std::optional<bool> trust_unchecked;                // default: true for kMlData only
  std::function<void(int done, int total)> progress;  // after each person, then each 1000 rows
};

struct ImportedPerson {
  std::string employee_id, name, department;
  std::string outcome;  // created | already imported | created, needs enrollment
  int vectors_imported = 0;
  int reembedded = 0;                        // photos embedded under the current model
  std::vector<std::string> refused;          // one line per refused vector: "file[row]: why"
  std::vector<std::string> unusable_photos;  // "file: no_face", ...
};

struct ImportReport {
  std::string model_id;
  double agree_bound = 0;  // the distance bound a vector had to meet
  bool dry_run = false;
  std::vector<ImportedPerson> people;  // source order
  int people_created = 0, people_skipped = 0;
  int embeddings_imported = 0, embeddings_reembedded = 0, embeddings_refused = 0;
  int attendance_added = 0, attendance_skipped = 0;  // skipped: already stored
  int attendance_success = 0, attendance_unknown = 0, attendance_failed = 0;
  std::vector<std::string> needs_enrollment;  // employee ids with no embedding
  // School system: class name -> its students' employee ids.
  std::map<std::string, std::vector<std::string>> classes;
  std::string ids_continue_after;  // highest imported <prefix><n> id ("" when none)
};

Result<ImportReport> Import(const Config& config, FaceService& service, FacePipeline& pipeline,
                            const ImportOptions& options);

}  // namespace faceatt
