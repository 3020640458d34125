// face-api's form of dlib's ResNet face recognizer: the weights of
// dlib_face_recognition_resnet_model_v1.dat converted to TensorFlow.js by
// face-api (npm package @vladmandic/face-api, MIT): a JSON manifest naming 117
// tensors in dlib's layer order from input to output, and one .bin holding
// them back to back (109 uint8-quantised, value = min + scale * byte; 8
// float32).
//
// ReadFaceApiResnet checks every tensor's name, shape and dtype against the
// ResNet (networks.h) and the .bin's size against their total, and refuses the
// first that does not match: kCorruption naming the file and the tensor
// (kUnavailable when a file cannot be read). Thread-safe (no shared state).
#pragma once

#include <string>

#include "faceatt/status.h"
#include "vision/net_weights.h"

namespace faceatt::vision {

// The manifest's name as face-api ships it; models.recognizer = "auto" looks
// for it in models_dir.
inline constexpr const char* kFaceApiManifest = "face_recognition_model-weights_manifest.json";

// True when `path` names a TensorFlow.js weights manifest (a .json file) rather
// than a dlib model.
bool IsWeightsManifest(const std::string& path);

struct FaceApiResnet {
  NetWeights weights;
  std::string bin_path;  // the .bin the manifest names, beside it
  std::string sha256;    // of the manifest and the .bin, for the model id
};

// Reads the manifest in `manifest_path` and the .bin it names (in the same
// folder). The mean colour is dlib's (the same network, trained by dlib).
Result<FaceApiResnet> ReadFaceApiResnet(const std::string& manifest_path);

}  // namespace faceatt::vision
