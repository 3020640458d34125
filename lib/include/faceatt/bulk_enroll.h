// Bulk enrollment: one folder per person under a known_faces folder.
//
//   known_faces/<label>/*.jpg|jpeg|png|bmp|webp|tif|tiff
//   known_faces/people.csv   optional: label,employee_id,name,department,group
//                            (group: one or more group names separated by ';',
//                            each person is put in them; never taken out)
//
// A label "EMP001" gives the employee id, "EMP001_Hong Gildong" the id and the
// name, anything else the name (underscores read as spaces) with a generated id.
// people.csv rows override what the label says. Labels are used as folder names
// under data/faces/, so they must be one safe path component (IsSafePathComponent).
//
// Images are analysed in parallel (`jobs` workers, each with its own pipeline,
// BLAS limited to one thread per worker); one writer commits each person in one
// transaction, in folder order (so generated ids do not depend on `jobs`).
// Idempotent and resumable: an image whose sha256 is already enrolled for the
// current model is skipped, and a killed run leaves whole people only.
//
// Thread safety: BulkEnroll runs its own threads; call it from one thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "faceatt/face_service.h"
#include "faceatt/pipeline.h"
#include "faceatt/status.h"
#include "faceatt/store.h"

namespace faceatt {

struct BulkLabel {
  std::string employee_id;  // "" = generate
  std::string name;         // "" = keep the existing person's
  std::string department;
  std::vector<std::string> groups;  // people.csv `group` column, split at ';'
};

// Reads a folder label; kInvalidArgument when it is not a safe path component or
// its id / name is invalid.
Result<BulkLabel> ParseLabel(const std::string& label);

// Reads people.csv (RFC 4180, header row with label,employee_id,name[,department][,group]).
// kBadInput names the line of a malformed row or unsafe label.
Result<std::map<std::string, BulkLabel>> ReadPeopleCsv(const std::string& path);
// The same for text already read; `path` is named in errors.
Result<std::map<std::string, BulkLabel>> ParsePeopleCsv(const std::string& text,
                                                        const std::string& path);

// Image outcomes in BulkImage::outcome.
inline constexpr const char* kBulkEnrolled = "enrolled";
inline constexpr const char* kBulkUpdated = "updated";
inline constexpr const char* kBulkSkipped = "skipped";
inline constexpr const char* kBulkRejected = "rejected";
inline constexpr const char* kBulkWouldEnroll = "would_enroll";  // --dry-run
// Reasons beyond FaceService's: the image's path is enrolled with other
// contents or another model (re-embedded with `update`); the folder was refused.
inline constexpr const char* kChanged = "changed";
inline constexpr const char* kBadLabel = "bad_label";

struct BulkImage {
  std::string label;
  std::string path;
  std::string employee_id;  // "" when the person was not stored
  std::string outcome;      // enrolled | updated | skipped | rejected | would_enroll
  std::string reason;       // "" for enrolled/updated
  std::string detail;
};

struct BulkWarning {
  std::string kind;  // same_person | outlier
  std::string message;
};

struct BulkProgress {
  int done = 0;  // images analysed (or skipped)
  int total = 0;
  double elapsed_seconds = 0;
};

struct BulkOptions {
  std::string dir;       // the known_faces folder
  int jobs = 0;          // <= 0: number of cores
  bool update = false;   // re-embed changed images, apply people.csv name changes
  bool dry_run = false;  // analyse, write nothing
  bool largest = false;  // a photo with several faces gives its largest (else multi_face)
  std::function<void(const BulkProgress&)> progress;  // called from the calling thread
  double progress_interval_seconds = 0.2;
};

struct BulkSummary {
  int people_created = 0;
  int people_updated = 0;
  int people_unchanged = 0;
  int images_total = 0;
  int images_enrolled = 0;
  int images_updated = 0;
  int images_skipped = 0;
  int images_rejected = 0;
  std::map<std::string, int> rejected_by_reason;
  std::vector<BulkImage> images;  // every image, folder order
  std::vector<BulkWarning> warnings;
  double seconds = 0;
  int jobs = 0;
};

// Enrolls every folder of options.dir. Fails (kNotFound / kBadInput) before
// doing anything when the folder or people.csv is unusable; a folder with a bad
// label is reported (bad_label) and skipped. A store failure stops the run.
Result<BulkSummary> BulkEnroll(const Config& config, const Models& models, FaceService& service,
                               PeopleStore& store, const BulkOptions& options);

// Writes every image's outcome as CSV (".csv") or JSON (anything else), atomically.
Status WriteBulkReport(const BulkSummary& summary, const std::string& path);

}  // namespace faceatt
