// dlib's HOG face detector with a faster filter stage. The features (dlib's
// fhog pyramid), the detector's separable filter bank, its thresholds and its
// non-maximum suppression are dlib's own; only the filtering, about half of
// the detector's time, is rewritten: dlib runs each separable filter over each
// plane with scalar code at the right edge of every row (most of a small
// pyramid level), this runs every column in 8-wide vectors over zero-padded
// copies of the planes. The sums are the same up to float rounding, so the
// boxes are the same (hog_scan_test.cc compares them on real photos).
#pragma once

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <opencv2/core.hpp>

#include <vector>

namespace faceatt {

class HogScanner {
 public:
  // Takes the detector's configuration and weights; `detector` is not kept.
  explicit HogScanner(const dlib::frontal_face_detector& detector);

  // What detector(image, dets, 0.0) returns for an 8-bit gray image, scanning
  // at most `max_levels` pyramid levels (as the detector would with
  // set_max_pyramid_levels): detections most confident first, non-maximum
  // suppressed. Not thread-safe (scratch buffers are reused); copies are
  // independent.
  std::vector<dlib::rect_detection> Detect(const cv::Mat& gray, unsigned long max_levels);

  // Detections from several scans (pyramid levels split between threads) as
  // one scan returns them: most confident first, every box that overlaps one
  // already kept dropped, as dlib's object_detector does.
  std::vector<dlib::rect_detection> Suppress(std::vector<dlib::rect_detection> all) const;

  // The pyramid levels Detect scans for a width x height image (at most
  // max_levels()).
  unsigned long Levels(long width, long height) const;
  unsigned long max_levels() const { return max_levels_; }

  // False when dlib would filter with the full (not separable) filters, which
  // this class does not do; the caller then uses dlib's detector.
  bool separable() const { return separable_; }

 private:
  using Scanner = dlib::frontal_face_detector::image_scanner_type;
  struct Term {
    long plane;
    std::vector<float> row, col;
  };
  struct Filter {
    std::vector<Term> terms;
    double threshold;  // the detector's bias: score = saliency - threshold
  };

  void ScanLevel(const dlib::array<dlib::array2d<float>>& planes, unsigned long level,
                 std::vector<dlib::rect_detection>& found);

  // The scanner's configuration (dlib's scanner itself cannot be copied).
  Scanner::feature_extractor_type features_;
  long cell_size_ = 0, padding_ = 0;
  unsigned long min_level_width_ = 0, min_level_height_ = 0, max_levels_ = 0;
  dlib::test_box_overlap overlaps_;
  std::vector<Filter> filters_;
  long filter_rows_ = 0, filter_cols_ = 0;  // the fhog window, padding included
  bool separable_ = true;

  // Scratch reused between calls; a copy starts with its own, empty.
  struct Pyramid {
    dlib::array<dlib::array<dlib::array2d<float>>> levels;  // dlib's arrays cannot be copied
    Pyramid() = default;
    Pyramid(const Pyramid&) {}
    Pyramid& operator=(const Pyramid&) { return *this; }
  };
  Pyramid pyramid_;
  std::vector<float> padded_, row_pass_, saliency_;
};

}  // namespace faceatt
