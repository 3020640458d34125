// The models of the pipeline: which files "auto" resolves to, loading them in
// parallel into one prototype pipeline, and the compute thread pools.
#include <dlfcn.h>

#include <spdlog/spdlog.h>
#include <opencv2/core/utility.hpp>

#include <chrono>
#include <filesystem>
#include <future>

#include "faceatt/pipeline.h"
#include "vision/faceapi_weights.h"
#include "vision/model_loaders.h"

namespace faceatt {
namespace {
namespace fs = std::filesystem;

class LoadedModels : public Models {
 public:
  LoadedModels(std::unique_ptr<FacePipeline> prototype, std::string description)
      : prototype_(std::move(prototype)), description_(std::move(description)) {}
  std::unique_ptr<FacePipeline> NewPipeline() const override { return prototype_->Clone(); }
  std::string model_id() const override { return prototype_->embedder().model_id(); }
  MatchDefaults defaults() const override { return prototype_->embedder().defaults(); }
  std::string description() const override { return description_; }

 private:
  std::unique_ptr<FacePipeline> prototype_;
  std::string description_;
};

std::string FirstExisting(const std::vector<std::string>& candidates) {
  std::error_code ec;
  for (const auto& c : candidates)
    if (fs::is_regular_file(c, ec)) return c;
  return "";
}

}  // namespace

Result<ModelFiles> ResolveModelFiles(const Config& config) {
  const std::string dir = config.paths.models_dir;
  const std::string fetch = " (run scripts/fetch-models.sh, or set ";
  ModelFiles files;
  files.architecture = config.models.architecture;
  files.detector = config.models.detector;
  files.recognizer = config.models.recognizer;
  if (files.recognizer == "auto") {
    // The ResNet in either form (the .dat, or face-api's weights of it), else the DenseNet.
    files.recognizer = FirstExisting({dir + "/dlib_face_recognition_resnet_model_v1.dat",
                                      dir + "/" + vision::kFaceApiManifest,
                                      dir + "/face_recognition_densenet_model_v1.dat"});
    if (files.recognizer.empty())
      return Status::Unavailable("no face recognition model in " + dir + fetch +
                                 "models.recognizer)");
  }
  files.landmarks = config.models.landmarks;
  if (files.landmarks == "auto") {
    files.landmarks = FirstExisting({dir + "/shape_predictor_5_face_landmarks.dat",
                                     dir + "/shape_predictor_68_face_landmarks.dat",
                                     "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"});
    if (files.landmarks.empty())
      return Status::Unavailable("no landmark model in " + dir +
                                 " or /usr/share/dlib (install libdlib-data" + fetch.substr(1) +
                                 "models.landmarks)");
  }
  files.mmod_model = config.models.mmod_model;
  if (files.mmod_model == "auto") files.mmod_model = dir + "/mmod_human_face_detector.dat";
  std::error_code ec;
  for (const auto* p : {&files.recognizer, &files.landmarks}) {
    if (!fs::is_regular_file(*p, ec)) return Status::Unavailable("model file " + *p + " not found");
  }
  if (files.detector == "mmod" && !fs::is_regular_file(files.mmod_model, ec))
    return Status::Unavailable("model file " + files.mmod_model + " not found" + fetch +
                               "models.mmod_model)");
  return files;
}

Result<std::shared_ptr<const Models>> LoadModels(const Config& config) {
  FACEATT_ASSIGN_OR_RETURN(ModelFiles files, ResolveModelFiles(config));
  // The three files load in parallel: the 68-point landmark model alone takes
  // most of a cold start.
  std::error_code ec;
  const std::string cache_dir =
      fs::is_directory(config.paths.models_dir, ec) ? config.paths.models_dir : std::string();
  const auto t0 = std::chrono::steady_clock::now();
  auto timed = [t0](const char* what) {
    spdlog::debug(
        "loaded {} in {:.0f} ms", what,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  };
  auto detector = std::async(std::launch::async, [&] {
    auto d = vision::LoadDetector(files, cache_dir);
    timed("detector");
    return d;
  });
  auto aligner = std::async(std::launch::async, [&] {
    auto a = vision::LoadAligner(files.landmarks, cache_dir);
    timed("landmarks");
    return a;
  });
  std::string recognizer_files;
  auto embedder = vision::LoadEmbedder(files.recognizer, files.architecture, config.models.engine,
                                       &recognizer_files);
  timed("recognizer");
  auto det = detector.get();
  auto ali = aligner.get();
  FACEATT_RETURN_IF_ERROR(embedder);
  FACEATT_RETURN_IF_ERROR(det);
  FACEATT_RETURN_IF_ERROR(ali);
  std::string description = (*embedder)->model_id() + " on " + (*embedder)->engine() + " (" +
                            recognizer_files + "), " + (*det)->name() + " detector, " +
                            (*ali)->name();
  auto prototype = std::make_unique<FacePipeline>(
      std::move(*det), std::move(*ali), std::move(*embedder), PipelineOptions::FromConfig(config));
  return std::shared_ptr<const Models>(
      std::make_shared<LoadedModels>(std::move(prototype), std::move(description)));
}

void SetComputeThreads(int threads) {
  using SetFn = void (*)(int);
  if (auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    fn(threads);
  cv::setNumThreads(threads);
}

std::string BlasDescription() {
  using GetFn = char* (*)();
  if (auto fn = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
    return fn();  // "OpenBLAS 0.3.21 ... Cooperlake ..."
  return "reference or unknown BLAS (install libopenblas0-pthread: about 7x faster embeddings on "
         "dlib)";
}

}  // namespace faceatt
