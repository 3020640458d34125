// face-api's TensorFlow.js weights of dlib's ResNet (faceapi_weights.h).
#include "vision/faceapi_weights.h"

#include <nlohmann/json.hpp>

#include <bit>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "faceatt/image.h"
#include "faceatt/pipeline.h"

namespace faceatt::vision {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

static_assert(std::endian::native == std::endian::little,
              "TensorFlow.js stores float32 little-endian; this reads them in place");

// dlib's mean face colour, which face-api subtracts too (the network was
// trained by dlib). Both forms divide by 256, as dlib's input layer does
// (face-api divides by 255; descriptors differ by about 1e-3): so the face-api
// form computes on either engine what the .dat computes.
constexpr float kAvgRed = 122.782f, kAvgGreen = 117.001f, kAvgBlue = 104.298f;

// Large enough for any honest manifest (face-api's is 20 kB) or .bin (6.4 MB).
constexpr int64_t kMaxManifestBytes = int64_t{1} << 20;
constexpr int64_t kMaxBinBytes = int64_t{1} << 28;

struct Expected {
  std::string name;
  std::vector<int> shape;
};

// The ResNet's tensors in face-api's names and order (networks.h's resnet,
// input to output): the stem, then residual blocks of two 3x3 convolutions,
// each convolution followed by its affine layer, then the fully connected layer.
std::vector<Expected> ResnetTensors() {
  std::vector<Expected> t;
  auto conv = [&](const std::string& prefix, int kernel, int in, int out) {
    t.push_back({prefix + "/conv/filters", {kernel, kernel, in, out}});
    t.push_back({prefix + "/conv/bias", {out}});
    t.push_back({prefix + "/scale/weights", {out}});
    t.push_back({prefix + "/scale/biases", {out}});
  };
  conv("conv32_down", 7, 3, 32);
  const struct {
    const char* name;
    int in, out;
  } blocks[] = {{"conv32_1", 32, 32},    {"conv32_2", 32, 32},          {"conv32_3", 32, 32},
                {"conv64_down", 32, 64}, {"conv64_1", 64, 64},          {"conv64_2", 64, 64},
                {"conv64_3", 64, 64},    {"conv128_down", 64, 128},     {"conv128_1", 128, 128},
                {"conv128_2", 128, 128}, {"conv256_down", 128, 256},    {"conv256_1", 256, 256},
                {"conv256_2", 256, 256}, {"conv256_down_out", 256, 256}};
  for (const auto& b : blocks) {
    conv(std::string(b.name) + "/conv1", 3, b.in, b.out);
    conv(std::string(b.name) + "/conv2", 3, b.out, b.out);
  }
  t.push_back({"fc", {256, kEmbeddingDim}});
  return t;
}

std::string ShapeText(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// One tensor's values, dequantised.
struct Tensor {
  std::vector<float> values;
};

// Reads tensor `entry` (checked against `want`) from `bin` at `offset`.
Result<Tensor> ReadTensor(const json& entry, const Expected& want, std::string_view bin,
                          size_t& offset, const std::string& manifest,
                          const std::string& bin_path) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption(manifest + ": tensor '" + want.name + "' " + what +
                              " (not face-api's ResNet weights)");
  };
  if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string())
    return bad("is missing: the entry in its place has no name");
  const std::string name = entry["name"].get<std::string>();
  if (name != want.name) return bad("is missing: found '" + name + "' in its place");
  std::vector<int> shape;
  if (entry.contains("shape") && entry["shape"].is_array())
    for (const auto& d : entry["shape"]) shape.push_back(d.is_number_integer() ? d.get<int>() : -1);
  if (shape != want.shape)
    return bad("has shape " + ShapeText(shape) + ", expected " + ShapeText(want.shape));
  if (entry.value("dtype", "") != "float32") return bad("is not float32");
  size_t count = 1;
  for (int d : shape) count *= static_cast<size_t>(d);
  bool quantised = false;
  double scale = 1, min = 0;
  if (entry.contains("quantization")) {
    const json& q = entry["quantization"];
    if (!q.is_object() || q.value("dtype", "") != "uint8" || !q.contains("scale") ||
        !q["scale"].is_number() || !q.contains("min") || !q["min"].is_number())
      return bad("has a quantization other than uint8 with scale and min");
    quantised = true;
    scale = q["scale"].get<double>();
    min = q["min"].get<double>();
  }
  const size_t bytes = count * (quantised ? 1 : sizeof(float));
  if (offset + bytes > bin.size())
    return Status::Corruption(bin_path + ": " + std::to_string(bin.size()) +
                              " bytes, too short for tensor '" + want.name + "' (bytes " +
                              std::to_string(offset) + "-" + std::to_string(offset + bytes) +
                              "); truncated?");
  Tensor t;
  t.values.resize(count);
  const char* data = bin.data() + offset;
  if (quantised) {
    for (size_t i = 0; i < count; ++i)
      t.values[i] = static_cast<float>(min + scale * static_cast<unsigned char>(data[i]));
  } else {
    std::memcpy(t.values.data(), data, bytes);
  }
  offset += bytes;
  return t;
}

}  // namespace

bool IsWeightsManifest(const std::string& path) { return fs::path(path).extension() == ".json"; }

Result<FaceApiResnet> ReadFaceApiResnet(const std::string& manifest_path) {
  auto unreadable = [](const Status& s) { return Status::Unavailable(s.message()); };
  auto manifest_bytes = ReadFileBytes(manifest_path, kMaxManifestBytes);
  if (!manifest_bytes.ok()) return unreadable(manifest_bytes.status());
  const json manifest = json::parse(*manifest_bytes, nullptr, /*allow_exceptions=*/false);
  // TensorFlow.js: a list of groups, each naming its files and its tensors.
  if (!manifest.is_array() || manifest.size() != 1 || !manifest[0].is_object() ||
      !manifest[0].contains("paths") || !manifest[0]["paths"].is_array() ||
      manifest[0]["paths"].size() != 1 || !manifest[0]["paths"][0].is_string() ||
      !manifest[0].contains("weights") || !manifest[0]["weights"].is_array())
    return Status::Corruption(manifest_path +
                              ": not a TensorFlow.js weights manifest with one group of "
                              "weights in one file");
  const std::string bin_name = manifest[0]["paths"][0].get<std::string>();
  // The .bin sits beside the manifest: a path leading elsewhere is refused.
  if (bin_name.empty() || bin_name.find('/') != std::string::npos || bin_name == "." ||
      bin_name == "..")
    return Status::Corruption(manifest_path + ": the weights file '" + bin_name +
                              "' is not a plain file name");
  FaceApiResnet out;
  out.bin_path = (fs::path(manifest_path).parent_path() / bin_name).string();
  auto bin = ReadFileBytes(out.bin_path, kMaxBinBytes);
  if (!bin.ok()) return unreadable(bin.status());

  const json& entries = manifest[0]["weights"];
  const std::vector<Expected> expected = ResnetTensors();
  NetWeights& w = out.weights;
  size_t offset = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (i >= entries.size())
      return Status::Corruption(manifest_path + ": tensor '" + expected[i].name +
                                "' is missing: the manifest ends after " +
                                std::to_string(entries.size()) + " tensors");
    FACEATT_ASSIGN_OR_RETURN(
        Tensor t, ReadTensor(entries[i], expected[i], *bin, offset, manifest_path, out.bin_path));
    const std::vector<int>& s = expected[i].shape;
    const std::string& name = expected[i].name;
    auto ends_with = [&](std::string_view suffix) {
      return name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with("/conv/filters")) {
      // [rows, columns, in, out] -> [out, in, rows, columns]
      const int rows = s[0], cols = s[1], in = s[2], filters = s[3];
      ConvWeights c;
      c.shape = {filters, in, rows, cols};
      c.weights.resize(t.values.size());
      for (int y = 0; y < rows; ++y)
        for (int x = 0; x < cols; ++x)
          for (int k = 0; k < in; ++k)
            for (int f = 0; f < filters; ++f)
              c.weights[((static_cast<size_t>(f) * in + k) * rows + y) * cols + x] =
                  t.values[((static_cast<size_t>(y) * cols + x) * in + k) * filters + f];
      w.convs.push_back(std::move(c));
    } else if (ends_with("/conv/bias")) {
      w.convs.back().biases = std::move(t.values);
    } else if (ends_with("/scale/weights")) {
      w.affines.push_back({std::move(t.values), {}});
    } else if (ends_with("/scale/biases")) {
      w.affines.back().beta = std::move(t.values);
    } else {  // fc: [inputs, 128] -> [128, inputs]
      const int inputs = s[0];
      w.fc.resize(t.values.size());
      for (int i = 0; i < inputs; ++i)
        for (int o = 0; o < kEmbeddingDim; ++o)
          w.fc[static_cast<size_t>(o) * inputs + i] =
              t.values[static_cast<size_t>(i) * kEmbeddingDim + o];
    }
  }
  if (entries.size() > expected.size())
    return Status::Corruption(manifest_path + ": unexpected tensor after '" + expected.back().name +
                              "' (not face-api's ResNet weights)");
  if (offset != bin->size())
    return Status::Corruption(out.bin_path + ": " + std::to_string(bin->size()) +
                              " bytes, but the manifest's tensors take " + std::to_string(offset));
  w.avg_red = kAvgRed;
  w.avg_green = kAvgGreen;
  w.avg_blue = kAvgBlue;
  out.sha256 = Sha256Hex(*manifest_bytes + *bin);
  return out;
}

}  // namespace faceatt::vision
