// dlib's 68-point shape predictor, run as dlib runs it but with its memory
// reads started early. The model is 15 cascades of 500 regression trees whose
// leaves (136 floats each, 65 MB in all) are read once per tree at addresses
// known only after the tree is walked: dlib walks and reads one tree at a time
// and waits on memory for most of its time. Here a cascade's trees are walked
// first and each leaf is prefetched a few trees ahead of the sum that needs
// it. The same additions in the same order: the same landmarks, bit for bit
// (landmarks_test.cc).
#pragma once

#include <dlib/image_processing/full_object_detection.h>
#include <dlib/opencv.h>

#include "vision/model_cache.h"

namespace faceatt::vision {

// What dlib::shape_predictor::operator()(img, rect) returns for the predictor
// `parts` come from. Thread-safe (reads the model only).
dlib::full_object_detection PredictShape(const ShapePredictorParts& parts,
                                         const dlib::cv_image<dlib::bgr_pixel>& img,
                                         const dlib::rectangle& rect);

}  // namespace faceatt::vision
