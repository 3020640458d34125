// Model loading helpers and the detector's cache (the landmark model's flat
// cache is in landmarks.h):
//   - dlib's HOG face detector is built from a compressed string compiled into
//     libdlib, 0.5 s of decompression; its plain serialisation loads in 3 ms.
//
// The caches sit beside the other models (models_dir) as hidden files, keyed
// by the source file's size and modification time (the landmarks) or dlib's
// version (the detector), and are written atomically; a missing, stale,
// damaged or unwritable cache only means the slow path.
#pragma once

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_processing/shape_predictor.h>

#include <sstream>
#include <string>

#include "faceatt/status.h"

namespace faceatt::vision {

// Deserializes a dlib object from bytes in dlib's format; kBadInput names the
// file and says what it should have been ("... is not a <what> model file").
template <typename T>
Status DeserializeBytes(const std::string& bytes, T& out, const std::string& path,
                        const std::string& what) {
  try {
    std::istringstream in(bytes);
    dlib::deserialize(out, in);
    return Status::Ok();
  } catch (const std::exception& e) {
    std::string msg = e.what();  // dlib's last line says what went wrong
    if (size_t nl = msg.find_last_of('\n'); nl != std::string::npos && nl + 1 < msg.size())
      msg = msg.substr(nl + 1);
    return Status::BadInput(path + " is not a " + what + " model file (" + msg + ")");
  }
}

// Loads dlib's shape predictor file at `path` (dlib's own, slow format: the
// flat cache in landmarks.h is what faceatt runs). kBadInput names `path` when
// it is not a shape predictor.
Status LoadShapePredictor(const std::string& path, dlib::shape_predictor& out);

// dlib's HOG frontal face detector, through the cache in `cache_dir` ("" = none).
Status LoadFrontalFaceDetector(const std::string& cache_dir, dlib::frontal_face_detector& out);

// A shape predictor's private parts, read-only (dlib offers no accessors);
// valid while `sp` lives. landmarks.h flattens the predictor from them.
struct ShapePredictorParts {
  const dlib::matrix<float, 0, 1>* initial_shape;
  const std::vector<std::vector<dlib::impl::regression_tree>>* forests;
  const std::vector<std::vector<unsigned long>>* anchor_idx;
  const std::vector<std::vector<dlib::vector<float, 2>>>* deltas;
};
ShapePredictorParts PartsOf(const dlib::shape_predictor& sp);

}  // namespace faceatt::vision
