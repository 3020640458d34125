// FaceService: enrollment and identification over a Store and an in-memory
// Gallery of the current model's embeddings. The CLI and the server both work
// through it, so the rules (one face per photo, quality, one enrollment per
// person, thresholds) are the same everywhere.
//
// Reason codes, as the systems faceatt replaces report them:
//   per image:  no_face, multi_face, bad_quality (with the quality issue),
//               bad_input (unreadable or too large), already_enrolled (skipped)
//   per face:   unknown, bad_quality
//
// Images are cv::Mat (8-bit BGR), the library's image type everywhere (image.h
// decodes into it, pipeline.h detects in it): callers pass what they decoded
// or captured straight through, and a prepared thumbnail stays one until it
// is written (EncodeJpeg in image.h).
//
// Thread safety: Enroll/Identify/Reload may be called from several threads,
// each with its own FacePipeline; the gallery is guarded by a reader/writer lock.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "faceatt/config.h"
#include "faceatt/data_dir.h"
#include "faceatt/gallery.h"
#include "faceatt/image.h"
#include "faceatt/pipeline.h"
#include "faceatt/store.h"

namespace faceatt {

inline constexpr const char* kNoFace = "no_face";
inline constexpr const char* kMultiFace = "multi_face";
inline constexpr const char* kBadQuality = "bad_quality";
inline constexpr const char* kBadInput = "bad_input";
inline constexpr const char* kUnknown = "unknown";
inline constexpr const char* kAlreadyEnrolled = "already_enrolled";
// Status reason of an enrollment refused because the face is someone else's.
inline constexpr const char* kEnrolledAsSomeoneElse = "face_enrolled_as_someone_else";
// Status reason of a photo refused because it is not the existing person's face.
inline constexpr const char* kNotThisPerson = "face_does_not_match_person";
// Status reason of an --id whose --name differs from the stored name.
inline constexpr const char* kNameMismatch = "name_mismatch";

// Where enroll and HTTP /enroll keep each photo's aligned chip (data-folder-relative),
// which `faceatt reembed` embeds again after a model change.
inline constexpr const char* kDefaultCropDir = "faces";

struct EnrollImage {
  std::string name;     // path or upload name, for messages and source_path
  std::string bytes;    // encoded image; when empty, `name` is read as a file
  bool upload = false;  // came over the network: `name` is no file to remember as the source
};

struct EnrollRequest {
  std::string employee_id;  // "" = new person with a generated id
  std::string name;         // required for a new person
  std::string department;
  bool largest = false;  // several faces: take the largest instead of refusing
  // Enroll even when the face matches someone else, or (adding to an existing
  // person) does not match them.
  bool force = false;
  bool reuse_retired_id = false;  // a deleted person's employee_id for someone new
  std::string crop_dir;  // data-folder-relative folder for aligned crops ("" = kDefaultCropDir)
  std::vector<EnrollImage> images;
};

struct ImageOutcome {
  std::string image;
  bool accepted = false;
  std::string reason;  // "" when accepted
  std::string detail;  // quality issue, decode error, ...
  std::optional<Box> box;
};

struct EnrollResult {
  User user;
  bool created = false;
  int accepted = 0;
  std::vector<ImageOutcome> outcomes;
};

struct FaceIdentity {
  Box box;
  bool matched = false;
  std::string employee_id;  // "" when not matched
  std::string name;
  float distance = -1;  // to the best person; -1 when nobody is enrolled or bad quality
  float threshold = 0;
  std::string reason;  // "" when matched; unknown | bad_quality
  std::string detail;  // quality issue, or "ambiguous"
  struct NamedCandidate {
    std::string employee_id, name;
    float distance;
  };
  std::vector<NamedCandidate> candidates;
};

struct Identification {
  std::string reason;               // "" or no_face
  std::vector<FaceIdentity> faces;  // largest first
};

struct IdentifyOptions {
  std::optional<double> tolerance;  // overrides the policy's
  std::optional<int> top_k;
  // "" = everyone; else only this group's people are candidates (a face of
  // anyone else is unknown). Identify: kNotFound for a group nobody is in.
  std::string group;
};

// An embedding analysed for enrollment, before it is stored.
struct PreparedFace {
  std::string image;
  std::string source_path;  // the photo's file, "" for uploads
  std::string sha256;
  Face face;  // with chip and embedding
  cv::Mat thumbnail;
};

class FaceService {
 public:
  // Loads the gallery of models->model_id() from the store.
  static Result<std::unique_ptr<FaceService>> Open(const Config& config,
                                                   std::shared_ptr<const Models> models,
                                                   Store* store, DataDir data_dir);
  // For tests with fake models: the embedder's model id and defaults are given.
  FaceService(const Config& config, std::string model_id, MatchDefaults defaults, Store* store,
              DataDir data_dir);

  // Enrolls one person from several images (all-or-nothing in the store).
  // kInvalidArgument: missing/invalid name or id, or a name that differs from
  // the existing person's (reason kNameMismatch); kConflict: the face belongs to
  // someone else (message names them and the distance; reason
  // kEnrolledAsSomeoneElse), or a photo added to an existing person is further
  // than the tolerance from their current enrollment (message names the
  // distance; reason kNotThisPerson). `force` skips both face rules. kBadInput:
  // no image was usable (every image's reason is in the message; the Status
  // reason is the first image's: kNoFace, kMultiFace, kBadQuality, kBadInput or
  // kAlreadyEnrolled).
  Result<EnrollResult> Enroll(FacePipeline& pipeline, const EnrollRequest& request);

  // Analyses one image for enrollment: exactly one usable face (or the largest).
  // Returns the reason code on refusal in ImageOutcome.
  ImageOutcome Prepare(FacePipeline& pipeline, const EnrollImage& image, bool largest,
                       std::optional<PreparedFace>* out);

  // Stores prepared faces as a new person (employee_id "" = generated) or adds
  // them to an existing one; writes thumbnails and the aligned chips (PNG, in
  // `crop_dir`, "" = kDefaultCropDir); updates the gallery.
  Result<User> Commit(const NewUser& user, bool add_to_existing,
                      const std::vector<PreparedFace>& faces, const std::string& crop_dir);

  // Every face in an image.
  Result<Identification> Identify(FacePipeline& pipeline, const cv::Mat& image,
                                  const IdentifyOptions& options = {});
  // The decision for one embedding.
  FaceIdentity Decide(const Embedding& embedding, const IdentifyOptions& options = {}) const;

  // Who a face already belongs to (for the one-enrollment-per-person rule): the
  // nearest person other than `except_employee_id` within the tolerance,
  // whatever the margin to the next candidate (a near tie is still someone's face).
  std::optional<FaceIdentity> ExistingOwner(const Embedding& embedding,
                                            const std::string& except_employee_id) const;
  // Distance from a face to one enrolled person (the policy's mean/min mode);
  // nullopt when they have no embedding of this model.
  std::optional<float> DistanceTo(const Embedding& embedding, const std::string& employee_id) const;

  // Reloads the gallery, names and groups from the store (a reload that
  // finishes after one of a newer store version is dropped).
  Status Reload();
  // Whether anyone is in `group`, and whether `employee_id` is (as of Reload).
  bool HasGroup(const std::string& group) const;
  bool InGroup(const std::string& employee_id, const std::string& group) const;
  void ForgetPerson(const std::string& employee_id);

  const MatchPolicy& policy() const { return policy_; }
  const std::string& model_id() const { return model_id_; }
  const DataDir& data_dir() const { return data_dir_; }
  Store& store() { return *store_; }
  size_t people() const;
  size_t embeddings() const;
  // Copies the gallery (evaluation and calibration).
  Gallery SnapshotGallery() const;
  std::string NameOf(const std::string& employee_id) const;

 private:
  Config config_;
  std::string model_id_;
  MatchPolicy policy_;
  Store* store_;
  DataDir data_dir_;
  mutable std::shared_mutex mu_;
  Gallery gallery_;
  std::unordered_map<std::string, std::string> names_;
  std::map<std::string, std::set<std::string>> groups_;  // group -> employee ids
  // The store's gallery version the gallery was last loaded at (-1: never),
  // so that Enroll reloads before its checks only when someone else changed it.
  int64_t loaded_version_ = -1;
};

// The square thumbnail of a face (the box enlarged 1.6x), `size` pixels wide.
cv::Mat MakeThumbnail(const cv::Mat& image, const Box& box, int size);

}  // namespace faceatt
