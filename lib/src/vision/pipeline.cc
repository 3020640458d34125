#include "faceatt/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <opencv2/imgproc.hpp>

namespace faceatt {

float Distance(const Embedding& a, const Embedding& b) {
  float sum = 0;
  for (int i = 0; i < kEmbeddingDim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  return std::sqrt(sum);
}

PipelineOptions PipelineOptions::FromConfig(const Config& config) {
  PipelineOptions o;
  o.detect_max_side = config.image.detect_max_side;
  o.upsample_below = config.image.upsample_below;
  o.small_face_retry = config.image.small_face_retry;
  o.flip = config.recognition.flip;
  o.quality = config.quality;
  return o;
}

FacePipeline::FacePipeline(std::unique_ptr<FaceDetector> detector,
                           std::unique_ptr<FaceAligner> aligner,
                           std::unique_ptr<FaceEmbedder> embedder, PipelineOptions options)
    : detector_(std::move(detector)),
      aligner_(std::move(aligner)),
      embedder_(std::move(embedder)),
      options_(options) {
  detector_->set_threads(options.two_threads ? 2 : 1);
}

void FacePipeline::set_options(const PipelineOptions& options) {
  options_ = options;
  detector_->set_threads(options.two_threads ? 2 : 1);
}

std::unique_ptr<FacePipeline> FacePipeline::Clone() const {
  return std::make_unique<FacePipeline>(detector_->Clone(), aligner_->Clone(), embedder_->Clone(),
                                        options_);
}

namespace {

// The detector works on a copy no longer than detect_max_side (speed), and tiny
// images are doubled (up to 4x) until their longest side reaches upsample_below:
// dlib's HOG detector misses faces under about 80 px. Every other photo is
// detected at its own size first, and at twice the size only when that finds
// nothing (small_face_retry, in Analyze), so a 40 px face is still found.
double WorkingScale(int width, int height, const PipelineOptions& o) {
  const int longest = std::max(width, height);
  if (longest > o.detect_max_side) return static_cast<double>(o.detect_max_side) / longest;
  double scale = 1;
  while (longest * scale < o.upsample_below && scale < 4) scale *= 2;
  return scale;
}

Box ScaleBox(const Box& b, double s, int width, int height) {
  Box out{static_cast<int>(std::lround(b.left / s)), static_cast<int>(std::lround(b.top / s)),
          static_cast<int>(std::lround(b.right / s)), static_cast<int>(std::lround(b.bottom / s))};
  out.left = std::clamp(out.left, 0, width);
  out.right = std::clamp(out.right, 0, width);
  out.top = std::clamp(out.top, 0, height);
  out.bottom = std::clamp(out.bottom, 0, height);
  return out;
}

void MeasureQuality(Face& face, const QualityConfig& q) {
  cv::Mat gray, lap;
  cv::cvtColor(face.chip, gray, cv::COLOR_BGR2GRAY);
  // The central half of the chip is skin; the border is background and hair.
  const int m = kChipSize / 4;
  cv::Mat centre = gray(cv::Rect(m, m, kChipSize - 2 * m, kChipSize - 2 * m));
  face.brightness = cv::mean(centre)[0];
  cv::Laplacian(gray, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  face.sharpness = stddev[0] * stddev[0];
  if (std::min(face.box.width(), face.box.height()) < q.min_face_px)
    face.quality_issue = kTooSmall;
  else if (face.brightness < q.min_brightness)
    face.quality_issue = kTooDark;
  else if (face.brightness > q.max_brightness)
    face.quality_issue = kTooBright;
  else if (face.sharpness < q.min_sharpness)
    face.quality_issue = kTooBlurry;
}

}  // namespace

Result<std::vector<Face>> FacePipeline::Analyze(const cv::Mat& bgr, const AnalyzeOptions& opts) {
  if (bgr.empty() || bgr.type() != CV_8UC3)
    return Status::InvalidArgument("pipeline needs a non-empty 8-bit BGR image");
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  last_times_ = {};
  auto t = Clock::now();
  double scale = WorkingScale(bgr.cols, bgr.rows, options_);
  cv::Mat work = bgr;
  if (scale != 1)
    cv::resize(bgr, work, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  FACEATT_ASSIGN_OR_RETURN(std::vector<Detection> detections, detector_->Detect(work));
  // HOG's window is 80 px: a 40-60 px face in a camera frame or a group photo is
  // only found at twice the size. Retrying only when nothing was found keeps the
  // common case (a face close to the camera) at one pass. Photos already
  // upsampled (small ones) or downscaled to detect_max_side are not retried:
  // at 4x, textures such as coins start to look like faces.
  if (detections.empty() && options_.small_face_retry && scale == 1 &&
      std::max(work.cols, work.rows) < options_.detect_max_side) {
    scale *= 2;
    cv::resize(bgr, work, cv::Size(), scale, scale, cv::INTER_LINEAR);
    FACEATT_ASSIGN_OR_RETURN(detections, detector_->Detect(work));
  }

  last_times_.detect = since(t);
  t = Clock::now();
  std::vector<Face> faces;
  for (const Detection& d : detections) {
    Face face;
    face.box = ScaleBox(d.box, scale, bgr.cols, bgr.rows);
    if (face.box.width() <= 0 || face.box.height() <= 0) continue;
    face.detection_score = d.score;
    // Landmarks on the downscaled copy of a large photo are as good and much cheaper;
    // an upsampled copy adds nothing, so small photos use the original.
    auto chip = scale < 1 ? aligner_->Align(work, d.box) : aligner_->Align(bgr, face.box);
    if (!chip.ok()) return chip.status();
    face.chip = std::move(chip).value();
    MeasureQuality(face, options_.quality);
    faces.push_back(std::move(face));
  }
  std::stable_sort(faces.begin(), faces.end(),
                   [](const Face& a, const Face& b) { return a.box.area() > b.box.area(); });

  last_times_.landmarks = since(t);
  if (opts.embed) {
    std::vector<cv::Mat> chips;
    std::vector<size_t> which;
    for (size_t i = 0; i < faces.size(); ++i) {
      if (!faces[i].quality_issue.empty() && !opts.embed_bad_quality) continue;
      chips.push_back(faces[i].chip);
      which.push_back(i);
    }
    FACEATT_ASSIGN_OR_RETURN(std::vector<Embedding> embeddings, EmbedChips(chips));
    for (size_t k = 0; k < which.size(); ++k) {
      faces[which[k]].embedding = embeddings[k];
      faces[which[k]].has_embedding = true;
    }
  }
  if (!opts.keep_chips)
    for (Face& f : faces) f.chip.release();
  return faces;
}

Result<std::vector<Embedding>> FacePipeline::EmbedChips(const std::vector<cv::Mat>& chips) {
  const auto t = std::chrono::steady_clock::now();
  auto embeddings = EmbedWithFlip(chips);
  last_times_.embed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  return embeddings;
}

Result<std::vector<Embedding>> FacePipeline::EmbedWithFlip(const std::vector<cv::Mat>& chips) {
  if (chips.empty()) return std::vector<Embedding>{};
  if (!options_.flip) return embedder_->Embed(chips);
  // Flip test-time augmentation: embed each chip and its mirror and average
  // (+0.3 points verification and +4 points rank-1 on LFW with the DenseNet).
  std::vector<cv::Mat> mirrors(chips.size());
  for (size_t i = 0; i < chips.size(); ++i) cv::flip(chips[i], mirrors[i], 1);
  std::vector<Embedding> both;  // the chips' embeddings, then the mirrors'
  if (options_.two_threads) {
    // dlib networks keep per-call state: the mirror images go through a second copy.
    if (!mirror_embedder_) mirror_embedder_ = embedder_->Clone();
    auto mirrored =
        std::async(std::launch::async, [&] { return mirror_embedder_->Embed(mirrors); });
    auto direct = embedder_->Embed(chips);
    auto flipped = mirrored.get();
    FACEATT_RETURN_IF_ERROR(direct);
    FACEATT_RETURN_IF_ERROR(flipped);
    both = std::move(*direct);
    both.insert(both.end(), flipped->begin(), flipped->end());
  } else {
    std::vector<cv::Mat> batch = chips;  // one batch: one set-up of the network
    batch.insert(batch.end(), mirrors.begin(), mirrors.end());
    FACEATT_ASSIGN_OR_RETURN(both, embedder_->Embed(batch));
  }
  std::vector<Embedding> out(chips.size());
  for (size_t i = 0; i < chips.size(); ++i)
    for (int k = 0; k < kEmbeddingDim; ++k)
      out[i][k] = 0.5f * (both[i][k] + both[i + chips.size()][k]);
  return out;
}

}  // namespace faceatt
