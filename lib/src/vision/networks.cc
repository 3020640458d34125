// The detector, aligner and embedders built on dlib's networks (defined in
// networks.h), the recognizers rebuilt on OpenCV's dnn module, and the loaders
// of each model file (model_loaders.h). LoadModels (models.cc) puts them together.
#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include <future>
#include <mutex>
#include <type_traits>

#include "faceatt/image.h"
#include "faceatt/pipeline.h"
#include "vision/faceapi_weights.h"
#include "vision/hog_scan.h"
#include "vision/landmarks.h"
#include "vision/model_cache.h"
#include "vision/model_loaders.h"
#include "vision/networks.h"
#include "vision/onednn_resnet.h"

namespace faceatt {
namespace {
// ---- The recognizers on OpenCV's dnn module: the same layers and weights as
// the dlib networks (networks.h), rebuilt as OpenCV graphs. OpenCV's
// convolutions run the DenseNet 1.6-1.9x faster than dlib's im2col + GEMM on a CPU
// (BM_Embed in docs/benchmarks.md); the embeddings agree with dlib's to 1e-4
// (networks_test.cc).
namespace cvnet {

using Conv = vision::ConvWeights;
using Affine = vision::AffineWeights;
using Weights = vision::NetWeights;

template <typename T>
struct IsCon : std::false_type {};
template <long F, long R, long C, int SY, int SX, int PY, int PX>
struct IsCon<dlib::con_<F, R, C, SY, SX, PY, PX>> : std::true_type {};

// Copies the parameters out of a loaded dlib recognizer. dlib visits layers
// from the output back to the input.
template <typename Net>
Weights Extract(Net& net) {
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

// The reverse of Extract: writes `w` into dlib's ResNet (face-api's weights on
// the dlib engine). The layers are set up by one pass over a grey chip first
// (dlib sizes its parameters then), with the affine layers per channel as in
// the trained model.
void Fill(const Weights& w, resnet::net_type& net) {
  dlib::visit_computational_layers(net, [](auto& layer) {
    if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, dlib::affine_>)
      layer = dlib::affine_(dlib::CONV_MODE);
  });
  dlib::input_layer(net) =
      dlib::input_rgb_image_sized<kChipSize>(w.avg_red, w.avg_green, w.avg_blue);
  dlib::matrix<dlib::rgb_pixel> grey(kChipSize, kChipSize);
  dlib::assign_all_pixels(grey, dlib::rgb_pixel(128, 128, 128));
  net(grey);
  // dlib visits from the output back to the input.
  size_t conv = w.convs.size(), affine = w.affines.size();
  auto copy = [](const std::vector<float>& from, float* to, size_t size, const char* what) {
    if (from.size() != size) throw std::runtime_error(std::string(what) + " does not fit");
    std::copy(from.begin(), from.end(), to);
  };
  dlib::visit_computational_layers(net, [&](auto& layer) {
    using L = std::decay_t<decltype(layer)>;
    if constexpr (IsCon<L>::value) {
      if (conv == 0) throw std::runtime_error("too few convolutions");
      const Conv& c = w.convs[--conv];
      dlib::tensor& p = layer.get_layer_params();
      copy(c.weights, p.host(), p.size() - c.biases.size(), "a convolution");
      copy(c.biases, p.host() + c.weights.size(), c.biases.size(), "a convolution's bias");
    } else if constexpr (std::is_same_v<L, dlib::affine_>) {
      if (affine == 0) throw std::runtime_error("too few affine layers");
      const Affine& a = w.affines[--affine];
      auto gamma = layer.get_gamma();
      auto beta = layer.get_beta();
      copy(a.gamma, gamma.host(), gamma.size(), "an affine layer");
      copy(a.beta, beta.host(), beta.size(), "an affine layer");
    } else if constexpr (std::is_same_v<L, dlib::fc_<kEmbeddingDim, dlib::FC_NO_BIAS>>) {
      dlib::tensor& p = layer.get_layer_params();
      const int inputs = static_cast<int>(p.size()) / kEmbeddingDim;
      if (w.fc.size() != p.size())
        throw std::runtime_error("the fully connected layer does not fit");
      cv::Mat out_by_in(kEmbeddingDim, inputs, CV_32F, const_cast<float*>(w.fc.data()));
      cv::Mat in_by_out(inputs, kEmbeddingDim, CV_32F, p.host());
      cv::transpose(out_by_in, in_by_out);
    }
  });
  if (conv != 0 || affine != 0) throw std::runtime_error("the model has layers the network lacks");
}

// Batch norm (as dlib's per-channel affine layer) followed by ReLU, in one pass
// over the data: OpenCV neither fuses its Scale layer with the ReLU after it
// nor runs Scale fast, and the DenseNet has 63 of them (about a sixth of its
// time as two layers).
class AffineReluLayer : public cv::dnn::Layer {
 public:
  static constexpr const char* kType = "FaceattAffineRelu";
  explicit AffineReluLayer(const cv::dnn::LayerParams& params) : Layer(params) {}
  static cv::Ptr<cv::dnn::Layer> Create(cv::dnn::LayerParams& params) {
    return cv::makePtr<AffineReluLayer>(params);
  }
  static void Register() {
    static std::once_flag once;
    std::call_once(once, [] { cv::dnn::LayerFactory::registerLayer(kType, Create); });
  }
  bool getMemoryShapes(const std::vector<cv::dnn::MatShape>& inputs, int,
                       std::vector<cv::dnn::MatShape>& outputs,
                       std::vector<cv::dnn::MatShape>&) const override {
    outputs.assign(1, inputs[0]);
    return false;  // never in place: a DenseNet input is concatenated again later
  }
  void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
               cv::OutputArrayOfArrays) override {
    std::vector<cv::Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    const cv::Mat& in = inputs[0];
    cv::Mat& out = outputs[0];
    const int samples = in.size[0], channels = in.size[1];
    const size_t plane = in.total() / (static_cast<size_t>(samples) * channels);
    const float* gamma = blobs[0].ptr<float>();
    const float* beta = blobs[1].ptr<float>();
    for (int n = 0; n < samples; ++n)
      for (int c = 0; c < channels; ++c) {
        const float* src = in.ptr<float>(n, c);
        float* dst = out.ptr<float>(n, c);
        const float g = gamma[c], b = beta[c];
        for (size_t i = 0; i < plane; ++i) dst[i] = std::max(0.0f, src[i] * g + b);
      }
  }
};

// A tensor's shape inside the graph: channels and (square) size.
struct Shape {
  int channels = 3;
  int size = kChipSize;
};

// Builds an OpenCV graph layer by layer, taking the weights in order. Every
// net gets its own copy of them: OpenCV folds layers into each other's
// weights when it first runs. Layers return their id; Shape tracks sizes the
// way dlib rounds them (down).
class GraphBuilder {
 public:
  explicit GraphBuilder(const Weights& w) : w_(w) {}

  int Conv(int input, Shape& shape, int kernel, int stride, int pad) {
    const cvnet::Conv& c = w_.convs.at(conv_++);
    if (c.shape[1] != shape.channels || c.shape[2] != kernel || c.shape[3] != kernel)
      throw std::runtime_error("convolution " + std::to_string(conv_) + " does not fit");
    cv::dnn::LayerParams p;
    p.set("kernel_size", kernel);
    p.set("stride", stride);
    p.set("pad", pad);
    p.set("num_output", c.shape[0]);
    p.set("bias_term", !c.biases.empty());
    p.blobs.push_back(Copy(c.weights).reshape(1, 4, c.shape.data()));
    if (!c.biases.empty()) p.blobs.push_back(Copy(c.biases));
    shape.channels = c.shape[0];
    shape.size = (shape.size + 2 * pad - kernel) / stride + 1;
    return Add("Convolution", p, input);
  }
  int Affine(int input, const Shape& shape) {
    const cvnet::Affine& a = NextAffine(shape);
    cv::dnn::LayerParams p;
    p.set("bias_term", true);
    p.set("axis", 1);
    p.blobs.push_back(Copy(a.gamma));
    p.blobs.push_back(Copy(a.beta));
    return Add("Scale", p, input);
  }
  int Relu(int input) {
    cv::dnn::LayerParams p;
    return Add("ReLU", p, input);
  }
  int AffineRelu(int input, const Shape& shape) {
    const cvnet::Affine& a = NextAffine(shape);
    AffineReluLayer::Register();
    cv::dnn::LayerParams p;
    p.blobs.push_back(Copy(a.gamma));
    p.blobs.push_back(Copy(a.beta));
    return Add(AffineReluLayer::kType, p, input);
  }
  int Pool(int input, Shape& shape, const char* kind, int kernel, int stride, int pad) {
    cv::dnn::LayerParams p;
    p.set("pool", kind);
    p.set("kernel_size", kernel);
    p.set("stride", stride);
    p.set("pad", pad);
    p.set("ceil_mode", false);  // dlib rounds output sizes down
    shape.size = (shape.size + 2 * pad - kernel) / stride + 1;
    return Add("Pooling", p, input);
  }
  // dlib's concat: a's channels, then b's.
  int Concat(int a, Shape& sa, int b, const Shape& sb) {
    cv::dnn::LayerParams p;
    p.set("axis", 1);
    const int id = Add("Concat", p, a);
    net_.connect(b, 0, id, 1);
    sa.channels += sb.channels;
    return id;
  }
  // dlib's add_prev: tensors of different sizes are added as if padded with
  // zeros (after the last channel, below and right) to the larger of each.
  int Sum(int a, Shape& sa, int b, const Shape& sb) {
    Shape out{std::max(sa.channels, sb.channels), std::max(sa.size, sb.size)};
    a = PadTo(a, sa, out);
    b = PadTo(b, sb, out);
    cv::dnn::LayerParams p;
    p.set("operation", "sum");
    const int id = Add("Eltwise", p, a);
    net_.connect(b, 0, id, 1);
    sa = out;
    return id;
  }
  // Global average pool and the 128-unit fully connected layer.
  cv::dnn::Net Finish(int input, const Shape& shape) {
    cv::dnn::LayerParams global;
    global.set("pool", "ave");
    global.set("global_pooling", true);
    const int pooled = Add("Pooling", global, input);
    if (static_cast<int>(w_.fc.size()) != kEmbeddingDim * shape.channels)
      throw std::runtime_error("the fully connected layer does not fit");
    cv::dnn::LayerParams fc;
    fc.set("num_output", kEmbeddingDim);
    fc.set("bias_term", false);
    fc.blobs.push_back(Copy(w_.fc).reshape(1, kEmbeddingDim));
    Add("InnerProduct", fc, pooled);
    if (conv_ != w_.convs.size() || affine_ != w_.affines.size())
      throw std::runtime_error("the model has layers the graph does not use");
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return net_;
  }

 private:
  const cvnet::Affine& NextAffine(const Shape& shape) {
    const cvnet::Affine& a = w_.affines.at(affine_++);
    if (static_cast<int>(a.gamma.size()) != shape.channels)
      throw std::runtime_error("affine layer " + std::to_string(affine_) + " does not fit");
    return a;
  }
  static cv::Mat Copy(const std::vector<float>& v) {
    return cv::Mat(1, static_cast<int>(v.size()), CV_32F, const_cast<float*>(v.data())).clone();
  }
  int Add(const std::string& type, cv::dnn::LayerParams& params, int input) {
    params.name = type + std::to_string(++layers_);
    params.type = type;
    const int id = net_.addLayer(params.name, type, params);
    net_.connect(input, 0, id, 0);
    return id;
  }
  int PadTo(int input, const Shape& from, const Shape& to) {
    if (from.channels == to.channels && from.size == to.size) return input;
    const int dc = to.channels - from.channels, ds = to.size - from.size;
    cv::dnn::LayerParams p;
    const int paddings[] = {0, 0, 0, dc, 0, ds, 0, ds};  // before/after for N, C, H, W
    p.set("paddings", cv::dnn::DictValue::arrayInt(paddings, 8));
    p.set("type", "constant");
    p.set("value", 0.0f);
    return Add("Padding", p, input);
  }

  const Weights& w_;
  cv::dnn::Net net_;
  int layers_ = 0;
  size_t conv_ = 0, affine_ = 0;
};

// densenet::net_type (networks.h) as an OpenCV graph.
cv::dnn::Net BuildDensenet(const Weights& w) {
  GraphBuilder g(w);
  Shape s;
  int x = g.Conv(0, s, 7, 2, 3);  // 150 -> 75
  x = g.AffineRelu(x, s);
  x = g.Pool(x, s, "max", 3, 2, 1);  // 75 -> 38
  const int blocks[] = {3, 6, 12, 8};
  for (int b = 0; b < 4; ++b) {
    for (int i = 0; i < blocks[b]; ++i) {  // BN-ReLU-conv1x1(64)-BN-ReLU-conv3x3(16), concatenated
      Shape t = s;
      int y = g.AffineRelu(x, t);
      y = g.Conv(y, t, 1, 1, 0);
      y = g.AffineRelu(y, t);
      y = g.Conv(y, t, 3, 1, 1);
      x = g.Concat(x, s, y, t);
    }
    if (b < 3) {  // transition: halve the channels and the size (38 -> 19 -> 9 -> 4)
      x = g.AffineRelu(x, s);
      x = g.Conv(x, s, 1, 1, 0);
      x = g.Pool(x, s, "ave", 2, 2, 0);
    }
  }
  x = g.AffineRelu(x, s);
  return g.Finish(x, s);
}

// resnet::net_type (networks.h) as an OpenCV graph. dlib's strided layers pad
// nothing, so sizes go 150 -> 72 -> 35 -> 17 -> 8 -> 4 -> 2.
cv::dnn::Net BuildResnet(const Weights& w) {
  GraphBuilder g(w);
  Shape s;
  int x = g.Conv(0, s, 7, 2, 0);
  x = g.AffineRelu(x, s);
  x = g.Pool(x, s, "max", 3, 2, 0);
  // ares and ares_down: relu(block(x) + x), the shortcut average-pooled when the
  // block strides by 2; block = conv3x3(stride), BN, ReLU, conv3x3, BN.
  auto residual = [&](int x, Shape& s, int stride) {
    Shape t = s;
    int y = g.Conv(x, t, 3, stride, stride == 1 ? 1 : 0);
    y = g.AffineRelu(y, t);
    y = g.Conv(y, t, 3, 1, 1);
    y = g.Affine(y, t);
    if (stride == 2) x = g.Pool(x, s, "ave", 2, 2, 0);
    return g.Relu(g.Sum(x, s, y, t));
  };
  const struct {
    int down, plain;
  } levels[] = {{0, 3}, {1, 3}, {1, 2}, {1, 2}, {1, 0}};  // 32, 64, 128, 256, 256 filters
  for (const auto& level : levels) {
    for (int i = 0; i < level.down; ++i) x = residual(x, s, 2);
    for (int i = 0; i < level.plain; ++i) x = residual(x, s, 1);
  }
  return g.Finish(x, s);
}

}  // namespace cvnet

// Thresholds per network, measured with `faceatt eval ../shared/faces/lfw
// --enroll 3` (192 people enrolled, 575 genuine and 319 impostor probes, flip
// averaging on; docs/measure.md). `faceatt calibrate` adjusts them to a
// gallery's size.
// - ResNet (either form): dlib trained it for 0.6 in 1:1, but in 1:N a
//   stranger's nearest person is often 0.45-0.55 away (0.6 accepted 90% of
//   impostors). 0.45 with a 0.04 margin: 95.1% correct accepts, no wrong
//   person, 0.3% impostors; 0.46 already let 0.6-0.9% through.
// - DenseNet: a stranger's nearest person is typically 0.40-0.50 away, so 0.42
//   with a 0.08 margin keeps impostor accepts near 1.6% and wrong-person accepts
//   at 0.2%, for 72% correct accepts (0.5/0.04 accepted 21% of impostors).
constexpr MatchDefaults kResnetDefaults{0.45, 0.04};
constexpr MatchDefaults kDensenetDefaults{0.42, 0.08};

Box ToBox(const dlib::rectangle& r) {
  return Box{static_cast<int>(r.left()), static_cast<int>(r.top()), static_cast<int>(r.right() + 1),
             static_cast<int>(r.bottom() + 1)};
}

// dlib's HOG detector scans an image pyramid (each level 5/6 the size of the
// last); HogScanner (hog_scan.h) runs it with faster filtering and the same
// results. With two threads, one scans the first two levels and the other the
// rest, starting from the third level's image, which holds about as much work;
// their detections are merged by the detector's own non-maximum suppression.
class HogDetector : public FaceDetector {
 public:
  explicit HogDetector(const dlib::frontal_face_detector& detector) : scanner_(detector) {
    // Only the frontal face detector's separable filters are rewritten; any
    // other is run by dlib.
    if (!scanner_.separable()) dlib_ = std::make_unique<dlib::frontal_face_detector>(detector);
  }
  HogDetector(const HogDetector& other)  // own copies: dlib's detector and lower_ keep call state
      : scanner_(other.scanner_),
        dlib_(other.dlib_ ? std::make_unique<dlib::frontal_face_detector>(*other.dlib_) : nullptr),
        threads_(other.threads_) {}

  Result<std::vector<Detection>> Detect(const cv::Mat& bgr) override {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    std::vector<dlib::rect_detection> found;
    try {
      if (dlib_) {
        (*dlib_)(dlib::cv_image<unsigned char>(gray), found, 0.0);
      } else if (threads_ < 2 || scanner_.Levels(gray.cols, gray.rows) <= kTopLevels) {
        found = scanner_.Detect(gray, scanner_.max_levels());
      } else {
        std::vector<dlib::rect_detection> top, rest;
        if (!lower_) lower_ = std::make_unique<HogScanner>(scanner_);
        auto lower = std::async(std::launch::async, [&] {
          dlib::pyramid_down<6> pyr;
          dlib::array2d<unsigned char> level1, level2;
          pyr(dlib::cv_image<unsigned char>(gray), level1);
          pyr(level1, level2);
          // every level of the third level's image
          rest = lower_->Detect(dlib::toMat(level2), lower_->max_levels());
          for (auto& d : rest) d.rect = pyr.rect_up(d.rect, kTopLevels);
        });
        top = scanner_.Detect(gray, kTopLevels);
        lower.get();
        top.insert(top.end(), rest.begin(), rest.end());
        found = scanner_.Suppress(std::move(top));
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

  HogScanner scanner_;                 // every level, or the first kTopLevels
  std::unique_ptr<HogScanner> lower_;  // the levels from the third on, on the second thread
  std::unique_ptr<dlib::frontal_face_detector> dlib_;  // set when HogScanner cannot run it
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
  DlibAligner(std::shared_ptr<const vision::LandmarkModel> model, std::string name)
      : model_(std::move(model)), name_(std::move(name)) {}
  Result<cv::Mat> Align(const cv::Mat& bgr, const Box& box) override {
    try {
      dlib::cv_image<dlib::bgr_pixel> img(bgr);
      dlib::rectangle rect(box.left, box.top, box.right - 1, box.bottom - 1);
      dlib::full_object_detection shape = model_->Predict(img, rect);
      dlib::matrix<dlib::bgr_pixel> chip;
      dlib::extract_image_chip(img, dlib::get_face_chip_details(shape, kChipSize, kChipPadding),
                               chip);
      return cv::Mat(kChipSize, kChipSize, CV_8UC3, &chip(0, 0)).clone();
    } catch (const std::exception& e) {
      return Status::Internal(std::string("face alignment failed: ") + e.what());
    }
  }
  Result<std::vector<cv::Point2f>> Landmarks(const cv::Mat& bgr, const Box& box) override {
    try {
      dlib::cv_image<dlib::bgr_pixel> img(bgr);
      dlib::rectangle rect(box.left, box.top, box.right - 1, box.bottom - 1);
      dlib::full_object_detection shape = model_->Predict(img, rect);
      std::vector<cv::Point2f> points;
      for (unsigned long i = 0; i < shape.num_parts(); ++i)
        points.emplace_back(static_cast<float>(shape.part(i).x()),
                            static_cast<float>(shape.part(i).y()));
      return points;
    } catch (const std::exception& e) {
      return Status::Internal(std::string("face landmarks failed: ") + e.what());
    }
  }
  std::unique_ptr<FaceAligner> Clone() const override {
    return std::make_unique<DlibAligner>(*this);
  }
  std::string name() const override { return name_; }

 private:
  std::shared_ptr<const vision::LandmarkModel> model_;  // immutable, shared by clones
  std::string name_;
};

template <typename Net>
class DlibEmbedder : public FaceEmbedder {
 public:
  DlibEmbedder(Net net, std::string id, MatchDefaults defaults)
      : net_(std::move(net)), id_(std::move(id)), defaults_(defaults) {}
  Result<std::vector<Embedding>> Embed(const std::vector<cv::Mat>& chips) override {
    FACEATT_RETURN_IF_ERROR(vision::CheckChips(chips));
    std::vector<dlib::matrix<dlib::rgb_pixel>> input(chips.size());
    for (size_t i = 0; i < chips.size(); ++i) {
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

// A recognizer on OpenCV (cvnet above). One graph per instance: an OpenCV net
// keeps per-call state, as a dlib one does.
class CvEmbedder : public FaceEmbedder {
 public:
  using Build = cv::dnn::Net (*)(const cvnet::Weights&);
  CvEmbedder(std::shared_ptr<const cvnet::Weights> weights, Build build, std::string id,
             MatchDefaults defaults)
      : weights_(std::move(weights)),
        build_(build),
        net_(build_(*weights_)),
        id_(std::move(id)),
        defaults_(defaults) {}
  Result<std::vector<Embedding>> Embed(const std::vector<cv::Mat>& chips) override {
    FACEATT_RETURN_IF_ERROR(vision::CheckChips(chips));
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
    return std::make_unique<CvEmbedder>(weights_, build_, id_, defaults_);
  }
  std::string model_id() const override { return id_; }
  MatchDefaults defaults() const override { return defaults_; }
  std::string engine() const override { return "OpenCV dnn"; }

 private:
  std::shared_ptr<const cvnet::Weights> weights_;
  Build build_;
  cv::dnn::Net net_;
  std::string id_;
  MatchDefaults defaults_;
};

// models.engine for one network: "auto" is oneDNN for the ResNet, the only
// network written for it (onednn_resnet.h), and OpenCV for the DenseNet.
Result<std::string> EngineFor(const std::string& engine, bool resnet, const std::string& path) {
  if (engine == "auto") return std::string(resnet ? "onednn" : "opencv");
  if (engine == "onednn" && !resnet)
    return Status::InvalidArgument(path +
                                   ": models.engine = \"onednn\" runs only the ResNet; the "
                                   "DenseNet runs on \"opencv\" or \"dlib\" (or set \"auto\")");
  return engine;
}

// A loaded dlib recognizer as an embedder on `engine` ("onednn", "opencv" or
// "dlib", as EngineFor resolves it).
template <typename Net>
Result<std::unique_ptr<FaceEmbedder>> MakeEmbedder(Net& net, CvEmbedder::Build build,
                                                   const std::string& engine, const std::string& id,
                                                   MatchDefaults defaults,
                                                   const std::string& path) {
  if (engine == "dlib")
    return std::unique_ptr<FaceEmbedder>(
        std::make_unique<DlibEmbedder<Net>>(std::move(net), id, defaults));
  if (engine == "onednn") {
    auto embedder = vision::MakeOnednnResnet(cvnet::Extract(net), id, defaults);
    if (!embedder.ok()) return embedder.status().WithPrefix(path);
    return embedder;
  }
  try {
    auto weights = std::make_shared<const cvnet::Weights>(cvnet::Extract(net));
    return std::unique_ptr<FaceEmbedder>(
        std::make_unique<CvEmbedder>(std::move(weights), build, id, defaults));
  } catch (const std::exception& e) {
    return Status::Internal(path + ": rebuilding the network on OpenCV failed: " + e.what() +
                            " (models.engine = \"dlib\" runs it on dlib)");
  }
}

}  // namespace

namespace vision {

Status CheckChips(const std::vector<cv::Mat>& chips) {
  for (const cv::Mat& chip : chips)
    if (chip.rows != kChipSize || chip.cols != kChipSize || chip.type() != CV_8UC3)
      return Status::InvalidArgument("face chips must be 150x150 BGR");
  return Status::Ok();
}

Result<std::unique_ptr<FaceEmbedder>> LoadEmbedder(const std::string& path,
                                                   const std::string& architecture,
                                                   const std::string& engine, std::string* files) {
  if (files) *files = path;
  if (IsWeightsManifest(path)) {
    if (architecture == "densenet")
      return Status::InvalidArgument(path +
                                     " holds ResNet weights (face-api's form), not a "
                                     "DenseNet: set models.architecture to auto or resnet");
    FACEATT_ASSIGN_OR_RETURN(FaceApiResnet faceapi, ReadFaceApiResnet(path));
    if (files) *files = path + " + " + faceapi.bin_path;
    // Not the .dat's id: the weights were quantised, so the two forms' embeddings
    // differ slightly and are never compared.
    const std::string id = "resnet-faceapi:" + faceapi.sha256.substr(0, 12);
    FACEATT_ASSIGN_OR_RETURN(const std::string on, EngineFor(engine, true, path));
    if (on == "onednn") {
      auto embedder = MakeOnednnResnet(faceapi.weights, id, kResnetDefaults);
      if (!embedder.ok()) return embedder.status().WithPrefix(path);
      return embedder;
    }
    try {
      if (on == "dlib") {
        resnet::net_type net;
        cvnet::Fill(faceapi.weights, net);
        return std::unique_ptr<FaceEmbedder>(
            std::make_unique<DlibEmbedder<resnet::net_type>>(std::move(net), id, kResnetDefaults));
      }
      auto weights = std::make_shared<const cvnet::Weights>(std::move(faceapi.weights));
      return std::unique_ptr<FaceEmbedder>(std::make_unique<CvEmbedder>(
          std::move(weights), cvnet::BuildResnet, id, kResnetDefaults));
    } catch (const std::exception& e) {
      return Status::Internal(path + ": building the ResNet failed: " + e.what());
    }
  }
  FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, int64_t{1} << 31));
  const std::string id_suffix = ":" + Sha256Hex(bytes).substr(0, 12);
  if (architecture == "resnet" || architecture == "auto") {
    resnet::net_type net;
    Status error = DeserializeBytes(bytes, net, path, "ResNet face recognition");
    if (error.ok()) {
      FACEATT_ASSIGN_OR_RETURN(const std::string on, EngineFor(engine, true, path));
      return MakeEmbedder(net, cvnet::BuildResnet, on, "resnet" + id_suffix, kResnetDefaults, path);
    }
    if (architecture == "resnet") return error;
  }
  densenet::net_type net;
  Status error = DeserializeBytes(bytes, net, path, "DenseNet face recognition");
  if (error.ok()) {
    FACEATT_ASSIGN_OR_RETURN(const std::string on, EngineFor(engine, false, path));
    return MakeEmbedder(net, cvnet::BuildDensenet, on, "densenet" + id_suffix, kDensenetDefaults,
                        path);
  }
  if (architecture == "densenet") return error;
  return Status::BadInput(path + " is neither a ResNet nor a DenseNet dlib face recognition model");
}

Result<std::unique_ptr<FaceDetector>> LoadDetector(const ModelFiles& files,
                                                   const std::string& cache_dir) {
  if (files.detector == "hog") {
    dlib::frontal_face_detector hog;
    FACEATT_RETURN_IF_ERROR(LoadFrontalFaceDetector(cache_dir, hog));
    return std::unique_ptr<FaceDetector>(std::make_unique<HogDetector>(std::move(hog)));
  }
  FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(files.mmod_model, int64_t{1} << 30));
  mmod::net_type net;
  FACEATT_RETURN_IF_ERROR(DeserializeBytes(bytes, net, files.mmod_model, "MMOD face detector"));
  return std::unique_ptr<FaceDetector>(std::make_unique<MmodDetector>(std::move(net)));
}

// Mapped from the flat cache in `cache_dir` (landmarks.h): the 68-point model is
// most of a cold start otherwise.
Result<std::unique_ptr<FaceAligner>> LoadAligner(const std::string& path,
                                                 const std::string& cache_dir) {
  FACEATT_ASSIGN_OR_RETURN(auto model, LandmarkModel::Load(path, cache_dir));
  if (model->num_parts() != 5 && model->num_parts() != 68)
    return Status::BadInput(path + ": landmark model has " + std::to_string(model->num_parts()) +
                            " points; 5 or 68 are supported");
  const std::string name = std::to_string(model->num_parts()) + "-point landmarks";
  return std::unique_ptr<FaceAligner>(std::make_unique<DlibAligner>(std::move(model), name));
}

}  // namespace vision
}  // namespace faceatt
