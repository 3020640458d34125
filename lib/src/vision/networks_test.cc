// The recognizer's engines: each network rebuilt on OpenCV's dnn module, and
// the ResNet on oneDNN, must compute what dlib computes from the same model
// file (DenseNet, ResNet, and face-api's form of the ResNet).
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cmath>
#include <filesystem>
#include <thread>

#include "faceatt/image.h"
#include "faceatt/pipeline.h"
#include "support/testing.h"
#include "vision/networks.h"

namespace faceatt {
namespace {

std::shared_ptr<const Models> LoadWithEngine(const std::string& engine,
                                             const std::string& recognizer = "") {
  Config c = testing::TestConfig();
  c.models.engine = engine;
  if (!recognizer.empty()) c.models.recognizer = recognizer;
  auto models = LoadModels(c);
  EXPECT_TRUE(models.ok()) << engine << ": " << models.status().ToString();
  return models.ok() ? *models : nullptr;
}

// Aligned chips of real faces: LFW portraits of different people and a group photo.
std::vector<cv::Mat> RealChips(const Models& models) {
  std::vector<std::string> photos;
  for (const char* person : {"Al_Gore", "Geoff_Hoon", "Jay_Leno", "Uma_Thurman"}) {
    auto files = testing::FilesIn(testing::Face(std::string("lfw/") + person));
    if (!files.empty()) photos.push_back(files.front());
  }
  photos.push_back(testing::Face("group/face_recognition__two_people.jpg"));
  auto pipeline = models.NewPipeline();
  std::vector<cv::Mat> chips;
  AnalyzeOptions opts;
  opts.embed = false;
  opts.keep_chips = true;
  for (const auto& photo : photos) {
    auto img = ReadImageFile(photo, ImageLimits{});
    EXPECT_TRUE(img.ok()) << photo;
    if (!img.ok()) continue;
    auto faces = pipeline->Analyze(*img, opts);
    EXPECT_TRUE(faces.ok()) << photo;
    if (faces.ok())
      for (auto& f : *faces) chips.push_back(f.chip);
  }
  return chips;
}

float MaxDifference(const Embedding& a, const Embedding& b) {
  float m = 0;
  for (int k = 0; k < kEmbeddingDim; ++k) m = std::max(m, std::abs(a[k] - b[k]));
  return m;
}

// `model` loaded on `engine` (`tested`) and on dlib (the same id) and real
// chips embedded on each.
struct BothEngines {
  std::shared_ptr<const Models> tested, dlib;
  std::vector<Embedding> on_tested, on_dlib;  // empty when anything failed
};
BothEngines EmbedOnBoth(const std::string& model, const std::string& engine = "opencv") {
  BothEngines b{LoadWithEngine(engine, model), LoadWithEngine("dlib", model), {}, {}};
  if (!b.tested || !b.dlib) return b;
  EXPECT_EQ(b.tested->model_id(), b.dlib->model_id());
  std::vector<cv::Mat> chips = RealChips(*b.dlib);
  EXPECT_GE(chips.size(), 6u);
  auto on_tested = b.tested->NewPipeline()->mutable_embedder().Embed(chips);
  auto on_dlib = b.dlib->NewPipeline()->mutable_embedder().Embed(chips);
  EXPECT_TRUE(on_tested.ok()) << on_tested.status().ToString();
  EXPECT_TRUE(on_dlib.ok()) << on_dlib.status().ToString();
  if (chips.size() >= 6 && on_tested.ok() && on_dlib.ok()) {
    b.on_tested = std::move(*on_tested);
    b.on_dlib = std::move(*on_dlib);
  }
  return b;
}

// The DenseNet (the default before the ResNet; still what "auto" takes without it).
TEST(NetworksTest, OpenCvEngineComputesWhatDlibComputes) {
  const std::string densenet = testing::ModelsDir() + "/face_recognition_densenet_model_v1.dat";
  auto cv_models = LoadWithEngine("opencv", densenet);
  auto dlib_models = LoadWithEngine("dlib", densenet);
  ASSERT_TRUE(cv_models && dlib_models);
  // The same model file: the same id, so stored embeddings stay comparable.
  EXPECT_EQ(cv_models->model_id(), dlib_models->model_id());
  EXPECT_NE(cv_models->description().find("OpenCV dnn"), std::string::npos)
      << cv_models->description();
  EXPECT_NE(dlib_models->description().find("on dlib"), std::string::npos)
      << dlib_models->description();

  std::vector<cv::Mat> chips = RealChips(*dlib_models);
  ASSERT_GE(chips.size(), 6u);
  auto cv_pipeline = cv_models->NewPipeline();
  auto dlib_pipeline = dlib_models->NewPipeline();
  ASSERT_EQ(cv_pipeline->embedder().engine(), "OpenCV dnn");
  ASSERT_EQ(dlib_pipeline->embedder().engine(), "dlib");
  auto batch = cv_pipeline->mutable_embedder().Embed(chips);  // all at once
  auto reference = dlib_pipeline->mutable_embedder().Embed(chips);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  ASSERT_EQ(batch->size(), chips.size());
  float norm = 0;
  for (size_t i = 0; i < chips.size(); ++i) {
    EXPECT_LT(MaxDifference((*batch)[i], (*reference)[i]), 1e-4f) << "chip " << i;
    auto one = cv_pipeline->mutable_embedder().Embed({chips[i]});  // batch of one: same answer
    ASSERT_TRUE(one.ok());
    EXPECT_LT(MaxDifference((*one)[0], (*reference)[i]), 1e-4f) << "chip " << i;
    for (int k = 0; k < kEmbeddingDim; ++k) norm += (*batch)[i][k] * (*batch)[i][k];
  }
  EXPECT_GT(norm / chips.size(), 0.1f);  // not a vector of zeros on both sides
  // Different people stay apart: the rebuild is not a constant function.
  EXPECT_GT(Distance((*batch)[0], (*batch)[1]), 0.3f);
}

// dlib's ResNet model is not in ../shared/models: the same architecture with
// random weights checks the rebuild layer for layer (including the shortcuts
// where dlib adds tensors of different sizes). dlib initialises convolutions on
// the first pass; the affine layers (trained batch norms) get random per-channel
// scales and shifts.
void WriteRandomResnet(const std::string& path) {
  resnet::net_type net;
  dlib::visit_computational_layers(net, [](auto& layer) {
    if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, dlib::affine_>)
      layer = dlib::affine_(dlib::CONV_MODE);  // per channel, as in the trained model
  });
  dlib::matrix<dlib::rgb_pixel> grey(kChipSize, kChipSize);
  dlib::assign_all_pixels(grey, dlib::rgb_pixel(128, 128, 128));
  net(grey);  // sets the layers up
  dlib::rand rnd(7);
  dlib::visit_computational_layers(net, [&](auto& layer) {
    if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, dlib::affine_>) {
      auto gamma = layer.get_gamma();
      auto beta = layer.get_beta();
      for (size_t i = 0; i < gamma.size(); ++i) gamma.host()[i] = 0.5f + rnd.get_random_float();
      for (size_t i = 0; i < beta.size(); ++i) beta.host()[i] = 0.2f * rnd.get_random_gaussian();
    }
  });
  dlib::serialize(path) << net;
}

class ResnetEngineTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ResnetEngineTest, ComputesWhatDlibComputesForTheResnet) {
  testing::TempDir dir;
  const std::string model = dir.path() + "/dlib_face_recognition_resnet_model_v1.dat";
  WriteRandomResnet(model);
  BothEngines b = EmbedOnBoth(model, GetParam());
  ASSERT_TRUE(b.tested && b.dlib);
  EXPECT_EQ(b.tested->model_id().rfind("resnet:", 0), 0u) << b.tested->model_id();
  ASSERT_FALSE(b.on_dlib.empty());
  for (size_t i = 0; i < b.on_dlib.size(); ++i) {
    float scale = 0;
    for (float v : b.on_dlib[i]) scale = std::max(scale, std::abs(v));
    ASSERT_GT(scale, 1e-3f) << "chip " << i << ": the random network gives nothing to compare";
    EXPECT_LT(MaxDifference(b.on_tested[i], b.on_dlib[i]), 1e-4f * scale) << "chip " << i;
  }
  EXPECT_GT(MaxDifference(b.on_dlib[0], b.on_dlib[1]), 1e-3f);  // inputs matter
}

// face-api's weights of the ResNet (models/, from its npm package): OpenCV's
// graph and dlib's own network, each filled from the same file by its own
// code path (networks.cc's Fill and GraphBuilder), compute the same embeddings.
TEST_P(ResnetEngineTest, FaceApiResnetComputesWhatDlibComputes) {
  const std::string manifest =
      testing::ModelsDir() + "/face_recognition_model-weights_manifest.json";
  BothEngines b = EmbedOnBoth(manifest, GetParam());
  ASSERT_TRUE(b.tested && b.dlib);
  EXPECT_EQ(b.tested->NewPipeline()->embedder().engine(),
            GetParam() == "opencv" ? "OpenCV dnn" : "oneDNN");
  EXPECT_EQ(b.tested->model_id().rfind("resnet-faceapi:", 0), 0u) << b.tested->model_id();
  // -v and /health name both files.
  EXPECT_NE(b.tested->description().find("face_recognition_model.bin"), std::string::npos)
      << b.tested->description();
  EXPECT_NE(b.tested->description().find(manifest), std::string::npos);
  ASSERT_FALSE(b.on_dlib.empty());
  for (size_t i = 0; i < b.on_dlib.size(); ++i) {
    EXPECT_LT(MaxDifference(b.on_tested[i], b.on_dlib[i]), 1e-4f) << "chip " << i;
    float norm = 0;
    for (float v : b.on_dlib[i]) norm += v * v;
    EXPECT_GT(norm, 0.1f) << "chip " << i;  // a real descriptor, not zeros
  }
  // The trained network tells the four LFW people apart.
  for (size_t i = 0; i < 4; ++i)
    for (size_t j = i + 1; j < 4; ++j)
      EXPECT_GT(Distance(b.on_dlib[i], b.on_dlib[j]), 0.6f) << i << " vs " << j;
}

INSTANTIATE_TEST_SUITE_P(Engines, ResnetEngineTest, ::testing::Values("opencv", "onednn"));

// The default engine ("auto") runs the ResNet on oneDNN and the DenseNet on
// OpenCV; "onednn" refuses the DenseNet, naming the engines that run it.
TEST(NetworksTest, AutoPicksTheEngineForEachNetwork) {
  auto resnet = LoadWithEngine("auto");
  ASSERT_TRUE(resnet);
  EXPECT_EQ(resnet->NewPipeline()->embedder().engine(), "oneDNN");
  EXPECT_NE(resnet->description().find("on oneDNN"), std::string::npos) << resnet->description();
  const std::string densenet = testing::ModelsDir() + "/face_recognition_densenet_model_v1.dat";
  auto dense = LoadWithEngine("auto", densenet);
  ASSERT_TRUE(dense);
  EXPECT_EQ(dense->NewPipeline()->embedder().engine(), "OpenCV dnn");
  Config c = testing::TestConfig();
  c.models.engine = "onednn";
  c.models.recognizer = densenet;
  auto refused = LoadModels(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("\"opencv\" or \"dlib\""), std::string::npos)
      << refused.status().message();
}

// oneDNN clones share compiled layers and weights but not activations: two
// threads embedding different chips at once get what one thread gets alone.
TEST(NetworksTest, OnednnClonesRunAtOnce) {
  auto models = LoadWithEngine("onednn");
  ASSERT_TRUE(models);
  std::vector<cv::Mat> chips = RealChips(*models);
  ASSERT_GE(chips.size(), 4u);
  auto alone = models->NewPipeline()->mutable_embedder().Embed(chips);
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  std::vector<cv::Mat> reversed(chips.rbegin(), chips.rend());
  auto a = models->NewPipeline();
  auto b = models->NewPipeline();
  Result<std::vector<Embedding>> on_a = std::vector<Embedding>{}, on_b = std::vector<Embedding>{};
  std::thread t([&] {
    for (int i = 0; i < 5; ++i) on_a = a->mutable_embedder().Embed(chips);
  });
  for (int i = 0; i < 5; ++i) on_b = b->mutable_embedder().Embed(reversed);
  t.join();
  ASSERT_TRUE(on_a.ok() && on_b.ok());
  for (size_t i = 0; i < chips.size(); ++i) {
    EXPECT_LT(MaxDifference((*on_a)[i], (*alone)[i]), 1e-6f) << "chip " << i;
    EXPECT_LT(MaxDifference((*on_b)[chips.size() - 1 - i], (*alone)[i]), 1e-6f) << "chip " << i;
  }
  EXPECT_GT(Distance((*alone)[0], (*alone)[1]), 0.3f);
}

// oneDNN's OpenMP would start a team of threads per pass; an embedder runs
// on its caller's thread alone (bulk-enroll's workers and the pipeline already
// fill the cores), and leaves the caller's own OpenMP setting as it was.
TEST(NetworksTest, OnednnRunsOnTheCallingThreadAlone) {
  auto models = LoadWithEngine("onednn");
  ASSERT_TRUE(models);
  std::vector<cv::Mat> chips = RealChips(*models);
  ASSERT_FALSE(chips.empty());
  auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  ASSERT_TRUE(set && get) << "libdnnl's OpenMP runtime is not loaded";
  auto threads = [] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& t : std::filesystem::directory_iterator("/proc/self/task"))
      ++n;
    return n;
  };
  auto pipeline = models->NewPipeline();
  size_t before = 0, during = 0;
  int setting = 0;
  bool ok = false;
  std::thread caller([&] {  // a fresh thread: OpenMP keeps a team per thread that starts one
    set(4);
    before = threads();
    ok = pipeline->mutable_embedder().Embed(chips).ok();
    during = threads();  // a team would still be alive until this thread ends
    setting = get();
  });
  caller.join();
  ASSERT_TRUE(ok);
  EXPECT_EQ(during, before);
  EXPECT_EQ(setting, 4);
}

TEST(NetworksTest, OpenCvClonesAreIndependent) {
  auto models = LoadWithEngine("opencv");
  ASSERT_TRUE(models);
  std::vector<cv::Mat> chips = RealChips(*models);
  ASSERT_GE(chips.size(), 2u);
  auto a = models->NewPipeline();
  auto b = models->NewPipeline();
  // Interleaved batches of different sizes on two copies: each keeps its own state.
  auto first = a->mutable_embedder().Embed({chips[0]});
  auto both = b->mutable_embedder().Embed({chips[1], chips[0]});
  auto again = a->mutable_embedder().Embed({chips[0]});
  ASSERT_TRUE(first.ok() && both.ok() && again.ok());
  EXPECT_LT(MaxDifference((*first)[0], (*again)[0]), 1e-6f);
  EXPECT_LT(MaxDifference((*first)[0], (*both)[1]), 1e-4f);
}

TEST_P(ResnetEngineTest, RefusesBadChips) {
  auto models = LoadWithEngine(GetParam());
  ASSERT_TRUE(models);
  auto pipeline = models->NewPipeline();
  auto wrong_size =
      pipeline->mutable_embedder().Embed({cv::Mat(100, 150, CV_8UC3, cv::Scalar(9, 9, 9))});
  EXPECT_EQ(wrong_size.status().code(), Code::kInvalidArgument);
  auto grey = pipeline->mutable_embedder().Embed({cv::Mat(kChipSize, kChipSize, CV_8UC1)});
  EXPECT_EQ(grey.status().code(), Code::kInvalidArgument);
  auto none = pipeline->mutable_embedder().Embed({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace faceatt
