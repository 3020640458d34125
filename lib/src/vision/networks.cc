// dlib models: the network definitions (all of them live in this file), the
// detector, aligner and embedder built on them, and model loading.
#include <dlfcn.h>

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv.h>
#include <spdlog/spdlog.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <type_traits>

#include "faceatt/image.h"
#include "faceatt/pipeline.h"
#include "vision/model_cache.h"

namespace faceatt {
namespace {
namespace fs = std::filesystem;

// ---- dlib's ResNet-29 face recognizer (dlib_face_recognition_resnet_model_v1.dat,
// 99.38% on LFW), as defined in dlib's dnn_face_recognition_ex.cpp; batch norm is
// replaced by affine layers for inference.
namespace resnet {
using namespace dlib;
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<block<N, BN, 1, tag1<SUBNET>>>;
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<block<N, BN, 2, tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, stride, stride, SUBNET>>>>>;
template <int N, typename SUBNET>
using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET>
using ares_down = relu<residual_down<block, N, affine, SUBNET>>;
template <typename SUBNET>
using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET>
using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET>
using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET>
using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET>
using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;
using net_type = loss_metric<fc_no_bias<
    128,
    avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<max_pool<
        3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<kChipSize>>>>>>>>>>>>>;
}  // namespace resnet

// ---- DenseNet-BC face recognizer (face_recognition_densenet_model_v1.dat): growth
// rate 16, dense blocks of 3, 6, 12 and 8 bottleneck layers (BN-ReLU-conv1x1(64)-
// BN-ReLU-conv3x3(16), concatenated onto their input), transitions halving the
// width (BN-ReLU-conv1x1, 2x2 average pool), 7x7/2 stem (padding 3) and 3x3/2 max
// pool (padding 1), final BN-ReLU, global average pool, 128-unit fc without bias.
namespace densenet {
using namespace dlib;
template <typename SUBNET>
using dense_layer = concat2<
    tag1, tag2,
    tag2<con<16, 3, 3, 1, 1, relu<affine<con<64, 1, 1, 1, 1, relu<affine<tag1<SUBNET>>>>>>>>>;
template <int N, typename SUBNET>
using transition = avg_pool<2, 2, 2, 2, con<N, 1, 1, 1, 1, relu<affine<SUBNET>>>>;
template <typename SUBNET>
using block1 = repeat<3, dense_layer, SUBNET>;  // 32 -> 80 channels
template <typename SUBNET>
using block2 = repeat<6, dense_layer, SUBNET>;  // 40 -> 136
template <typename SUBNET>
using block3 = repeat<12, dense_layer, SUBNET>;  // 68 -> 260
template <typename SUBNET>
using block4 = repeat<8, dense_layer, SUBNET>;  // 130 -> 258
using net_type = loss_metric<fc_no_bias<
    128,
    avg_pool_everything<relu<affine<block4<transition<
        130, block3<transition<
                 68, block2<transition<
                         40, block1<add_layer<max_pool_<3, 3, 2, 2, 1, 1>,
                                              relu<affine<add_layer<con_<32, 7, 7, 2, 2, 3, 3>,
                                                                    input_rgb_image>>>>>>>>>>>>>>>>;
}  // namespace densenet

// ---- The DenseNet on OpenCV's dnn module: the same layers and weights as the
// dlib network above, rebuilt as an OpenCV graph. OpenCV's convolutions run the
// network about 1.5x faster than dlib's im2col + GEMM on a CPU (BM_Embed in
// docs/benchmarks.md); the embeddings agree to 1e-5 (networks_test.cc).
namespace densenet_cv {

struct Conv {
  std::vector<int> shape;  // filters, input channels, rows, columns (dlib's and OpenCV's order)
  std::vector<float> weights, biases;
};
struct Affine {
  std::vector<float> gamma, beta;  // per channel: y = gamma * x + beta
};
struct Weights {
  std::vector<Conv> convs;      // in input-to-output order
  std::vector<Affine> affines;  // in input-to-output order
  std::vector<float> fc;        // 128 x inputs (dlib stores inputs x 128)
  float avg_red = 0, avg_green = 0, avg_blue = 0;
};

template <typename T>
struct IsCon : std::false_type {};
template <long F, long R, long C, int SY, int SX, int PY, int PX>
struct IsCon<dlib::con_<F, R, C, SY, SX, PY, PX>> : std::true_type {};

// Copies the parameters out of a loaded dlib DenseNet. dlib visits layers from
// the output back to the input.
Weights Extract(densenet::net_type& net) {
  Weights w;
  dlib::visit_computational_layers(net, [&](auto& layer) {
    using L = std::decay_t<decltype(layer)>;
    if constexpr (IsCon<L>::value) {
      const dlib::tensor& p = layer.get_layer_params();
      const long filters = layer.num_filters(), rows = layer.nr(), cols = layer.nc();
      const long biases = layer.bias_is_disabled() ? 0 : filters;
      const long inputs = (static_cast<long>(p.size()) - biases) / (filters * rows * cols);
      Conv c;
      c.shape = {static_cast<int>(filters), static_cast<int>(inputs), static_cast<int>(rows),
                 static_cast<int>(cols)};
      const float* data = p.host();
      c.weights.assign(data, data + filters * inputs * rows * cols);
      c.biases.assign(data + filters * inputs * rows * cols, data + p.size());
      w.convs.push_back(std::move(c));
    } else if constexpr (std::is_same_v<L, dlib::affine_>) {
      auto gamma = layer.get_gamma();
      auto beta = layer.get_beta();
      w.affines.push_back({std::vector<float>(gamma.host(), gamma.host() + gamma.size()),
                           std::vector<float>(beta.host(), beta.host() + beta.size())});
    } else if constexpr (std::is_same_v<L, dlib::fc_<kEmbeddingDim, dlib::FC_NO_BIAS>>) {
      const dlib::tensor& p = layer.get_layer_params();
      const int inputs = static_cast<int>(p.size()) / kEmbeddingDim;
      cv::Mat in_by_out(inputs, kEmbeddingDim, CV_32F, const_cast<float*>(p.host()));
      cv::Mat out_by_in = in_by_out.t();
      w.fc.assign(out_by_in.ptr<float>(), out_by_in.ptr<float>() + out_by_in.total());
    }
  });
  std::reverse(w.convs.begin(), w.convs.end());
  std::reverse(w.affines.begin(), w.affines.end());
  const auto& input = dlib::input_layer(net);
  w.avg_red = input.get_avg_red();
  w.avg_green = input.get_avg_green();
  w.avg_blue = input.get_avg_blue();
  return w;
}

// Layer counts of the architecture, to refuse weights that do not fit it.
constexpr int kBlocks[] = {3, 6, 12, 8};
constexpr size_t kConvs = 1 + 2 * (3 + 6 + 12 + 8) + 3;  // stem, 2 per dense layer, transitions
constexpr size_t kAffines = 1 + 2 * (3 + 6 + 12 + 8) + 3 + 1;  // ... and the final one

// Builds the graph. Every net gets its own copy of the weights: OpenCV folds
// layers into each other's weights when it first runs.
class Builder {
 public:
  explicit Builder(const Weights& w) : w_(w) {}

  cv::dnn::Net Build() {
    int x = Conv(0, 7, 2, 3);  // 150 -> 75
    x = AffineRelu(x);
    x = Pool(x, "max", 3, 2, 1);  // 75 -> 38
    for (int b = 0; b < 4; ++b) {
      for (int i = 0; i < kBlocks[b]; ++i) {
        int y = AffineRelu(x);
        y = Conv(y, 1, 1, 0);
        y = AffineRelu(y);
        y = Conv(y, 3, 1, 1);
        cv::dnn::LayerParams concat;
        concat.set("axis", 1);
        const int id = Add("Concat", concat, x);
        net_.connect(y, 0, id, 1);  // dlib's concat: the input's channels, then the new ones
        x = id;
      }
      if (b < 3) {  // transition: halve the channels and the size (38 -> 19 -> 9 -> 4)
        x = AffineRelu(x);
        x = Conv(x, 1, 1, 0);
        x = Pool(x, "ave", 2, 2, 0);
      }
    }
    x = AffineRelu(x);
    cv::dnn::LayerParams global;
    global.set("pool", "ave");
    global.set("global_pooling", true);
    x = Add("Pooling", global, x);
    cv::dnn::LayerParams fc;
    fc.set("num_output", kEmbeddingDim);
    fc.set("bias_term", false);
    const int inputs = static_cast<int>(w_.fc.size()) / kEmbeddingDim;
    fc.blobs.push_back(
        cv::Mat(kEmbeddingDim, inputs, CV_32F, const_cast<float*>(w_.fc.data())).clone());
    Add("InnerProduct", fc, x);
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return net_;
  }

 private:
  int Add(const std::string& type, cv::dnn::LayerParams& params, int input) {
    params.name = type + std::to_string(++layers_);
    params.type = type;
    const int id = net_.addLayer(params.name, type, params);
    net_.connect(input, 0, id, 0);
    return id;
  }
  int Conv(int input, int kernel, int stride, int pad) {
    const densenet_cv::Conv& c = w_.convs.at(conv_++);
    cv::dnn::LayerParams p;
    p.set("kernel_size", kernel);
    p.set("stride", stride);
    p.set("pad", pad);
    p.set("num_output", c.shape[0]);
    p.set("bias_term", !c.biases.empty());
    p.blobs.push_back(
        cv::Mat(4, c.shape.data(), CV_32F, const_cast<float*>(c.weights.data())).clone());
    if (!c.biases.empty())
      p.blobs.push_back(
          cv::Mat(1, static_cast<int>(c.biases.size()), CV_32F, const_cast<float*>(c.biases.data()))
              .clone());
    return Add("Convolution", p, input);
  }
  int AffineRelu(int input) {
    const Affine& a = w_.affines.at(affine_++);
    const int n = static_cast<int>(a.gamma.size());
    cv::dnn::LayerParams p;
    p.set("bias_term", true);
    p.set("axis", 1);
    p.blobs.push_back(cv::Mat(1, n, CV_32F, const_cast<float*>(a.gamma.data())).clone());
    p.blobs.push_back(cv::Mat(1, n, CV_32F, const_cast<float*>(a.beta.data())).clone());
    cv::dnn::LayerParams relu;
    return Add("ReLU", relu, Add("Scale", p, input));
  }
  int Pool(int input, const char* kind, int kernel, int stride, int pad) {
    cv::dnn::LayerParams p;
    p.set("pool", kind);
    p.set("kernel_size", kernel);
    p.set("stride", stride);
    p.set("pad", pad);
    p.set("ceil_mode", false);  // dlib rounds output sizes down
    return Add("Pooling", p, input);
  }

  const Weights& w_;
  cv::dnn::Net net_;
  int layers_ = 0;
  size_t conv_ = 0, affine_ = 0;
};

}  // namespace densenet_cv

// ---- dlib's MMOD CNN face detector (mmod_human_face_detector.dat), as in
// dlib's dnn_mmod_face_detection_ex.cpp.
namespace mmod {
using namespace dlib;
template <long num_filters, typename SUBNET>
using con5d = con<num_filters, 5, 5, 2, 2, SUBNET>;
template <long num_filters, typename SUBNET>
using con5 = con<num_filters, 5, 5, 1, 1, SUBNET>;
template <typename SUBNET>
using downsampler =
    relu<affine<con5d<32, relu<affine<con5d<32, relu<affine<con5d<16, SUBNET>>>>>>>>>;
template <typename SUBNET>
using rcon5 = relu<affine<con5<45, SUBNET>>>;
using net_type = loss_mmod<
    con<1, 9, 9, 1, 1, rcon5<rcon5<rcon5<downsampler<input_rgb_image_pyramid<pyramid_down<6>>>>>>>>;
}  // namespace mmod

// Thresholds per network: dlib trained the ResNet for 0.6. The DenseNet's were
// measured with `faceatt eval ../shared/faces/lfw` (192 people enrolled with 3
// photos, 575 genuine and 319 impostor probes; docs/benchmarks.md): in 1:N a
// stranger's nearest person is typically 0.40-0.50 away, so 0.42 with a 0.08
// margin keeps impostor accepts near 1.6% and wrong-person accepts at 0.2%, for
// 72% correct accepts (0.5/0.04 accepted 21% of impostors). `faceatt calibrate`
// adjusts them to a gallery's size.
constexpr MatchDefaults kResnetDefaults{0.6, 0.0};
constexpr MatchDefaults kDensenetDefaults{0.42, 0.08};

Box ToBox(const dlib::rectangle& r) {
  return Box{static_cast<int>(r.left()), static_cast<int>(r.top()), static_cast<int>(r.right() + 1),
             static_cast<int>(r.bottom() + 1)};
}

// dlib's HOG detector scans an image pyramid (each level 5/6 the size of the
// last). With two threads, one scans the first two levels and the other the
// rest, starting from the third level's image, which holds about as much work;
// their detections are merged by the detector's own non-maximum suppression.
class HogDetector : public FaceDetector {
 public:
  explicit HogDetector(dlib::frontal_face_detector detector) : whole_(std::move(detector)) {
    dlib::frontal_face_detector::image_scanner_type scanner;
    scanner.copy_configuration(whole_.get_scanner());
    scanner.set_max_pyramid_levels(kTopLevels);
    std::vector<dlib::frontal_face_detector::feature_vector_type> weights;
    for (unsigned long i = 0; i < whole_.num_detectors(); ++i) weights.push_back(whole_.get_w(i));
    top_ = dlib::frontal_face_detector(scanner, whole_.get_overlap_tester(), weights);
  }
  Result<std::vector<Detection>> Detect(const cv::Mat& bgr) override {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    std::vector<dlib::rect_detection> found;
    try {
      dlib::cv_image<unsigned char> img(gray);
      if (threads_ < 2 || PyramidLevels(gray.cols, gray.rows) <= kTopLevels) {
        whole_(img, found, 0.0);
      } else {
        std::vector<dlib::rect_detection> top, rest;
        auto lower = std::async(std::launch::async, [&] {
          dlib::pyramid_down<6> pyr;
          dlib::array2d<unsigned char> level1, level2;
          pyr(img, level1);
          pyr(level1, level2);
          whole_(level2, rest, 0.0);  // every level of the third level's image
          for (auto& d : rest) d.rect = pyr.rect_up(d.rect, kTopLevels);
        });
        top_(img, top, 0.0);
        lower.get();
        top.insert(top.end(), rest.begin(), rest.end());
        std::stable_sort(top.rbegin(), top.rend());  // most confident first, as dlib does
        const dlib::test_box_overlap& overlaps = whole_.get_overlap_tester();
        for (const auto& d : top) {
          bool suppressed = false;
          for (const auto& kept : found) suppressed |= overlaps(kept.rect, d.rect);
          if (!suppressed) found.push_back(d);
        }
      }
    } catch (const std::exception& e) {
      return Status::Internal(std::string("face detection failed: ") + e.what());
    }
    std::vector<Detection> out;
    for (const auto& d : found) out.push_back({ToBox(d.rect), d.detection_confidence});
    return out;
  }
  std::unique_ptr<FaceDetector> Clone() const override {
    return std::make_unique<HogDetector>(*this);
  }
  std::string name() const override { return "hog"; }
  void set_threads(int threads) override { threads_ = threads; }

 private:
  static constexpr unsigned long kTopLevels = 2;  // about half of the scanning work
  // The levels dlib would scan for a width x height image.
  unsigned long PyramidLevels(long width, long height) const {
    const auto& s = whole_.get_scanner();
    dlib::pyramid_down<6> pyr;
    dlib::rectangle rect(0, 0, width - 1, height - 1);
    unsigned long levels = 0;
    do {
      rect = pyr.rect_down(rect);
      ++levels;
    } while (rect.width() >= s.get_min_pyramid_layer_width() &&
             rect.height() >= s.get_min_pyramid_layer_height() &&
             levels < s.get_max_pyramid_levels());
    return levels;
  }

  dlib::frontal_face_detector whole_;  // every level; split: the others, from the third's image
  dlib::frontal_face_detector top_;    // the first kTopLevels levels
  int threads_ = 1;
};

class MmodDetector : public FaceDetector {
 public:
  explicit MmodDetector(mmod::net_type net) : net_(std::move(net)) {}
  Result<std::vector<Detection>> Detect(const cv::Mat& bgr) override {
    dlib::matrix<dlib::rgb_pixel> img;
    dlib::assign_image(img, dlib::cv_image<dlib::bgr_pixel>(bgr));
    std::vector<Detection> out;
    try {
      for (const auto& d : net_(img)) out.push_back({ToBox(d.rect), d.detection_confidence});
    } catch (const std::exception& e) {
      return Status::Internal(std::string("face detection failed: ") + e.what());
    }
    return out;
  }
  std::unique_ptr<FaceDetector> Clone() const override {
    return std::make_unique<MmodDetector>(*this);
  }
  std::string name() const override { return "mmod"; }

 private:
  mmod::net_type net_;
};

class DlibAligner : public FaceAligner {
 public:
  DlibAligner(std::shared_ptr<const dlib::shape_predictor> sp, std::string name)
      : sp_(std::move(sp)), name_(std::move(name)) {}
  Result<cv::Mat> Align(const cv::Mat& bgr, const Box& box) override {
    try {
      dlib::cv_image<dlib::bgr_pixel> img(bgr);
      dlib::rectangle rect(box.left, box.top, box.right - 1, box.bottom - 1);
      dlib::full_object_detection shape = (*sp_)(img, rect);
      dlib::matrix<dlib::bgr_pixel> chip;
      dlib::extract_image_chip(img, dlib::get_face_chip_details(shape, kChipSize, kChipPadding),
                               chip);
      return cv::Mat(kChipSize, kChipSize, CV_8UC3, &chip(0, 0)).clone();
    } catch (const std::exception& e) {
      return Status::Internal(std::string("face alignment failed: ") + e.what());
    }
  }
  std::unique_ptr<FaceAligner> Clone() const override {
    return std::make_unique<DlibAligner>(*this);
  }
  std::string name() const override { return name_; }

 private:
  std::shared_ptr<const dlib::shape_predictor> sp_;  // const use is thread-safe
  std::string name_;
};

template <typename Net>
class DlibEmbedder : public FaceEmbedder {
 public:
  DlibEmbedder(Net net, std::string id, MatchDefaults defaults)
      : net_(std::move(net)), id_(std::move(id)), defaults_(defaults) {}
  Result<std::vector<Embedding>> Embed(const std::vector<cv::Mat>& chips) override {
    std::vector<dlib::matrix<dlib::rgb_pixel>> input(chips.size());
    for (size_t i = 0; i < chips.size(); ++i) {
      if (chips[i].rows != kChipSize || chips[i].cols != kChipSize || chips[i].type() != CV_8UC3)
        return Status::InvalidArgument("face chips must be 150x150 BGR");
      dlib::assign_image(input[i], dlib::cv_image<dlib::bgr_pixel>(chips[i]));
    }
    std::vector<Embedding> out(chips.size());
    try {
      // Batches of 16 keep peak memory small while amortising the GEMM set-up.
      auto vectors = net_(input, 16);
      for (size_t i = 0; i < vectors.size(); ++i)
        for (int k = 0; k < kEmbeddingDim; ++k) out[i][k] = vectors[i](k);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("face embedding failed: ") + e.what());
    }
    return out;
  }
  std::unique_ptr<FaceEmbedder> Clone() const override {
    return std::make_unique<DlibEmbedder>(*this);
  }
  std::string model_id() const override { return id_; }
  MatchDefaults defaults() const override { return defaults_; }
  std::string engine() const override { return "dlib"; }

 private:
  Net net_;
  std::string id_;
  MatchDefaults defaults_;
};

// The DenseNet on OpenCV (densenet_cv above). One net per instance: an OpenCV
// net keeps per-call state like a dlib one.
class CvDensenetEmbedder : public FaceEmbedder {
 public:
  CvDensenetEmbedder(std::shared_ptr<const densenet_cv::Weights> weights, std::string id,
                     MatchDefaults defaults)
      : weights_(std::move(weights)),
        net_(densenet_cv::Builder(*weights_).Build()),
        id_(std::move(id)),
        defaults_(defaults) {}
  Result<std::vector<Embedding>> Embed(const std::vector<cv::Mat>& chips) override {
    for (const cv::Mat& chip : chips)
      if (chip.rows != kChipSize || chip.cols != kChipSize || chip.type() != CV_8UC3)
        return Status::InvalidArgument("face chips must be 150x150 BGR");
    std::vector<Embedding> out(chips.size());
    if (chips.empty()) return out;
    try {
      // dlib's input layer: RGB, minus the training set's mean colour, divided by 256.
      cv::Mat blob = cv::dnn::blobFromImages(
          chips, 1.0 / 256, cv::Size(kChipSize, kChipSize),
          cv::Scalar(weights_->avg_red, weights_->avg_green, weights_->avg_blue), /*swapRB=*/true,
          /*crop=*/false);
      net_.setInput(blob);
      cv::Mat vectors = net_.forward();
      if (vectors.rows != static_cast<int>(chips.size()) || vectors.cols != kEmbeddingDim)
        return Status::Internal("face embedding: unexpected output shape");
      for (size_t i = 0; i < chips.size(); ++i)
        std::copy_n(vectors.ptr<float>(static_cast<int>(i)), kEmbeddingDim, out[i].begin());
    } catch (const std::exception& e) {
      return Status::Internal(std::string("face embedding failed: ") + e.what());
    }
    return out;
  }
  std::unique_ptr<FaceEmbedder> Clone() const override {
    return std::make_unique<CvDensenetEmbedder>(weights_, id_, defaults_);
  }
  std::string model_id() const override { return id_; }
  MatchDefaults defaults() const override { return defaults_; }
  std::string engine() const override { return "OpenCV dnn"; }

 private:
  std::shared_ptr<const densenet_cv::Weights> weights_;
  cv::dnn::Net net_;
  std::string id_;
  MatchDefaults defaults_;
};

Result<std::unique_ptr<FaceEmbedder>> LoadEmbedder(const std::string& path,
                                                   const std::string& architecture,
                                                   const std::string& engine) {
  FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, int64_t{1} << 31));
  const std::string id_suffix = ":" + Sha256Hex(bytes).substr(0, 12);
  Status resnet_error, densenet_error;
  if (architecture == "resnet" || architecture == "auto") {
    resnet::net_type net;
    resnet_error = vision::DeserializeBytes(bytes, net, path, "ResNet face recognition");
    if (resnet_error.ok())
      return std::unique_ptr<FaceEmbedder>(std::make_unique<DlibEmbedder<resnet::net_type>>(
          std::move(net), "resnet" + id_suffix, kResnetDefaults));
    if (architecture == "resnet") return resnet_error;
  }
  densenet::net_type net;
  densenet_error = vision::DeserializeBytes(bytes, net, path, "DenseNet face recognition");
  if (densenet_error.ok()) {
    if (engine == "dlib")
      return std::unique_ptr<FaceEmbedder>(std::make_unique<DlibEmbedder<densenet::net_type>>(
          std::move(net), "densenet" + id_suffix, kDensenetDefaults));
    auto weights = std::make_shared<densenet_cv::Weights>(densenet_cv::Extract(net));
    if (weights->convs.size() != densenet_cv::kConvs ||
        weights->affines.size() != densenet_cv::kAffines || weights->fc.empty())
      return Status::Internal(path + ": DenseNet layers do not match the OpenCV rebuild");
    try {
      return std::unique_ptr<FaceEmbedder>(
          std::make_unique<CvDensenetEmbedder>(weights, "densenet" + id_suffix, kDensenetDefaults));
    } catch (const std::exception& e) {
      return Status::Internal(path + ": building the DenseNet on OpenCV failed: " + e.what());
    }
  }
  if (architecture == "densenet") return densenet_error;
  return Status::BadInput(path + " is neither a ResNet nor a DenseNet dlib face recognition model");
}

Result<std::unique_ptr<FaceDetector>> LoadDetector(const ModelFiles& files,
                                                   const std::string& cache_dir) {
  if (files.detector == "hog") {
    dlib::frontal_face_detector hog;
    FACEATT_RETURN_IF_ERROR(vision::LoadFrontalFaceDetector(cache_dir, hog));
    return std::unique_ptr<FaceDetector>(std::make_unique<HogDetector>(std::move(hog)));
  }
  FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(files.mmod_model, int64_t{1} << 30));
  mmod::net_type net;
  FACEATT_RETURN_IF_ERROR(
      vision::DeserializeBytes(bytes, net, files.mmod_model, "MMOD face detector"));
  return std::unique_ptr<FaceDetector>(std::make_unique<MmodDetector>(std::move(net)));
}

// Through the raw cache in `cache_dir` (model_cache.h): the 68-point model is
// most of a cold start otherwise.
Result<std::unique_ptr<FaceAligner>> LoadAligner(const std::string& path,
                                                 const std::string& cache_dir) {
  auto sp = std::make_shared<dlib::shape_predictor>();
  FACEATT_RETURN_IF_ERROR(vision::LoadShapePredictor(path, cache_dir, *sp));
  if (sp->num_parts() != 5 && sp->num_parts() != 68)
    return Status::BadInput(path + ": landmark model has " + std::to_string(sp->num_parts()) +
                            " points; 5 or 68 are supported");
  return std::unique_ptr<FaceAligner>(
      std::make_unique<DlibAligner>(sp, std::to_string(sp->num_parts()) + "-point landmarks"));
}

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
    files.recognizer = FirstExisting({dir + "/dlib_face_recognition_resnet_model_v1.dat",
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
    auto d = LoadDetector(files, cache_dir);
    timed("detector");
    return d;
  });
  auto aligner = std::async(std::launch::async, [&] {
    auto a = LoadAligner(files.landmarks, cache_dir);
    timed("landmarks");
    return a;
  });
  auto embedder = LoadEmbedder(files.recognizer, files.architecture, config.models.engine);
  timed("recognizer");
  auto det = detector.get();
  auto ali = aligner.get();
  FACEATT_RETURN_IF_ERROR(embedder);
  FACEATT_RETURN_IF_ERROR(det);
  FACEATT_RETURN_IF_ERROR(ali);
  std::string description = (*embedder)->model_id() + " on " + (*embedder)->engine() + " (" +
                            files.recognizer + "), " + (*det)->name() + " detector, " +
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
  return "reference or unknown BLAS (install libopenblas0-pthread: about 7x faster embeddings)";
}

}  // namespace faceatt
