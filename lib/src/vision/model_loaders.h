// Loaders of each model file, implemented in networks.cc (where the dlib
// networks are compiled); LoadModels (models.cc) calls them in parallel.
// Errors name the file.
#pragma once

#include <memory>
#include <string>

#include "faceatt/pipeline.h"

namespace faceatt::vision {

// The recognizer in `path` (a dlib .dat, or face-api's weights manifest) as
// `architecture` (auto | resnet | densenet), run on `engine` (auto | onednn | opencv
// | dlib; "auto" is oneDNN for the ResNet, OpenCV for the DenseNet).
// `files` (when given) is set to the file or files the weights come from.
Result<std::unique_ptr<FaceEmbedder>> LoadEmbedder(const std::string& path,
                                                   const std::string& architecture,
                                                   const std::string& engine,
                                                   std::string* files = nullptr);
// files.detector ("hog", or "mmod" from files.mmod_model), through the caches in
// `cache_dir` ("" for none).
Result<std::unique_ptr<FaceDetector>> LoadDetector(const ModelFiles& files,
                                                   const std::string& cache_dir);
// The 5- or 68-point landmark model in `path`, through the raw cache in `cache_dir`.
Result<std::unique_ptr<FaceAligner>> LoadAligner(const std::string& path,
                                                 const std::string& cache_dir);

}  // namespace faceatt::vision
