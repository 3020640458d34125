#include "vision/model_cache.h"

#include <sstream>

#include <dlib/revision.h>

#include "faceatt/image.h"

namespace faceatt::vision {
namespace {

// dlib keeps the predictor's parts private and offers only its slow stream
// format. An explicit template instantiation may name private members
// ([temp.spec]/6), which lets this file read them directly.
template <typename Tag, typename Tag::type kMember>
struct Expose {
  friend typename Tag::type MemberOf(Tag) { return kMember; }
};
struct InitialShape {
  using type = dlib::matrix<float, 0, 1> dlib::shape_predictor::*;
  friend type MemberOf(InitialShape);
};
struct Forests {
  using type = std::vector<std::vector<dlib::impl::regression_tree>> dlib::shape_predictor::*;
  friend type MemberOf(Forests);
};
struct AnchorIdx {
  using type = std::vector<std::vector<unsigned long>> dlib::shape_predictor::*;
  friend type MemberOf(AnchorIdx);
};
struct Deltas {
  using type = std::vector<std::vector<dlib::vector<float, 2>>> dlib::shape_predictor::*;
  friend type MemberOf(Deltas);
};
template struct Expose<InitialShape, &dlib::shape_predictor::initial_shape>;
template struct Expose<Forests, &dlib::shape_predictor::forests>;
template struct Expose<AnchorIdx, &dlib::shape_predictor::anchor_idx>;
template struct Expose<Deltas, &dlib::shape_predictor::deltas>;

}  // namespace

Status LoadFrontalFaceDetector(const std::string& cache_dir, dlib::frontal_face_detector& out) {
  const std::string version = std::to_string(DLIB_MAJOR_VERSION) + "." +
                              std::to_string(DLIB_MINOR_VERSION) + "." +
                              std::to_string(DLIB_PATCH_VERSION);
  const std::string cache =
      cache_dir.empty() ? ""
                        : cache_dir + "/.hog_frontal_face_detector-" + version + ".faceatt-cache";
  if (!cache.empty()) {
    auto bytes = ReadFileBytes(cache, int64_t{1} << 26);
    if (bytes.ok()) {
      try {
        std::istringstream in(*bytes);
        dlib::deserialize(out, in);
        if (out.num_detectors() > 0 && in.peek() == std::char_traits<char>::eof())
          return Status::Ok();
      } catch (const std::exception&) {
        // Damaged: built again below.
      }
    }
  }
  try {
    out = dlib::get_frontal_face_detector();
    if (!cache.empty()) {
      std::ostringstream bytes;
      dlib::serialize(out, bytes);
      (void)WriteFileAtomic(cache, bytes.str());  // best effort, as for the landmarks
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot build dlib's face detector: ") + e.what());
  }
  return Status::Ok();
}

Status LoadShapePredictor(const std::string& path, dlib::shape_predictor& out) {
  FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, int64_t{1} << 31));
  return DeserializeBytes(bytes, out, path, "dlib shape predictor (landmarks)");
}

ShapePredictorParts PartsOf(const dlib::shape_predictor& sp) {
  return {&(sp.*MemberOf(InitialShape{})), &(sp.*MemberOf(Forests{})), &(sp.*MemberOf(AnchorIdx{})),
          &(sp.*MemberOf(Deltas{}))};
}

}  // namespace faceatt::vision
