// face-api's weights of the ResNet: the real files in models/ load; damaged
// copies (truncated, a tensor renamed, a shape changed) are refused with an
// error naming the tensor.
#include "vision/faceapi_weights.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "faceatt/pipeline.h"
#include "support/testing.h"

namespace faceatt::vision {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Manifest() { return testing::ModelsDir() + "/" + kFaceApiManifest; }

// A copy of the real pair in a temporary folder, the manifest edited by `edit`
// and the .bin cut to `bin_bytes` (all of it when negative).
std::string BrokenCopy(const testing::TempDir& dir, const std::function<void(json&)>& edit,
                       long bin_bytes = -1) {
  json manifest = json::parse(testing::ReadFile(Manifest()));
  const std::string bin_name = manifest[0]["paths"][0].get<std::string>();
  std::string bin = testing::ReadFile(testing::ModelsDir() + "/" + bin_name);
  EXPECT_FALSE(bin.empty()) << "no " << bin_name << " in " << testing::ModelsDir();
  if (bin_bytes >= 0) bin.resize(static_cast<size_t>(bin_bytes));
  edit(manifest);
  const std::string path = dir.path() + "/" + kFaceApiManifest;
  testing::WriteFile(path, manifest.dump());
  testing::WriteFile(dir.path() + "/" + bin_name, bin);
  return path;
}

json& Tensor(json& manifest, const std::string& name) {
  for (json& t : manifest[0]["weights"])
    if (t["name"] == name) return t;
  ADD_FAILURE() << "no tensor " << name;
  return manifest;
}

TEST(FaceApiWeightsTest, ReadsTheRealWeights) {
  auto r = ReadFaceApiResnet(Manifest());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const NetWeights& w = r->weights;
  ASSERT_EQ(w.convs.size(), 29u);
  ASSERT_EQ(w.affines.size(), 29u);
  EXPECT_EQ(w.convs.front().shape, (std::vector<int>{32, 3, 7, 7}));
  EXPECT_EQ(w.convs.back().shape, (std::vector<int>{256, 256, 3, 3}));
  EXPECT_EQ(w.fc.size(), 256u * kEmbeddingDim);
  for (size_t i = 0; i < w.convs.size(); ++i) {
    const auto& c = w.convs[i];
    EXPECT_EQ(c.weights.size(),
              static_cast<size_t>(c.shape[0]) * c.shape[1] * c.shape[2] * c.shape[3]);
    EXPECT_EQ(c.biases.size(), static_cast<size_t>(c.shape[0])) << "convolution " << i;
    EXPECT_EQ(w.affines[i].gamma.size(), c.biases.size()) << "affine " << i;
    EXPECT_EQ(w.affines[i].beta.size(), c.biases.size()) << "affine " << i;
  }
  // Dequantised: the stem's filters take the manifest's range, not raw bytes.
  json manifest = json::parse(testing::ReadFile(Manifest()));
  const json& q = Tensor(manifest, "conv32_down/conv/filters")["quantization"];
  const double lo = q["min"].get<double>(), hi = lo + 255 * q["scale"].get<double>();
  auto [mn, mx] = std::minmax_element(w.convs[0].weights.begin(), w.convs[0].weights.end());
  EXPECT_GE(*mn, lo - 1e-6);
  EXPECT_LE(*mx, hi + 1e-6);
  EXPECT_LT(*mn, 0.5 * lo);  // the bytes spread over the range
  EXPECT_GT(*mx, 0.5 * hi);
  EXPECT_EQ(r->sha256.size(), 64u);
}

TEST(FaceApiWeightsTest, RefusesATruncatedBin) {
  testing::TempDir dir;
  const std::string path = BrokenCopy(
      dir, [](json&) {}, 6444032 - 1000);
  auto r = ReadFaceApiResnet(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("face_recognition_model.bin"), std::string::npos) << m;
  EXPECT_NE(m.find("tensor 'fc'"), std::string::npos) << m;  // the last 32,768 bytes
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
}

TEST(FaceApiWeightsTest, RefusesARenamedTensor) {
  testing::TempDir dir;
  const std::string path = BrokenCopy(dir, [](json& m) {
    Tensor(m, "conv64_2/conv1/conv/filters")["name"] = "conv64_2/conv9/conv/filters";
  });
  auto r = ReadFaceApiResnet(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find(path), std::string::npos) << m;
  EXPECT_NE(m.find("'conv64_2/conv1/conv/filters'"), std::string::npos) << m;
  EXPECT_NE(m.find("conv64_2/conv9/conv/filters"), std::string::npos) << m;
}

TEST(FaceApiWeightsTest, RefusesAWrongShape) {
  testing::TempDir dir;
  const std::string path = BrokenCopy(dir, [](json& m) {
    Tensor(m, "conv128_1/conv2/conv/filters")["shape"] = json::array({3, 3, 128, 64});
  });
  auto r = ReadFaceApiResnet(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("'conv128_1/conv2/conv/filters'"), std::string::npos) << m;
  EXPECT_NE(m.find("[3, 3, 128, 64]"), std::string::npos) << m;
}

TEST(FaceApiWeightsTest, RefusesExtraBytesAndMissingFiles) {
  testing::TempDir dir;
  const std::string path = BrokenCopy(dir, [](json&) {});
  ASSERT_TRUE(ReadFaceApiResnet(path).ok());
  // A .bin longer than the tensors: not these weights.
  testing::WriteFile(dir.path() + "/face_recognition_model.bin",
                     testing::ReadFile(testing::ModelsDir() + "/face_recognition_model.bin") + "x");
  auto longer = ReadFaceApiResnet(path);
  EXPECT_EQ(longer.status().code(), Code::kCorruption);
  EXPECT_NE(longer.status().message().find("6444033 bytes"), std::string::npos)
      << longer.status().message();
  fs::remove(dir.path() + "/face_recognition_model.bin");
  auto missing = ReadFaceApiResnet(path);
  EXPECT_EQ(missing.status().code(), Code::kUnavailable);
  EXPECT_NE(missing.status().message().find("face_recognition_model.bin"), std::string::npos);
  // A manifest naming a file outside its folder is refused before reading it.
  testing::TempDir other;
  const std::string escape = BrokenCopy(other, [](json& m) { m[0]["paths"][0] = "../x.bin"; });
  EXPECT_EQ(ReadFaceApiResnet(escape).status().code(), Code::kCorruption);
}

// Through LoadModels, as the CLI and the server load them: the damaged copy is
// refused with the tensor named, on both engines.
TEST(FaceApiWeightsTest, LoadModelsRefusesADamagedCopy) {
  testing::TempDir dir;
  const std::string path = BrokenCopy(dir, [](json& m) {
    Tensor(m, "fc")["shape"] = json::array({128, 256});
  });
  for (const char* engine : {"opencv", "dlib"}) {
    Config c = testing::TestConfig();
    c.models.recognizer = path;
    c.models.engine = engine;
    auto models = LoadModels(c);
    ASSERT_FALSE(models.ok()) << engine;
    EXPECT_EQ(models.status().code(), Code::kCorruption) << engine;
    EXPECT_NE(models.status().message().find("tensor 'fc'"), std::string::npos)
        << models.status().message();
  }
}

}  // namespace
}  // namespace faceatt::vision
