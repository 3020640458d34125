// The face pipeline: detect faces, align each to a 150x150 chip from its
// landmarks, check its quality, and embed it as a 128-D vector.
//
// The three model-backed stages are interfaces so tests can substitute fakes:
// FaceDetector, FaceAligner, FaceEmbedder. LoadModels() builds the real ones
// from dlib model files (loading them in parallel); Models::NewPipeline() gives
// each worker its own pipeline.
//
// Thread safety: dlib's detectors and networks keep per-call state, so a
// FacePipeline must be used by one thread at a time. Models is immutable and may
// be shared; NewPipeline() is safe to call from any thread.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "faceatt/config.h"
#include "faceatt/status.h"

namespace faceatt {

// dlib's face recognition networks map a 150x150 chip cut with 25% padding
// around the landmarks to 128 numbers (see dlib's dnn_face_recognition_ex).
inline constexpr int kEmbeddingDim = 128;
inline constexpr int kChipSize = 150;
inline constexpr double kChipPadding = 0.25;

using Embedding = std::array<float, kEmbeddingDim>;

// Euclidean distance, the metric the networks were trained with.
float Distance(const Embedding& a, const Embedding& b);

struct Box {
  int left = 0, top = 0, right = 0, bottom = 0;  // right/bottom exclusive
  int width() const { return right - left; }
  int height() const { return bottom - top; }
  long area() const { return static_cast<long>(width()) * height(); }
};

struct Detection {
  Box box;
  double score = 0;
};

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  // Faces in an 8-bit BGR image, in its own coordinates.
  virtual Result<std::vector<Detection>> Detect(const cv::Mat& bgr) = 0;
  virtual std::unique_ptr<FaceDetector> Clone() const = 0;
  virtual std::string name() const = 0;
  // How many threads one Detect() may use (PipelineOptions::two_threads); the
  // faces found are the same either way.
  virtual void set_threads(int threads) {}
};

class FaceAligner {
 public:
  virtual ~FaceAligner() = default;
  // The kChipSize x kChipSize BGR chip of the face in `box`, aligned by its landmarks.
  virtual Result<cv::Mat> Align(const cv::Mat& bgr, const Box& box) = 0;
  // The landmark points of the face in `box`, in image coordinates, in the
  // model's order (68 or 5 points); kUnavailable for an aligner without them.
  virtual Result<std::vector<cv::Point2f>> Landmarks(const cv::Mat& bgr, const Box& box) {
    return Status::Unavailable("this aligner has no landmarks");
  }
  virtual std::unique_ptr<FaceAligner> Clone() const = 0;
  virtual std::string name() const = 0;
};

// Decision thresholds that suit a recognition model (its trained threshold, or
// what was measured for it on LFW).
struct MatchDefaults {
  double tolerance = 0.6;
  double margin = 0.0;
};

class FaceEmbedder {
 public:
  virtual ~FaceEmbedder() = default;
  // One embedding per chip, in order.
  virtual Result<std::vector<Embedding>> Embed(const std::vector<cv::Mat>& chips) = 0;
  virtual std::unique_ptr<FaceEmbedder> Clone() const = 0;
  // Identifies the model ("densenet:1a2b3c4d5e6f"); embeddings of different ids
  // are never compared.
  virtual std::string model_id() const = 0;
  virtual MatchDefaults defaults() const = 0;
  // What runs the network ("OpenCV dnn", "dlib"), for -v and /health.
  virtual std::string engine() const = 0;
};

// Quality verdicts, as reason codes.
inline constexpr const char* kTooSmall = "too_small";
inline constexpr const char* kTooDark = "too_dark";
inline constexpr const char* kTooBright = "too_bright";
inline constexpr const char* kTooBlurry = "too_blurry";

struct Face {
  Box box;  // original image coordinates
  double detection_score = 0;
  std::string quality_issue;  // "" when usable, else one of the codes above
  double brightness = 0;      // mean grey of the chip
  double sharpness = 0;       // variance of the Laplacian of the chip
  bool has_embedding = false;
  Embedding embedding{};
  cv::Mat chip;  // aligned BGR chip (kept when AnalyzeOptions::keep_chips)
};

struct AnalyzeOptions {
  bool embed = true;  // compute embeddings (false: detection and quality only)
  bool embed_bad_quality = false;
  bool keep_chips = false;
};

struct PipelineOptions {
  int detect_max_side = 1280;
  int upsample_below = 200;
  bool small_face_retry = true;
  bool flip = true;
  // One image on two threads: the detector splits its image pyramid in two,
  // and a chip and its mirror are embedded at once, so one request uses two
  // cores (identify, serve). Off where workers already fill every core (bulk-enroll).
  bool two_threads = false;
  QualityConfig quality;
  static PipelineOptions FromConfig(const Config& config);
};

// Seconds spent in each stage by the last Analyze() (for /metrics).
struct StageTimes {
  double detect = 0;     // working copy, detection (and the small-face retry)
  double landmarks = 0;  // landmarks, aligned chips and quality, every face
  double embed = 0;      // the network, every usable face (and its mirror)
};

class FacePipeline {
 public:
  FacePipeline(std::unique_ptr<FaceDetector> detector, std::unique_ptr<FaceAligner> aligner,
               std::unique_ptr<FaceEmbedder> embedder, PipelineOptions options);

  // Every face in the image, largest first. An image with no face gives an empty list.
  Result<std::vector<Face>> Analyze(const cv::Mat& bgr, const AnalyzeOptions& options = {});

  // Embeds already-aligned chips (with flip averaging when enabled); the time
  // taken becomes last_times().embed.
  Result<std::vector<Embedding>> EmbedChips(const std::vector<cv::Mat>& chips);

  std::unique_ptr<FacePipeline> Clone() const;
  const FaceEmbedder& embedder() const { return *embedder_; }
  // The stages themselves (benchmarks time each one alone).
  FaceDetector& detector() { return *detector_; }
  FaceAligner& aligner() { return *aligner_; }
  FaceEmbedder& mutable_embedder() { return *embedder_; }
  const PipelineOptions& options() const { return options_; }
  const StageTimes& last_times() const { return last_times_; }
  // Thresholds and sizes from a configuration other than the one the models were
  // loaded with (the server applies its own).
  void set_options(const PipelineOptions& options);

 private:
  std::unique_ptr<FaceDetector> detector_;
  std::unique_ptr<FaceAligner> aligner_;
  std::unique_ptr<FaceEmbedder> embedder_;
  Result<std::vector<Embedding>> EmbedWithFlip(const std::vector<cv::Mat>& chips);

  StageTimes last_times_;
  std::unique_ptr<FaceEmbedder>
      mirror_embedder_;  // two_threads's second network, made on first use
  PipelineOptions options_;
};

// Resolved model file locations (after "auto").
struct ModelFiles {
  std::string recognizer;
  std::string architecture;  // resnet | densenet | auto
  std::string landmarks;
  std::string detector;  // hog | mmod
  std::string mmod_model;
};
// Resolves "auto" entries against models_dir and the Debian data folder;
// kUnavailable names the missing file and how to fetch it.
Result<ModelFiles> ResolveModelFiles(const Config& config);

// Loaded models: prototypes that pipelines copy.
class Models {
 public:
  virtual ~Models() = default;
  virtual std::unique_ptr<FacePipeline> NewPipeline() const = 0;
  virtual std::string model_id() const = 0;
  virtual MatchDefaults defaults() const = 0;
  virtual std::string description() const = 0;  // "densenet (file), hog, 68-point landmarks"
};

// Loads detector, landmarks and recognizer in parallel. Errors name the file.
Result<std::shared_ptr<const Models>> LoadModels(const Config& config);

// Limits the thread pools the networks use, OpenBLAS's (dlib) and OpenCV's, to
// `threads` threads each; process-wide. Call before starting parallel workers:
// each worker should use one thread.
void SetComputeThreads(int threads);
// The BLAS in use, e.g. "OpenBLAS 0.3.21 ... (pthreads)", or "reference/unknown".
std::string BlasDescription();

}  // namespace faceatt
