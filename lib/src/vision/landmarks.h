// dlib's shape predictor (the 68- or 5-point landmark model), run straight
// from a flat file mapped into memory.
//
// Why: building dlib's predictor object took 630-820 ms of every cold start
// (120,000 leaf vectors allocated and copied from the 68 MB file, after 0.8 s of
// dlib's own variable-length format the first time). The flat form is laid out
// the way the predictor reads it: one shape-sized float array per leaf, the
// trees of a cascade back to back, every tree the same depth. Loading it maps
// the file, checks its structure and copies the few small tables
// (anchors, deltas, initial shape); the 65 MB of leaves are read in place, and
// one face touches about 4 MB of them.
//
// Predict runs dlib's algorithm as dlib does, with the memory reads started
// early: a cascade's trees are walked first and each leaf is prefetched a few
// trees ahead of the sum that needs it. The same additions in the same order:
// the same landmarks, bit for bit (landmarks_test.cc).
//
// The flat file is a cache beside the other models (models_dir), named by
// LandmarkCachePath, keyed by the source file's size and modification time and
// written atomically; a missing, stale, damaged or unwritable cache only means
// the slow path (dlib's file, flattened in memory).
//
// Thread safety: a loaded model is immutable; Predict may run on any thread.
#pragma once

#include <dlib/image_processing/full_object_detection.h>
#include <dlib/image_processing/shape_predictor.h>
#include <dlib/opencv.h>

#include <memory>
#include <string>
#include <vector>

#include "faceatt/status.h"

namespace faceatt::vision {

class LandmarkModel {
 public:
  // Loads dlib's predictor file `path` through the flat cache in `cache_dir`
  // ("" = no cache). kNotFound when `path` is missing; kBadInput naming `path`
  // when it is not a shape predictor (or one faceatt cannot run: trees of
  // different depths).
  static Result<std::shared_ptr<const LandmarkModel>> Load(const std::string& path,
                                                           const std::string& cache_dir);

  // The flat form of a predictor, tagged with `key`. "" when its trees are not
  // all the same depth (dlib's trainer makes them so).
  static std::string Flatten(const dlib::shape_predictor& sp, const std::string& key);
  // A model over flat bytes. kNotFound when they were made for another key,
  // kCorruption on any damage.
  static Result<std::shared_ptr<const LandmarkModel>> FromBytes(std::string bytes,
                                                                const std::string& key);

  ~LandmarkModel();
  LandmarkModel(const LandmarkModel&) = delete;
  LandmarkModel& operator=(const LandmarkModel&) = delete;

  unsigned long num_parts() const { return static_cast<unsigned long>(initial_.size() / 2); }
  // What dlib::shape_predictor::operator()(img, rect) returns.
  dlib::full_object_detection Predict(const dlib::cv_image<dlib::bgr_pixel>& img,
                                      const dlib::rectangle& rect) const;

 private:
  struct Split {
    uint32_t idx1, idx2;
    float thresh;
  };
  struct Cascade {
    std::vector<unsigned long> anchors;
    std::vector<dlib::vector<float, 2>> deltas;
    size_t trees = 0;
    const Split* splits = nullptr;  // trees x splits_per_tree_, in the mapped bytes
    const float* leaves = nullptr;  // trees x leaves x shape floats, in the mapped bytes
  };
  LandmarkModel() = default;
  static Result<std::shared_ptr<const LandmarkModel>> Parse(std::shared_ptr<LandmarkModel> m,
                                                            const std::string& key);

  // The bytes: a read-only mapping of the cache file, or `owned_`.
  const char* data_ = nullptr;
  size_t size_ = 0;
  void* mapping_ = nullptr;
  std::string owned_;
  dlib::matrix<float, 0, 1> initial_;
  size_t splits_per_tree_ = 0;
  std::vector<Cascade> cascades_;
};

// The flat cache file used for `path` in `cache_dir`.
std::string LandmarkCachePath(const std::string& path, const std::string& cache_dir);

}  // namespace faceatt::vision
