// A face recognizer's parameters in one plain layout, whatever file they came
// from (a dlib .dat, or face-api's weights; faceapi_weights.h): every engine
// is built from it (networks.cc, onednn_resnet.cc), and takes the same chips.
#pragma once

#include <opencv2/core.hpp>
#include <vector>

#include "faceatt/status.h"

namespace faceatt::vision {

// What every engine takes: 150x150 8-bit BGR chips; kInvalidArgument otherwise
// (networks.cc).
Status CheckChips(const std::vector<cv::Mat>& chips);

struct ConvWeights {
  std::vector<int> shape;  // filters, input channels, rows, columns (dlib's and OpenCV's order)
  std::vector<float> weights, biases;
};
struct AffineWeights {
  std::vector<float> gamma, beta;  // per channel: y = gamma * x + beta
};
struct NetWeights {
  std::vector<ConvWeights> convs;      // in input-to-output order
  std::vector<AffineWeights> affines;  // in input-to-output order
  std::vector<float> fc;               // 128 x inputs (dlib stores inputs x 128)
  // The mean colour subtracted from the input before it is divided by 256.
  float avg_red = 0, avg_green = 0, avg_blue = 0;
};

}  // namespace faceatt::vision
