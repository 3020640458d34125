#include "vision/hog_scan.h"

#include <dlib/opencv.h>

#include <algorithm>
#include <cstring>

namespace faceatt {
namespace {

// Eight floats; GCC lowers these to AVX with -march=native and to pairs of SSE
// registers otherwise.
using v8 = float __attribute__((vector_size(32)));
constexpr long kLanes = 8;

inline v8 Load(const float* p) {
  v8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void Store(float* p, v8 v) { std::memcpy(p, &v, sizeof v); }
inline long RoundUp(long n) { return (n + kLanes - 1) / kLanes * kLanes; }

// out[y][j] = sum_n taps[n] * in[y][j + n] for every row, j < width (a multiple
// of 8); rows of `in` are `in_stride` apart and readable to j + taps - 1.
// Blocks of B vectors are independent chains of FMAs: one chain alone waits on
// the latency of each add.
// N is the number of taps when known at compile time (fully unrolled), else 0.
template <int B, int N>
inline void RowBlock(const float* src, const float* taps, long n, float* dst) {
  const long n_taps = N ? N : n;
  v8 acc[B] = {};
#pragma GCC unroll 16
  for (long n = 0; n < n_taps; ++n) {
    const float t = taps[n];
    for (int b = 0; b < B; ++b) acc[b] += t * Load(src + b * kLanes + n);
  }
  for (int b = 0; b < B; ++b) Store(dst + b * kLanes, acc[b]);
}

template <int N>
void RowPass(const float* in, long in_stride, long rows, long width, const std::vector<float>& taps,
             float* out) {
  const long n = static_cast<long>(taps.size());
  const float* t = taps.data();
  for (long y = 0; y < rows; ++y) {
    const float* src = in + y * in_stride;
    float* dst = out + y * width;
    long j = 0;
    for (; j + 4 * kLanes <= width; j += 4 * kLanes) RowBlock<4, N>(src + j, t, n, dst + j);
    for (; j + 2 * kLanes <= width; j += 2 * kLanes) RowBlock<2, N>(src + j, t, n, dst + j);
    for (; j < width; j += kLanes) RowBlock<1, N>(src + j, t, n, dst + j);
  }
}

// out[i..i+R)[j..j+8B) += sum_m taps[m] * in[i + m][j..]: R rows share each load
// of `in`, R x B independent chains.
template <int R, int B, int N>
inline void ColumnBlock(const float* src, long width, const float* taps, long n, float* o) {
  const long n_taps = N ? N : n;
  v8 acc[R][B];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < B; ++b) acc[r][b] = Load(o + r * width + b * kLanes);
#pragma GCC unroll 16
  for (long m = 0; m < n_taps + R - 1; ++m) {
    v8 x[B];
    for (int b = 0; b < B; ++b) x[b] = Load(src + m * width + b * kLanes);
    for (int r = 0; r < R; ++r) {
      const long tap = m - r;  // row i + r takes in[i + m] with taps[m - r]
      if (tap < 0 || tap >= n_taps) continue;
      for (int b = 0; b < B; ++b) acc[r][b] += taps[tap] * x[b];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < B; ++b) Store(o + r * width + b * kLanes, acc[r][b]);
}

// out[i][j] += sum_m taps[m] * in[i + m][j] for i < rows, j < width (a multiple
// of 8); both images have rows `width` apart.
template <int N>
void AddColumnPass(const float* in, long rows, long width, const std::vector<float>& taps,
                   float* out) {
  const long n_taps = static_cast<long>(taps.size());
  const float* t = taps.data();
  long i = 0;
  for (; i + 4 <= rows; i += 4) {
    long j = 0;
    for (; j + 2 * kLanes <= width; j += 2 * kLanes)
      ColumnBlock<4, 2, N>(in + i * width + j, width, t, n_taps, out + i * width + j);
    for (; j < width; j += kLanes)
      ColumnBlock<4, 1, N>(in + i * width + j, width, t, n_taps, out + i * width + j);
  }
  for (; i < rows; ++i)
    for (long j = 0; j < width; j += kLanes)
      ColumnBlock<1, 1, N>(in + i * width + j, width, t, n_taps, out + i * width + j);
}

}  // namespace

HogScanner::HogScanner(const dlib::frontal_face_detector& detector)
    : overlaps_(detector.get_overlap_tester()) {
  const Scanner& scanner = detector.get_scanner();
  features_ = scanner.get_feature_extractor();
  cell_size_ = static_cast<long>(scanner.get_cell_size());
  padding_ = static_cast<long>(scanner.get_padding());
  min_level_width_ = scanner.get_min_pyramid_layer_width();
  min_level_height_ = scanner.get_min_pyramid_layer_height();
  max_levels_ = scanner.get_max_pyramid_levels();
  const unsigned long dims = scanner.get_num_dimensions();
  for (unsigned long i = 0; i < detector.num_detectors(); ++i) {
    const auto& w = detector.get_w(i);
    const auto bank = scanner.build_fhog_filterbank(w);
    filter_rows_ = bank.filters[0].nr();
    filter_cols_ = bank.filters[0].nc();
    // dlib's own choice between the separable and the full filters
    // (apply_filters_to_fhog in scan_fhog_pyramid.h).
    if (bank.num_separable_filters() >
        bank.filters.size() * std::min(filter_rows_, filter_cols_) / 3.0)
      separable_ = false;
    Filter f;
    f.threshold = w(dims);
    for (unsigned long p = 0; p < bank.row_filters.size(); ++p)
      for (unsigned long k = 0; k < bank.row_filters[p].size(); ++k) {
        const auto& row = bank.row_filters[p][k];
        const auto& col = bank.col_filters[p][k];
        f.terms.push_back({static_cast<long>(p), std::vector<float>(row.begin(), row.end()),
                           std::vector<float>(col.begin(), col.end())});
      }
    filters_.push_back(std::move(f));
  }
}

std::vector<dlib::rect_detection> HogScanner::Detect(const cv::Mat& gray,
                                                     unsigned long max_levels) {
  std::vector<dlib::rect_detection> all;
  dlib::cv_image<unsigned char> img(gray);
  dlib::impl::create_fhog_pyramid<dlib::pyramid_down<6>>(
      img, features_, pyramid_.levels, cell_size_, filter_rows_, filter_cols_, min_level_width_,
      min_level_height_, std::min(max_levels, max_levels_));
  for (unsigned long level = 0; level < pyramid_.levels.size(); ++level)
    ScanLevel(pyramid_.levels[level], level, all);

  return Suppress(std::move(all));
}

std::vector<dlib::rect_detection> HogScanner::Suppress(
    std::vector<dlib::rect_detection> all) const {
  std::stable_sort(all.rbegin(), all.rend());
  std::vector<dlib::rect_detection> kept;
  for (const auto& d : all) {
    bool overlapped = false;
    for (const auto& k : kept) overlapped = overlapped || overlaps_(k.rect, d.rect);
    if (!overlapped) kept.push_back(d);
  }
  return kept;
}

// As dlib's create_fhog_pyramid counts them.
unsigned long HogScanner::Levels(long width, long height) const {
  dlib::pyramid_down<6> pyr;
  dlib::rectangle rect(0, 0, width - 1, height - 1);
  unsigned long levels = 0;
  do {
    rect = pyr.rect_down(rect);
    ++levels;
  } while (rect.width() >= min_level_width_ && rect.height() >= min_level_height_ &&
           levels < max_levels_);
  return levels;
}

void HogScanner::ScanLevel(const dlib::array<dlib::array2d<float>>& planes, unsigned long level,
                           std::vector<dlib::rect_detection>& found) {
  const long rows = planes[0].nr(), cols = planes[0].nc();
  const long out_rows = rows - filter_rows_ + 1, out_cols = cols - filter_cols_ + 1;
  if (out_rows <= 0 || out_cols <= 0) return;  // the level is smaller than the window
  // Rows padded so every 8-wide load stays inside, with zeros past the plane.
  const long width = RoundUp(out_cols);
  const long stride = RoundUp(width + filter_cols_ - 1);
  padded_.assign(planes.size() * rows * stride, 0.0f);
  for (unsigned long p = 0; p < planes.size(); ++p)
    for (long y = 0; y < rows; ++y)
      std::memcpy(&padded_[(p * rows + y) * stride], &planes[p][y][0], cols * sizeof(float));
  row_pass_.resize(rows * width);

  const long first_row = filter_rows_ / 2, first_col = filter_cols_ / 2;  // as dlib's filters
  dlib::pyramid_down<6> pyr;
  for (unsigned long d = 0; d < filters_.size(); ++d) {
    const Filter& f = filters_[d];
    if (f.terms.empty()) continue;  // dlib scans nothing for an all-zero filter
    saliency_.assign(out_rows * width, 0.0f);
    for (const Term& t : f.terms) {
      const float* plane = &padded_[t.plane * rows * stride];
      // dlib's frontal face filters are 10 x 10 cells: that size is unrolled.
      if (t.row.size() == 10)
        RowPass<10>(plane, stride, rows, width, t.row, row_pass_.data());
      else
        RowPass<0>(plane, stride, rows, width, t.row, row_pass_.data());
      if (t.col.size() == 10)
        AddColumnPass<10>(row_pass_.data(), out_rows, width, t.col, saliency_.data());
      else
        AddColumnPass<0>(row_pass_.data(), out_rows, width, t.col, saliency_.data());
    }
    for (long i = 0; i < out_rows; ++i)
      for (long j = 0; j < out_cols; ++j) {
        const double s = saliency_[i * width + j];
        if (s < f.threshold) continue;
        const dlib::point centre(j + first_col, i + first_row);
        const dlib::rectangle rect = features_.feats_to_image(
            dlib::centered_rect(centre, filter_cols_ - 2 * padding_, filter_rows_ - 2 * padding_),
            cell_size_, filter_rows_, filter_cols_);
        dlib::rect_detection det;
        det.rect = pyr.rect_up(rect, level);
        det.detection_confidence = s - f.threshold;
        det.weight_index = d;
        found.push_back(det);
      }
  }
}

}  // namespace faceatt
