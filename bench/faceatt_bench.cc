// Benchmarks of each pipeline stage and of the gallery search.
//
//   faceatt_bench [--benchmark_filter=REGEX]
//
// Photos and models come from FACEATT_SHARED_DIR (default: ../shared beside the
// checkout); models from FACEATT_PATHS_MODELS_DIR when set, the recognizer from
// FACEATT_MODELS_RECOGNIZER when set. Stages run on one thread, OpenBLAS and
// OpenCV limited to one thread each, the way each bulk-enroll worker and server
// worker runs them.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>

#include <opencv2/imgproc.hpp>

#include "faceatt/gallery.h"
#include "faceatt/image.h"
#include "faceatt/pipeline.h"

namespace faceatt {

std::string SharedDir() {
  if (const char* e = std::getenv("FACEATT_SHARED_DIR")) return e;
  return FACEATT_BENCH_SHARED_DIR;
}

// A photo of one person (LFW, 250x250) used for every stage.
std::string PhotoPath() { return SharedDir() + "/faces/lfw/Al_Gore/Al_Gore_0001.jpg"; }
// A larger photo with one face, scaled to each detection size.
std::string LargePhotoPath() {
  return SharedDir() + "/faces/people/face_recognition/obama/obama-1080p.jpg";
}

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "faceatt_bench: " << what << "\n";
  std::exit(2);
}

// The models as the default configuration loads them; `engine` picks what runs
// the recognizer (models.engine).
const Models& TheModels(const std::string& engine = "auto") {
  static std::map<std::string, std::shared_ptr<const Models>> loaded;
  auto& models = loaded[engine];
  if (!models) {
    SetComputeThreads(1);
    Config c;
    const char* dir = std::getenv("FACEATT_PATHS_MODELS_DIR");
    c.paths.models_dir = dir ? dir : SharedDir() + "/models";
    c.models.engine = engine;
    if (const char* r = std::getenv("FACEATT_MODELS_RECOGNIZER")) c.models.recognizer = r;
    auto m = LoadModels(c);
    if (!m.ok()) Die(m.status().ToString());
    models = *m;
  }
  return *models;
}

cv::Mat ReadOrDie(const std::string& path) {
  auto img = ReadImageFile(path, ImageLimits{});
  if (!img.ok()) Die(img.status().ToString());
  return *img;
}

// The photo fitted into width x height (aspect kept, padded with grey): one
// face, the frame size a camera or upload would have.
cv::Mat Frame(int width, int height) {
  cv::Mat src = ReadOrDie(LargePhotoPath());
  const double s =
      std::min(static_cast<double>(width) / src.cols, static_cast<double>(height) / src.rows);
  cv::Mat scaled;
  cv::resize(src, scaled, cv::Size(), s, s, cv::INTER_AREA);
  cv::Mat frame(height, width, CV_8UC3, cv::Scalar(128, 128, 128));
  scaled.copyTo(frame(
      cv::Rect((width - scaled.cols) / 2, (height - scaled.rows) / 2, scaled.cols, scaled.rows)));
  return frame;
}

void BM_Decode(benchmark::State& state) {
  auto bytes = ReadFileBytes(PhotoPath(), 1 << 26);
  if (!bytes.ok()) Die(bytes.status().ToString());
  for (auto _ : state) {
    auto img = DecodeImage(*bytes, ImageLimits{});
    benchmark::DoNotOptimize(img);
  }
  state.SetLabel("LFW JPEG 250x250");
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMicrosecond);

// The detector alone on a frame of the given size (no working-size scaling).
void BM_Detect(benchmark::State& state) {
  auto pipeline = TheModels().NewPipeline();
  pipeline->detector().set_threads(static_cast<int>(state.range(2)));
  cv::Mat frame = Frame(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  size_t faces = 0;
  for (auto _ : state) {
    auto d = pipeline->detector().Detect(frame);
    if (!d.ok()) Die(d.status().ToString());
    faces = d->size();
  }
  state.counters["faces"] = static_cast<double>(faces);
}
// Third argument: threads for one image (PipelineOptions::two_threads), as identify and serve run
// it.
BENCHMARK(BM_Detect)
    ->ArgsProduct({{640}, {480}, {1, 2}})
    ->ArgsProduct({{1280}, {720}, {1, 2}})
    ->ArgsProduct({{1920}, {1080}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The whole Analyze() without embeddings at the frame size: working-size
// scaling, detection, landmarks and quality, as the pipeline runs them.
void BM_AnalyzeNoEmbed(benchmark::State& state) {
  auto pipeline = TheModels().NewPipeline();
  cv::Mat frame = state.range(0) == 250
                      ? ReadOrDie(PhotoPath())
                      : Frame(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  AnalyzeOptions opts;
  opts.embed = false;
  for (auto _ : state) {
    auto f = pipeline->Analyze(frame, opts);
    if (!f.ok() || f->empty()) Die("no face in the benchmark photo");
  }
}
BENCHMARK(BM_AnalyzeNoEmbed)
    ->Args({250, 250})
    ->Args({640, 480})
    ->Args({1920, 1080})
    ->Unit(benchmark::kMillisecond);

void BM_Landmarks(benchmark::State& state) {
  auto pipeline = TheModels().NewPipeline();
  cv::Mat img = ReadOrDie(PhotoPath());
  auto d = pipeline->detector().Detect(img);
  if (!d.ok() || d->empty()) Die("no face in " + PhotoPath());
  for (auto _ : state) {
    auto chip = pipeline->aligner().Align(img, (*d)[0].box);
    if (!chip.ok()) Die(chip.status().ToString());
  }
  state.SetLabel(pipeline->aligner().name());
}
BENCHMARK(BM_Landmarks)->Unit(benchmark::kMicrosecond);

// The recognizer on `batch` chips (no flip: each chip is one network pass);
// second argument: the engine, 0 the default ("auto": oneDNN for the ResNet,
// OpenCV for the DenseNet), 1 OpenCV's dnn, 2 dlib. The label names it.
void BM_Embed(benchmark::State& state) {
  static const char* const kEngines[] = {"auto", "opencv", "dlib"};
  auto pipeline = TheModels(kEngines[state.range(1)]).NewPipeline();
  cv::Mat img = ReadOrDie(PhotoPath());
  AnalyzeOptions opts;
  opts.embed = false;
  opts.keep_chips = true;
  auto faces = pipeline->Analyze(img, opts);
  if (!faces.ok() || faces->empty()) Die("no face in " + PhotoPath());
  std::vector<cv::Mat> chips(static_cast<size_t>(state.range(0)), (*faces)[0].chip);
  for (auto _ : state) {
    auto e = pipeline->mutable_embedder().Embed(chips);
    if (!e.ok()) Die(e.status().ToString());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetLabel(pipeline->embedder().model_id() + " on " + pipeline->embedder().engine());
}
BENCHMARK(BM_Embed)->ArgsProduct({{1, 2, 8}, {0, 1, 2}})->Unit(benchmark::kMillisecond);

// A whole LFW photo as bulk-enroll and identify see it: decode, detect,
// landmarks, quality, flip-averaged embedding.
void BM_WholePhoto(benchmark::State& state) {
  auto pipeline = TheModels().NewPipeline();
  PipelineOptions o = pipeline->options();
  o.two_threads = state.range(0) == 2;
  pipeline->set_options(o);
  auto bytes = ReadFileBytes(PhotoPath(), 1 << 26);
  if (!bytes.ok()) Die(bytes.status().ToString());
  for (auto _ : state) {
    auto img = DecodeImage(*bytes, ImageLimits{});
    auto f = pipeline->Analyze(*img);
    if (!f.ok() || f->empty()) Die("no face");
  }
}
// Argument: threads for the one photo (1 as in bulk-enroll, 2 as in identify and serve).
BENCHMARK(BM_WholePhoto)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// A 640x480 camera frame with one face, decoded from JPEG and analysed, as a
// warm serve /identify does it (without HTTP and the database).
void BM_Frame640(benchmark::State& state) {
  auto pipeline = TheModels().NewPipeline();
  PipelineOptions o = pipeline->options();
  o.two_threads = state.range(0) == 2;
  pipeline->set_options(o);
  auto jpeg = EncodeJpeg(Frame(640, 480), 90);
  if (!jpeg.ok()) Die(jpeg.status().ToString());
  for (auto _ : state) {
    auto img = DecodeImage(*jpeg, ImageLimits{});
    auto f = pipeline->Analyze(*img);
    if (!f.ok() || f->size() != 1) Die("no single face in the 640x480 frame");
  }
}
BENCHMARK(BM_Frame640)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Gallery search over N synthetic embeddings, one per person (the worst case
// for mean matching: N means to compare). Unit vectors, like the networks'.
Gallery& SyntheticGallery(size_t n) {
  static std::map<size_t, std::unique_ptr<Gallery>> cache;
  auto& g = cache[n];
  if (g) return *g;
  cache.clear();  // keep only one large gallery in memory
  auto fresh = std::make_unique<Gallery>();
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < n; ++i) {
    Embedding e;
    float norm = 0;
    for (float& x : e) {
      x = normal(rng);
      norm += x * x;
    }
    for (float& x : e) x /= std::sqrt(norm);
    fresh->Add("P" + std::to_string(i), e);
  }
  return *(cache[n] = std::move(fresh));
}

void BM_GallerySearch(benchmark::State& state) {
  Gallery& g = SyntheticGallery(static_cast<size_t>(state.range(0)));
  MatchPolicy policy;
  policy.mode = state.range(1) ? MatchMode::kMin : MatchMode::kMean;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  Embedding probe;
  for (float& x : probe) x = normal(rng) * 0.09f;
  g.Search(probe, policy);  // means computed once, outside the timing
  for (auto _ : state) {
    Match m = g.Search(probe, policy);
    benchmark::DoNotOptimize(m);
  }
  state.SetLabel(policy.mode == MatchMode::kMin ? "min" : "mean");
}
BENCHMARK(BM_GallerySearch)
    ->ArgsProduct({{1'000, 10'000, 100'000, 1'000'000}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

}  // namespace faceatt

// `faceatt_bench --frame 640x480 OUT.jpg` writes the one-face frame the
// detection benchmarks use (scripts/bench.sh identifies it); otherwise the
// usual Google Benchmark flags.
int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--frame") {
    int w = 0, h = 0;
    if (std::sscanf(argv[2], "%dx%d", &w, &h) != 2 || w < 64 || h < 64)
      faceatt::Die("--frame WxH OUT.jpg");
    auto jpeg = faceatt::EncodeJpeg(faceatt::Frame(w, h), 90);
    if (!jpeg.ok()) faceatt::Die(jpeg.status().ToString());
    auto st = faceatt::WriteFileAtomic(argv[3], *jpeg);
    if (!st.ok()) faceatt::Die(st.ToString());
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
