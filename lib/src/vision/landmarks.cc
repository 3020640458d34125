#include "vision/landmarks.h"

#include <vector>

namespace faceatt::vision {
namespace {

// Leaves fetched this many trees ahead: enough to cover a memory round trip
// at a few nanoseconds per tree, few enough to stay in the L1 cache.
constexpr size_t kAhead = 8;

void Prefetch(const dlib::matrix<float, 0, 1>& leaf) {
  const char* p = reinterpret_cast<const char*>(&leaf(0));
  const size_t bytes = leaf.size() * sizeof(float);
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
}

}  // namespace

dlib::full_object_detection PredictShape(const ShapePredictorParts& parts,
                                         const dlib::cv_image<dlib::bgr_pixel>& img,
                                         const dlib::rectangle& rect) {
  const auto& initial = *parts.initial_shape;
  dlib::matrix<float, 0, 1> current = initial;
  std::vector<float> pixels;
  std::vector<const dlib::matrix<float, 0, 1>*> leaves;
  for (size_t cascade = 0; cascade < parts.forests->size(); ++cascade) {
    dlib::impl::extract_feature_pixel_values(img, rect, current, initial,
                                             (*parts.anchor_idx)[cascade], (*parts.deltas)[cascade],
                                             pixels);
    const auto& forest = (*parts.forests)[cascade];
    leaves.clear();
    unsigned long leaf_index;
    for (const auto& tree : forest) leaves.push_back(&tree(pixels, leaf_index));
    for (size_t i = 0; i < std::min(kAhead, leaves.size()); ++i) Prefetch(*leaves[i]);
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (i + kAhead < leaves.size()) Prefetch(*leaves[i + kAhead]);
      current += *leaves[i];
    }
  }
  const dlib::point_transform_affine to_image = dlib::impl::unnormalizing_tform(rect);
  std::vector<dlib::point> points(current.size() / 2);
  for (size_t i = 0; i < points.size(); ++i) points[i] = to_image(dlib::impl::location(current, i));
  return dlib::full_object_detection(rect, points);
}

}  // namespace faceatt::vision
