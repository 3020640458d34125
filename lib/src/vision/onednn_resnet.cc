#include "vision/onednn_resnet.h"

#include <dlfcn.h>

#include <algorithm>
#include <dnnl.hpp>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace faceatt::vision {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr memory::data_type kF32 = memory::data_type::f32;

// oneDNN's AVX2 and AVX-512 kernels take channels in blocks of 16 ("nChw16c").
// Every tensor after the input has a multiple of 16 channels (32 to 256), so
// the whole network stays in that layout and the two steps written here (the
// shortcut of a strided block, the final pool) index it directly.
constexpr int kBlock = 16;

struct Tensor {
  int channels = 3;
  int size = kChipSize;  // square
};

// The shared, immutable part: the engine, the compiled layers and their
// weights, and the shapes of the activations each pass needs.
struct Network {
  // One layer run by oneDNN, or the shortcut sum of a strided block.
  struct Step {
    dnnl::primitive primitive;  // unset for a shortcut step
    memory weights, bias;       // convolutions only
    memory::desc scratch;       // what the primitive needs for temporary data
    int src = 0, dst = 0;       // activation indices
    int shortcut = -1;          // shortcut step: the block's input (src is the block's output)
    Tensor in, block, out;      // shortcut step: shapes of the input, the block and the sum
  };
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::vector<memory::desc> activations;  // [0] is the input chip
  std::vector<Step> steps;
  std::vector<float> fc;  // kEmbeddingDim x the last activation's channels
  int last = 0;           // index of the last activation, pooled into the fc layer
  float mean[3] = {};     // R, G, B
};

memory::desc ActivationDesc(const Tensor& t) {
  return memory::desc({1, t.channels, t.size, t.size}, kF32,
                      t.channels % kBlock ? Tag::nchw : Tag::nChw16c);
}

// Builds the layers from NetWeights in order; throws std::invalid_argument
// naming the first layer that does not fit, or dnnl::error.
class Builder {
 public:
  Builder(const NetWeights& w, Network& net) : w_(w), net_(net), stream_(net.engine) {}

  int Input() { return Add(Tensor{}); }

  // A convolution with the affine layer after it folded in, then optionally
  // the sum with what `dst` already holds, then optionally ReLU. Returns the
  // output's activation index (`dst`, or a new one when dst < 0).
  int Conv(int src, Tensor& t, int filters, int kernel, int stride, int pad, bool relu,
           int dst = -1, bool sum = false) {
    const size_t n = conv_++;
    const std::string what = "convolution " + std::to_string(n + 1);
    if (n >= w_.convs.size() || n >= w_.affines.size())
      throw std::invalid_argument(what + " is missing");
    const ConvWeights& c = w_.convs[n];
    const AffineWeights& a = w_.affines[n];
    const std::vector<int> shape{filters, t.channels, kernel, kernel};
    const size_t count = static_cast<size_t>(filters) * t.channels * kernel * kernel;
    if (c.shape != shape || c.weights.size() != count ||
        (!c.biases.empty() && c.biases.size() != static_cast<size_t>(filters)))
      throw std::invalid_argument(what + " does not have the ResNet's shape");
    if (a.gamma.size() != static_cast<size_t>(filters) || a.beta.size() != a.gamma.size())
      throw std::invalid_argument("affine layer " + std::to_string(n + 1) + " does not fit");
    // gamma * (W x + b) + beta: scale each filter, shift its bias.
    std::vector<float> weights(c.weights), bias(filters);
    const size_t per_filter = count / filters;
    for (int f = 0; f < filters; ++f) {
      for (size_t i = 0; i < per_filter; ++i) weights[f * per_filter + i] *= a.gamma[f];
      bias[f] = a.gamma[f] * (c.biases.empty() ? 0.0f : c.biases[f]) + a.beta[f];
    }

    const Tensor out{filters, (t.size + 2 * pad - kernel) / stride + 1};
    if (dst < 0) dst = Add(out);
    const memory::desc weights_any({filters, t.channels, kernel, kernel}, kF32, Tag::any);
    const memory::desc bias_desc({filters}, kF32, Tag::x);
    dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::convolution_direct, net_.activations[src],
                                         weights_any, bias_desc, net_.activations[dst],
                                         {stride, stride}, {pad, pad}, {pad, pad});
    dnnl::post_ops ops;
    if (sum) ops.append_sum(1.0f);
    if (relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    dnnl::convolution_forward::primitive_desc pd(desc, Attributes(ops), net_.engine);

    Network::Step step;
    step.primitive = dnnl::convolution_forward(pd);
    step.weights = memory(pd.weights_desc(), net_.engine);
    memory plain({{filters, t.channels, kernel, kernel}, kF32, Tag::oihw}, net_.engine,
                 weights.data());
    dnnl::reorder(plain, step.weights).execute(stream_, plain, step.weights);
    stream_.wait();
    step.bias = memory(bias_desc, net_.engine);
    std::copy(bias.begin(), bias.end(), static_cast<float*>(step.bias.get_data_handle()));
    return Push(std::move(step), pd.scratchpad_desc(), src, dst, t, out);
  }

  int MaxPool(int src, Tensor& t, int kernel, int stride) {
    const Tensor out{t.channels, (t.size - kernel) / stride + 1};  // dlib rounds down
    const int dst = Add(out);
    dnnl::pooling_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, net_.activations[src],
        net_.activations[dst], {stride, stride}, {kernel, kernel}, {0, 0}, {0, 0});
    dnnl::pooling_forward::primitive_desc pd(desc, Attributes({}), net_.engine);
    Network::Step step;
    step.primitive = dnnl::pooling_forward(pd);
    return Push(std::move(step), pd.scratchpad_desc(), src, dst, t, out);
  }

  // dlib's ares: relu(block(x) + x), the sum and ReLU fused into the block's
  // second convolution, which writes over x.
  int Residual(int x, Tensor& t) {
    Tensor inner = t;
    const int y = Conv(x, inner, t.channels, 3, 1, 1, /*relu=*/true);
    Conv(y, inner, t.channels, 3, 1, 1, /*relu=*/true, /*dst=*/x, /*sum=*/true);
    return x;
  }

  // dlib's ares_down: relu(block(x) + avg_pool(x)). The strided block pads
  // nothing, so it can come out smaller than the pooled shortcut (8 -> 3
  // against 4), and it has more channels; dlib adds the two as if both were
  // padded with zeros, which the shortcut step does by hand.
  int ResidualDown(int x, Tensor& t, int filters) {
    Tensor inner = t;
    const int y = Conv(x, inner, filters, 3, 2, 0, /*relu=*/true);
    const int z = Conv(y, inner, filters, 3, 1, 1, /*relu=*/false);
    const Tensor pooled{t.channels, (t.size - 2) / 2 + 1};
    const Tensor out{std::max(filters, t.channels), std::max(pooled.size, inner.size)};
    Network::Step step;
    step.shortcut = x;
    step.in = t;
    step.block = inner;
    step.out = out;
    return Push(std::move(step), {}, z, Add(out), t, out);
  }

  void Finish(int x, const Tensor& t) {
    if (conv_ != w_.convs.size() || conv_ != w_.affines.size())
      throw std::invalid_argument("the model has layers the ResNet does not use");
    if (w_.fc.size() != static_cast<size_t>(kEmbeddingDim) * t.channels)
      throw std::invalid_argument("the fully connected layer does not fit");
    net_.fc = w_.fc;
    net_.last = x;
    net_.mean[0] = w_.avg_red;
    net_.mean[1] = w_.avg_green;
    net_.mean[2] = w_.avg_blue;
  }

 private:
  // Appends a step reading activation `src` and writing `dst`; `t` becomes
  // its output's shape.
  int Push(Network::Step step, const memory::desc& scratch, int src, int dst, Tensor& t,
           const Tensor& out) {
    step.scratch = scratch;
    step.src = src;
    step.dst = dst;
    net_.steps.push_back(std::move(step));
    t = out;
    return dst;
  }
  int Add(const Tensor& t) {
    net_.activations.push_back(ActivationDesc(t));
    return static_cast<int>(net_.activations.size()) - 1;
  }
  // Scratch memory is each embedder's own (user mode): the clones of one
  // network run their passes at the same time on different threads.
  static dnnl::primitive_attr Attributes(const dnnl::post_ops& ops) {
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
  }

  const NetWeights& w_;
  Network& net_;
  dnnl::stream stream_;  // for the weights' reorders
  size_t conv_ = 0;
};

// oneDNN on OpenMP splits a layer among omp_get_max_threads() threads, counted
// when the layer is built (its work is partitioned then) and when it runs. An
// embedder runs on its caller's thread alone (the pipeline and bulk-enroll's
// workers already fill the cores), so building and each pass set that
// thread's count to 1; a team of two per worker cost bulk-enroll a tenth of its
// time in futex waits.
//
// The OpenMP runtime is libdnnl's own (libgomp), looked up rather than linked:
// faceatt then builds with any compiler's OpenMP, or none (clang's sanitizer
// build). Without it (a oneDNN built on another runtime) nothing is set.
class OneThread {
 public:
  OneThread() {
    if (Runtime().set && Runtime().get) {
      before_ = Runtime().get();
      Runtime().set(1);
    }
  }
  ~OneThread() {
    if (before_ > 0) Runtime().set(before_);
  }

 private:
  struct Omp {
    void (*set)(int);
    int (*get)();
  };
  static const Omp& Runtime() {
    static const Omp omp{
        reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads")),
        reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"))};
    return omp;
  }
  int before_ = 0;
};

// resnet::net_type (networks.h): sizes go 150 -> 72 -> 35 -> 17 -> 8 -> 4 -> 2.
std::shared_ptr<const Network> BuildNetwork(const NetWeights& w) {
  OneThread one;
  auto net = std::make_shared<Network>();
  Builder b(w, *net);
  Tensor t;
  int x = b.Input();
  x = b.Conv(x, t, 32, 7, 2, 0, /*relu=*/true);
  x = b.MaxPool(x, t, 3, 2);
  const struct {
    int filters, down, plain;
  } levels[] = {{32, 0, 3}, {64, 1, 3}, {128, 1, 2}, {256, 1, 2}, {256, 1, 0}};
  for (const auto& level : levels) {
    for (int i = 0; i < level.down; ++i) x = b.ResidualDown(x, t, level.filters);
    for (int i = 0; i < level.plain; ++i) x = b.Residual(x, t);
  }
  b.Finish(x, t);
  return net;
}

// In nChw16c: element (channel c, row y, column x) of a tensor of size s.
inline size_t At(int c, int y, int x, int s) {
  return ((static_cast<size_t>(c / kBlock) * s + y) * s + x) * kBlock + c % kBlock;
}

// relu(pad(avg_pool_2x2(in)) + pad(block)) into out, every tensor nChw16c.
void ShortcutSum(const Network::Step& s, const float* in, const float* block, float* out) {
  for (int cb = 0; cb < s.out.channels / kBlock; ++cb)
    for (int y = 0; y < s.out.size; ++y)
      for (int x = 0; x < s.out.size; ++x) {
        float sum[kBlock] = {};
        const int c0 = cb * kBlock;
        if (c0 < s.in.channels && 2 * y + 1 < s.in.size && 2 * x + 1 < s.in.size) {
          const float* a = in + At(c0, 2 * y, 2 * x, s.in.size);
          const float* b = in + At(c0, 2 * y + 1, 2 * x, s.in.size);
          for (int k = 0; k < kBlock; ++k)
            sum[k] = (a[k] + a[kBlock + k] + b[k] + b[kBlock + k]) * 0.25f;
        }
        if (c0 < s.block.channels && y < s.block.size && x < s.block.size) {
          const float* z = block + At(c0, y, x, s.block.size);
          for (int k = 0; k < kBlock; ++k) sum[k] += z[k];
        }
        float* o = out + At(c0, y, x, s.out.size);
        for (int k = 0; k < kBlock; ++k) o[k] = std::max(0.0f, sum[k]);
      }
}

class OnednnEmbedder : public FaceEmbedder {
 public:
  OnednnEmbedder(std::shared_ptr<const Network> net, std::string id, MatchDefaults defaults)
      : net_(std::move(net)), stream_(net_->engine), id_(std::move(id)), defaults_(defaults) {
    for (const memory::desc& d : net_->activations) activations_.emplace_back(d, net_->engine);
    memory::dim scratch = 1;
    for (const auto& s : net_->steps)
      scratch = std::max(scratch, static_cast<memory::dim>(s.scratch.get_size()));
    scratch_ = memory({{scratch}, memory::data_type::u8, Tag::x}, net_->engine);  // aligned
    for (const auto& s : net_->steps) {
      std::unordered_map<int, memory> args;
      if (s.primitive) {
        args = {{DNNL_ARG_SRC, activations_[s.src]},
                {DNNL_ARG_DST, activations_[s.dst]},
                {DNNL_ARG_SCRATCHPAD, memory(s.scratch, net_->engine, scratch_.get_data_handle())}};
        if (s.weights) {
          args.emplace(DNNL_ARG_WEIGHTS, s.weights);
          args.emplace(DNNL_ARG_BIAS, s.bias);
        }
      }
      args_.push_back(std::move(args));
    }
  }

  Result<std::vector<Embedding>> Embed(const std::vector<cv::Mat>& chips) override {
    FACEATT_RETURN_IF_ERROR(CheckChips(chips));
    std::vector<Embedding> out(chips.size());
    try {
      OneThread one;
      for (size_t i = 0; i < chips.size(); ++i) out[i] = Pass(chips[i]);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("face embedding failed: ") + e.what());
    }
    return out;
  }
  std::unique_ptr<FaceEmbedder> Clone() const override {
    return std::make_unique<OnednnEmbedder>(net_, id_, defaults_);
  }
  std::string model_id() const override { return id_; }
  MatchDefaults defaults() const override { return defaults_; }
  std::string engine() const override { return "oneDNN"; }

 private:
  float* Data(int activation) {
    return static_cast<float*>(activations_[activation].get_data_handle());
  }

  Embedding Pass(const cv::Mat& chip) {
    // dlib's input layer: RGB planes, minus the training set's mean colour,
    // divided by 256.
    float* planes = Data(0);
    const int area = kChipSize * kChipSize;
    for (int y = 0; y < kChipSize; ++y) {
      const uint8_t* bgr = chip.ptr<uint8_t>(y);
      for (int x = 0; x < kChipSize; ++x)
        for (int c = 0; c < 3; ++c)
          planes[c * area + y * kChipSize + x] = (bgr[3 * x + 2 - c] - net_->mean[c]) / 256.0f;
    }
    for (size_t i = 0; i < net_->steps.size(); ++i) {
      const Network::Step& s = net_->steps[i];
      if (s.primitive)
        s.primitive.execute(stream_, args_[i]);
      else
        ShortcutSum(s, Data(s.shortcut), Data(s.src), Data(s.dst));
    }
    stream_.wait();
    // Global average pool, then the fully connected layer.
    const auto& last = net_->activations[net_->last].dims();
    const int channels = static_cast<int>(last[1]), size = static_cast<int>(last[2]);
    std::vector<float> pooled(channels, 0.0f);
    const float* x = Data(net_->last);
    for (int c = 0; c < channels; ++c) {
      for (int y = 0; y < size; ++y)
        for (int k = 0; k < size; ++k) pooled[c] += x[At(c, y, k, size)];
      pooled[c] /= static_cast<float>(size * size);
    }
    Embedding e{};
    for (int k = 0; k < kEmbeddingDim; ++k) {
      const float* row = net_->fc.data() + static_cast<size_t>(k) * channels;
      float sum = 0;
      for (int c = 0; c < channels; ++c) sum += row[c] * pooled[c];
      e[k] = sum;
    }
    return e;
  }

  std::shared_ptr<const Network> net_;
  dnnl::stream stream_;
  std::vector<memory> activations_;  // this embedder's own
  memory scratch_;                   // shared by its steps, which run one at a time
  std::vector<std::unordered_map<int, memory>> args_;  // per step
  std::string id_;
  MatchDefaults defaults_;
};

}  // namespace

Result<std::unique_ptr<FaceEmbedder>> MakeOnednnResnet(const NetWeights& weights, std::string id,
                                                       MatchDefaults defaults) {
  try {
    return std::unique_ptr<FaceEmbedder>(
        std::make_unique<OnednnEmbedder>(BuildNetwork(weights), std::move(id), defaults));
  } catch (const std::invalid_argument& e) {
    return Status::InvalidArgument(std::string("the ResNet on oneDNN: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("building the ResNet on oneDNN failed: ") + e.what());
  }
}

}  // namespace faceatt::vision
