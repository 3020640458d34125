// The naive face_recognition-style pipeline, for comparison with bulk-enroll:
// plain dlib calls, no faceatt code but the network's type definition.
//
//   naive_pipeline --landmarks FILE --recognizer FILE.dat [--threads 2]
//                  [--upsample 1] DIR
//
// For every JPEG/PNG under DIR: dlib::load_image, dlib's HOG frontal face
// detector on the full image (upsampled `--upsample` times, 1 as
// face_recognition's face_encodings does), the 68-point shape predictor on
// every face, dlib's 150 px chip with 0.25 padding, and dlib's ResNet on the
// chips (OpenBLAS with its default threads; no flip). `--threads` workers take
// images from a shared queue, each with its own detector and network.
// Prints images, faces and images/s of the processing (model loading excluded).
//
// The recognizer is dlib's .dat, read with dlib::deserialize; or, where only
// face-api's form of the same weights exists (no dlib.net here), its manifest,
// loaded by faceatt's loader onto the dlib engine (vision/model_loaders.h):
// the same dlib network, called on the same dlib chips.
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv.h>

#include <opencv2/imgproc.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "vision/faceapi_weights.h"
#include "vision/model_loaders.h"
#include "vision/networks.h"

namespace {

[[noreturn]] void Usage() {
  std::cerr << "usage: naive_pipeline --landmarks FILE --recognizer FILE.dat [--threads N] "
               "[--upsample N] DIR\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string landmarks, recognizer, dir;
  int threads = 2, upsample = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--landmarks")
      landmarks = next();
    else if (a == "--recognizer")
      recognizer = next();
    else if (a == "--threads")
      threads = std::atoi(next().c_str());
    else if (a == "--upsample")
      upsample = std::atoi(next().c_str());
    else if (!a.empty() && a[0] != '-' && dir.empty())
      dir = a;
    else
      Usage();
  }
  if (landmarks.empty() || recognizer.empty() || dir.empty() || threads < 1 || upsample < 0)
    Usage();

  std::vector<std::string> images;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    std::string ext = e.path().extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      images.push_back(e.path().string());
  }
  dlib::shape_predictor sp;
  faceatt::resnet::net_type net;
  std::unique_ptr<faceatt::FaceEmbedder> faceapi;
  try {
    dlib::deserialize(landmarks) >> sp;
    if (faceatt::vision::IsWeightsManifest(recognizer)) {
      auto e = faceatt::vision::LoadEmbedder(recognizer, "resnet", "dlib");
      if (!e.ok()) throw std::runtime_error(e.status().ToString());
      faceapi = std::move(e).value();
    } else {
      dlib::deserialize(recognizer) >> net;
    }
  } catch (const std::exception& e) {
    std::cerr << "naive_pipeline: " << e.what() << "\n";
    return 2;
  }
  const dlib::frontal_face_detector detector = dlib::get_frontal_face_detector();

  std::atomic<size_t> next{0};
  std::atomic<long> faces{0}, failed{0};
  auto work = [&] {
    dlib::frontal_face_detector det = detector;
    faceatt::resnet::net_type my_net = net;
    std::unique_ptr<faceatt::FaceEmbedder> my_faceapi = faceapi ? faceapi->Clone() : nullptr;
    for (size_t i = next++; i < images.size(); i = next++) {
      try {
        dlib::matrix<dlib::rgb_pixel> img;
        dlib::load_image(img, images[i]);
        std::vector<dlib::matrix<dlib::rgb_pixel>> chips;
        for (const auto& box : det(img, upsample)) {
          const auto shape = sp(img, box);
          dlib::matrix<dlib::rgb_pixel> chip;
          dlib::extract_image_chip(img, dlib::get_face_chip_details(shape, 150, 0.25), chip);
          chips.push_back(std::move(chip));
        }
        if (chips.empty()) continue;
        if (my_faceapi) {  // dlib's chips, as BGR matrices (the loader's input)
          std::vector<cv::Mat> bgr;
          for (auto& chip : chips) {
            cv::Mat m;
            cv::cvtColor(dlib::toMat(chip), m, cv::COLOR_RGB2BGR);
            bgr.push_back(m);
          }
          auto d = my_faceapi->Embed(bgr);
          if (!d.ok()) throw std::runtime_error(d.status().ToString());
          faces += static_cast<long>(d->size());
        } else {
          std::vector<dlib::matrix<float, 0, 1>> d = my_net(chips);
          faces += static_cast<long>(d.size());
        }
      } catch (const std::exception&) {
        ++failed;
      }
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "naive_pipeline: %zu images, %ld faces, %ld unreadable, %.2f s, %.1f images/s, "
      "%d threads, upsample %d\n",
      images.size(), faces.load(), failed.load(), s, images.size() / s, threads, upsample);
  return 0;
}
