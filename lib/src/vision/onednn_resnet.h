// dlib's ResNet face recognizer (networks.h) run on oneDNN (Debian's libdnnl),
// the default engine for it (models.engine = "auto" or "onednn").
//
// Why a third engine: on OpenCV 4.6's dnn one pass of the ResNet costs 12 ms
// on one core, and flip averaging makes two; oneDNN's JIT convolutions for
// the CPU at hand (AVX2, AVX-512) run the same pass in 4.6 ms (BM_Embed,
// docs/benchmarks.md). The embeddings agree with dlib's to 1e-4
// (networks_test.cc).
//
// The layers are dlib's, with each affine layer (a trained batch norm) folded
// into the convolution before it, and every ReLU and residual sum fused into
// the convolution that precedes it where the shapes match. Threads: each
// Embed runs on the calling thread only; a FaceEmbedder is used by one thread
// at a time, and its clones share the weights and compiled kernels.
#pragma once

#include <memory>
#include <string>

#include "faceatt/pipeline.h"
#include "vision/net_weights.h"

namespace faceatt::vision {

// The ResNet in `weights` (29 convolutions, each followed by an affine layer,
// and the 128 x 256 fully connected layer) as an embedder named `id`.
// kInvalidArgument when the weights do not have the ResNet's shapes (naming
// the first layer that does not fit); kInternal when oneDNN cannot build a
// layer for this CPU.
Result<std::unique_ptr<FaceEmbedder>> MakeOnednnResnet(const NetWeights& weights, std::string id,
                                                       MatchDefaults defaults);

}  // namespace faceatt::vision
