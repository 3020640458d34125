// Reembed: after a model change, recomputes every stored embedding with the
// current model, so nobody has to be enrolled again.
//
// What it works from, per enrollment photo (one stored embedding of an older
// model, or several of different models for the same photo):
//   1. the aligned 150x150 chip kept as a lossless PNG (crop_path). Every
//      recognizer faceatt loads takes the same chip (HOG box, 68 landmarks,
//      150 px, 0.25 padding), so its embedding is exactly the one the original
//      photo would give;
//   2. else the source photo (source_path), when it is still there and its
//      sha256 is the one enrolled: detected and aligned again (the largest
//      face), and its chip is kept (data/faces/) for next time;
//   3. else the photo cannot be re-embedded: it is listed with the reason.
//
// Old-model embeddings are KEPT, each new one beside its old one (same photo,
// thumbnail, crop and sha256, the new model id). Embeddings of different models
// are never compared, so they do not disturb matching, and keeping them lets a
// user switch back to the previous model without losing anyone; a row is 512
// bytes. (`users delete` and `reset-users` remove all of a person's rows.)
//
// Resumable: a photo that already has an embedding of the current model is
// skipped, and each person's new embeddings are added in one transaction, so a
// run stopped at any moment loses nothing committed and the next run carries
// on. People inactive are re-embedded too (reactivating them needs no step).
//
// Outcomes: Ok with the summary, even when some photos failed (they are in
// `failures`); a store error stops the run and is returned (what was committed
// stays). kInvalidArgument when `pipeline` runs another model than `service`.
// Thread safety: one call at a time per FaceService/FacePipeline.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "faceatt/config.h"
#include "faceatt/face_service.h"
#include "faceatt/pipeline.h"

namespace faceatt {

struct ReembedProgress {
  int done = 0;   // people looked at
  int total = 0;  // people in the store
  int embeddings = 0;
  double elapsed_seconds = 0;
};

struct ReembedFailure {
  std::string employee_id;
  std::string name;
  std::string photo;   // source path, else crop path, as stored
  std::string reason;  // e.g. "aligned chip faces/ab.png and source photo a.jpg are both missing"
};

struct ReembedOptions {
  std::function<void(const ReembedProgress&)> progress;  // after each person
};

struct ReembedSummary {
  std::string model_id;
  int people_total = 0;
  int people_reembedded = 0;  // got at least one new embedding
  int people_skipped = 0;     // every photo already had one of the current model
  int people_failed = 0;      // at least one photo could not be re-embedded
  int embeddings_reembedded = 0;
  int from_chip = 0;    // of those, from the kept aligned chip
  int from_source = 0;  // from the source photo
  int embeddings_failed = 0;
  std::vector<ReembedFailure> failures;  // employee id order
  double seconds = 0;
};

Result<ReembedSummary> Reembed(const Config& config, FaceService& service, FacePipeline& pipeline,
                               const ReembedOptions& options = {});

}  // namespace faceatt
