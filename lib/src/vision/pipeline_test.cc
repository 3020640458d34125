#include "faceatt/pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include "faceatt/image.h"
#include "support/testing.h"

namespace faceatt {
namespace {

using testing::Face;
using testing::FakeAligner;
using testing::FakeDetector;
using testing::FakeEmbedder;

cv::Mat Load(const std::string& rel) {
  auto m = ReadImageFile(Face(rel), {});
  EXPECT_TRUE(m.ok()) << rel << ": " << m.status().ToString();
  return m.ok() ? *m : cv::Mat();
}

struct FakePipeline {
  FakeDetector* detector;
  FakeEmbedder* embedder;
  std::unique_ptr<FacePipeline> pipeline;
};

FakePipeline MakeFake(std::vector<Detection> boxes, PipelineOptions options = {}) {
  auto det = std::make_unique<FakeDetector>();
  auto emb = std::make_unique<FakeEmbedder>();
  det->boxes = std::move(boxes);
  FakePipeline f{det.get(), emb.get(), nullptr};
  options.quality.min_sharpness = 0;  // flat synthetic images
  f.pipeline = std::make_unique<FacePipeline>(std::move(det), std::make_unique<FakeAligner>(),
                                              std::move(emb), options);
  return f;
}

TEST(PipelineFakeTest, LargeImagesAreDetectedOnADownscaledCopy) {
  PipelineOptions o;
  o.detect_max_side = 1000;
  auto f = MakeFake({{{100, 50, 300, 250}, 1.0}}, o);
  cv::Mat image(2000, 4000, CV_8UC3, cv::Scalar(90, 120, 160));
  auto faces = f.pipeline->Analyze(image);
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  ASSERT_EQ(f.detector->seen.size(), 1u);
  EXPECT_EQ(f.detector->seen[0], cv::Size(1000, 500));
  ASSERT_EQ(faces->size(), 1u);
  // Box mapped back to original coordinates (x4).
  EXPECT_EQ((*faces)[0].box.left, 400);
  EXPECT_EQ((*faces)[0].box.top, 200);
  EXPECT_EQ((*faces)[0].box.right, 1200);
  EXPECT_EQ((*faces)[0].box.bottom, 1000);
}

TEST(PipelineFakeTest, SmallImagesAreUpsampled) {
  PipelineOptions o;
  o.upsample_below = 500;
  auto f = MakeFake({{{40, 40, 200, 200}, 1.0}}, o);
  cv::Mat image(100, 120, CV_8UC3, cv::Scalar(90, 120, 160));
  auto faces = f.pipeline->Analyze(image);
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  EXPECT_EQ(f.detector->seen[0], cv::Size(480, 400));  // 4x: 240 < 500 still after 2x
  ASSERT_EQ(faces->size(), 1u);
  EXPECT_EQ((*faces)[0].box.left, 10);
  EXPECT_EQ((*faces)[0].box.right, 50);
}

TEST(PipelineFakeTest, NoFaceAtFirstRetriesAtTwiceTheSize) {
  PipelineOptions o;
  o.upsample_below = 0;
  o.detect_max_side = 1280;
  auto f = MakeFake({{{400, 300, 500, 400}, 1.0}}, o);
  f.detector->min_width = 1000;  // the face is only "visible" at 2x
  auto faces = f.pipeline->Analyze(cv::Mat(480, 640, CV_8UC3, cv::Scalar(90, 120, 160)));
  ASSERT_TRUE(faces.ok());
  ASSERT_EQ(f.detector->seen.size(), 2u);
  EXPECT_EQ(f.detector->seen[1], cv::Size(1280, 960));
  ASSERT_EQ(faces->size(), 1u);
  EXPECT_EQ((*faces)[0].box.left, 200);  // mapped back from 2x
  // Off, or when the image is already as large as detection allows: one pass.
  o.small_face_retry = false;
  auto g = MakeFake({{{400, 300, 500, 400}, 1.0}}, o);
  g.detector->min_width = 1000;
  EXPECT_TRUE(g.pipeline->Analyze(cv::Mat(480, 640, CV_8UC3, cv::Scalar(9))).value().empty());
  EXPECT_EQ(g.detector->seen.size(), 1u);
  o.small_face_retry = true;
  auto h = MakeFake({}, o);
  EXPECT_TRUE(h.pipeline->Analyze(cv::Mat(960, 1280, CV_8UC3, cv::Scalar(9))).value().empty());
  EXPECT_EQ(h.detector->seen.size(), 1u);
  // An 800 px photo is below the bound: retried at 1600 px.
  auto k = MakeFake({}, o);
  EXPECT_TRUE(k.pipeline->Analyze(cv::Mat(533, 800, CV_8UC3, cv::Scalar(9))).value().empty());
  ASSERT_EQ(k.detector->seen.size(), 2u);
  EXPECT_EQ(k.detector->seen[1], cv::Size(1600, 1066));
}

// A grey canvas of `size` with a real LFW portrait pasted at `at`, scaled so
// its face is about `face_px` wide; empty when the portrait's face is not found.
cv::Mat SmallFaceOn(const Models& models, int face_px, cv::Size size, cv::Point at) {
  cv::Mat portrait = Load("lfw/Al_Gore/Al_Gore_0001.jpg");
  auto big = models.NewPipeline()->Analyze(portrait);
  EXPECT_TRUE(big.ok() && big->size() == 1u);
  if (!big.ok() || big->size() != 1u) return {};
  const double s = static_cast<double>(face_px) / (*big)[0].box.width();
  cv::Mat small, canvas(size, CV_8UC3, cv::Scalar(120, 130, 140));
  cv::resize(portrait, small, cv::Size(), s, s, cv::INTER_AREA);
  small.copyTo(canvas(cv::Rect(at.x, at.y, small.cols, small.rows)));
  return canvas;
}

// A real face of about 40 px in a 640x480 frame is found (by the retry).
TEST(PipelineRealTest, FindsA40PixelFaceInACameraFrame) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  cv::Mat frame = SmallFaceOn(*models, 42, cv::Size(640, 480), cv::Point(300, 200));
  ASSERT_FALSE(frame.empty());
  auto faces = models->NewPipeline()->Analyze(frame);
  ASSERT_TRUE(faces.ok());
  ASSERT_EQ(faces->size(), 1u);
  EXPECT_NEAR((*faces)[0].box.width(), 42, 12);
  EXPECT_GT((*faces)[0].box.left, 290);
}

// By default only tiny photos are upsampled first: a 250 px photo (LFW's size)
// is detected at its own size, and at twice the size only when that finds
// nothing; a 150 px one is doubled straight away.
TEST(PipelineFakeTest, PhotosFrom200PxAreDetectedAtTheirOwnSizeFirst) {
  auto found = MakeFake({{{60, 60, 160, 160}, 1.0}});
  ASSERT_TRUE(found.pipeline->Analyze(cv::Mat(250, 250, CV_8UC3, cv::Scalar(9))).ok());
  ASSERT_EQ(found.detector->seen.size(), 1u);
  EXPECT_EQ(found.detector->seen[0], cv::Size(250, 250));
  auto none = MakeFake({});
  ASSERT_TRUE(none.pipeline->Analyze(cv::Mat(250, 250, CV_8UC3, cv::Scalar(9))).ok());
  ASSERT_EQ(none.detector->seen.size(), 2u);
  EXPECT_EQ(none.detector->seen[1], cv::Size(500, 500));
  auto tiny = MakeFake({});
  ASSERT_TRUE(tiny.pipeline->Analyze(cv::Mat(150, 150, CV_8UC3, cv::Scalar(9))).ok());
  ASSERT_EQ(tiny.detector->seen.size(), 1u);
  EXPECT_EQ(tiny.detector->seen[0], cv::Size(300, 300));
}

// A real face of about 45 px alone in a 300 px photo: HOG misses it at the
// photo's own size, and the default detection still finds it (the retry).
TEST(PipelineRealTest, FindsASmallFaceInASmallPhoto) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  cv::Mat photo = SmallFaceOn(*models, 45, cv::Size(300, 300), cv::Point(100, 100));
  ASSERT_FALSE(photo.empty());
  auto pipeline = models->NewPipeline();
  auto faces = pipeline->Analyze(photo);
  ASSERT_TRUE(faces.ok());
  ASSERT_EQ(faces->size(), 1u);
  EXPECT_NEAR((*faces)[0].box.width(), 45, 12);
  PipelineOptions no_retry = pipeline->options();
  no_retry.small_face_retry = false;
  pipeline->set_options(no_retry);
  EXPECT_TRUE(pipeline->Analyze(photo).value().empty());  // the retry is what found it
}

// An 800 px group photo whose faces are about 36 px: found only on the retry.
TEST(PipelineRealTest, SmallFacesInAGroupPhotoAreFoundOnTheRetry) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  cv::Mat group = Load("group/compreface__016_8.jpg");
  auto pipeline = models->NewPipeline();
  auto faces = pipeline->Analyze(group);
  ASSERT_TRUE(faces.ok());
  EXPECT_GE(faces->size(), 5u);
  for (const auto& f : *faces) EXPECT_LT(f.box.width(), 60);
  PipelineOptions no_retry = pipeline->options();
  no_retry.small_face_retry = false;
  pipeline->set_options(no_retry);
  EXPECT_LT(pipeline->Analyze(group).value().size(), faces->size());
}

TEST(PipelineFakeTest, LargestFirstQualityAndFlip) {
  PipelineOptions o;
  o.upsample_below = 0;  // boxes below are in original coordinates
  auto f =
      MakeFake({{{0, 0, 20, 20}, 1.0}, {{100, 100, 300, 300}, 1.0}, {{310, 0, 400, 90}, 1.0}}, o);
  cv::Mat image(400, 400, CV_8UC3, cv::Scalar(90, 120, 160));
  auto faces = f.pipeline->Analyze(image);
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  ASSERT_EQ(faces->size(), 3u);
  EXPECT_EQ((*faces)[0].box.width(), 200);
  EXPECT_EQ((*faces)[1].box.width(), 90);
  EXPECT_EQ((*faces)[2].quality_issue, kTooSmall);  // 20 px < min_face_px
  EXPECT_FALSE((*faces)[2].has_embedding);
  EXPECT_TRUE((*faces)[0].has_embedding);
  // Two usable faces, each embedded with its mirror image.
  EXPECT_EQ(f.embedder->chips_embedded, 4);
}

TEST(PipelineFakeTest, DarkAndBrightFacesAreBadQuality) {
  auto f = MakeFake({{{100, 100, 300, 300}, 1.0}});
  auto dark = f.pipeline->Analyze(cv::Mat(400, 400, CV_8UC3, cv::Scalar(5, 5, 5)));
  ASSERT_TRUE(dark.ok());
  EXPECT_EQ((*dark)[0].quality_issue, kTooDark);
  auto bright = f.pipeline->Analyze(cv::Mat(400, 400, CV_8UC3, cv::Scalar(250, 250, 250)));
  ASSERT_TRUE(bright.ok());
  EXPECT_EQ((*bright)[0].quality_issue, kTooBright);
}

TEST(PipelineFakeTest, StageFailuresPropagate) {
  auto f = MakeFake({{{100, 100, 300, 300}, 1.0}});
  cv::Mat image(400, 400, CV_8UC3, cv::Scalar(90, 120, 160));
  f.embedder->fail = true;
  EXPECT_EQ(f.pipeline->Analyze(image).status().code(), Code::kInternal);
  f.embedder->fail = false;
  f.detector->fail = true;
  EXPECT_EQ(f.pipeline->Analyze(image).status().code(), Code::kInternal);
  EXPECT_EQ(f.pipeline->Analyze(cv::Mat()).status().code(), Code::kInvalidArgument);
}

// ---- Real models ----

TEST(PipelineRealTest, FindsOneFaceInAPortrait) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  auto p = models->NewPipeline();
  auto faces = p->Analyze(Load("lfw/Abdullah_Gul/Abdullah_Gul_0001.jpg"));
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  ASSERT_EQ(faces->size(), 1u);
  const auto& f = (*faces)[0];
  EXPECT_TRUE(f.has_embedding);
  EXPECT_TRUE(f.quality_issue.empty());
  // LFW faces are roughly centred in 250x250.
  EXPECT_LT(std::abs((f.box.left + f.box.right) / 2 - 125), 30);
  EXPECT_GT(f.box.width(), 60);
}

TEST(PipelineRealTest, SmallCropsAndGroupsAndNoFaces) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  auto p = models->NewPipeline();
  // 150x150 grey crops: found only thanks to upsampling.
  for (const auto& path : testing::FilesIn(Face("people/bbt/raj"))) {
    auto faces = p->Analyze(*ReadImageFile(path, {}));
    ASSERT_TRUE(faces.ok());
    EXPECT_EQ(faces->size(), 1u) << path;
  }
  auto group = p->Analyze(Load("group/face-api.js__bbt1.jpg"));
  ASSERT_TRUE(group.ok());
  EXPECT_GE(group->size(), 3u);
  for (const char* none : {"noface/dlib__dog.jpg", "noface/BVLC__cat.jpg"}) {
    auto faces = p->Analyze(Load(none));
    ASSERT_TRUE(faces.ok());
    EXPECT_TRUE(faces->empty()) << none;
  }
}

TEST(PipelineRealTest, LargePhotoBoxesAreInOriginalCoordinates) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  auto p = models->NewPipeline();
  cv::Mat big = Load("people/compreface/person_A/001_A.jpg");
  ASSERT_GT(std::max(big.cols, big.rows), 4000);
  auto faces = p->Analyze(big);
  ASSERT_TRUE(faces.ok());
  ASSERT_GE(faces->size(), 1u);
  const Box& b = (*faces)[0].box;
  EXPECT_GT(b.width(), 200);  // far larger than the 1280 px working copy could give
  EXPECT_LE(b.right, big.cols);
  EXPECT_LE(b.bottom, big.rows);
}

TEST(PipelineRealTest, SamePersonIsCloserThanOthers) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  auto p = models->NewPipeline();
  std::vector<std::pair<int, Embedding>> embs;
  const char* people[] = {"lfw/Abdullah_Gul", "lfw/Alvaro_Uribe", "lfw/Adrien_Brody",
                          "lfw/Al_Gore"};
  for (int i = 0; i < 4; ++i) {
    auto files = testing::FilesIn(Face(people[i]));
    ASSERT_GE(files.size(), 3u) << people[i];
    for (size_t k = 0; k < 3; ++k) {
      auto faces = p->Analyze(*ReadImageFile(files[k], {}));
      ASSERT_TRUE(faces.ok());
      ASSERT_FALSE(faces->empty()) << files[k];
      embs.push_back({i, (*faces)[0].embedding});
    }
  }
  double same = 0, diff = 0;
  int ns = 0, nd = 0;
  for (size_t a = 0; a < embs.size(); ++a)
    for (size_t b = a + 1; b < embs.size(); ++b) {
      const double d = Distance(embs[a].second, embs[b].second);
      (embs[a].first == embs[b].first ? same : diff) += d;
      ++(embs[a].first == embs[b].first ? ns : nd);
    }
  same /= ns;
  diff /= nd;
  EXPECT_LT(same, models->defaults().tolerance);
  EXPECT_GT(diff, models->defaults().tolerance);
}

TEST(PipelineRealTest, FlipAveragingChangesTheEmbeddingSlightly) {
  Config c = testing::TestConfig();
  c.recognition.flip = false;
  auto plain = LoadModels(c);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  cv::Mat img = Load("lfw/Al_Gore/Al_Gore_0001.jpg");
  auto a = (*plain)->NewPipeline()->Analyze(img);
  auto b = models->NewPipeline()->Analyze(img);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 1u);
  ASSERT_EQ(b->size(), 1u);
  const float d = Distance((*a)[0].embedding, (*b)[0].embedding);
  EXPECT_GT(d, 0.0f);
  EXPECT_LT(d, 0.3f);
}

// Two threads (chip and mirror on two networks) give the one-thread embedding.
TEST(PipelineRealTest, ParallelFlipGivesTheSameEmbedding) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  auto serial = models->NewPipeline();
  auto parallel = models->NewPipeline();
  PipelineOptions o = parallel->options();
  o.two_threads = true;
  parallel->set_options(o);
  parallel->detector().set_threads(1);  // the same boxes: only the embedding is compared
  for (const char* photo :
       {"lfw/Al_Gore/Al_Gore_0001.jpg", "group/face_recognition__two_people.jpg"}) {
    cv::Mat img = Load(photo);
    auto a = serial->Analyze(img);
    auto b = parallel->Analyze(img);
    ASSERT_TRUE(a.ok() && b.ok()) << photo;
    ASSERT_EQ(a->size(), b->size()) << photo;
    ASSERT_FALSE(a->empty()) << photo;
    for (size_t i = 0; i < a->size(); ++i) {
      ASSERT_EQ((*a)[i].has_embedding, (*b)[i].has_embedding);
      if ((*a)[i].has_embedding)
        EXPECT_LT(Distance((*a)[i].embedding, (*b)[i].embedding), 1e-4f) << photo << " " << i;
    }
  }
}

// The HOG detector on two threads (pyramid split in two) finds the faces it
// finds on one: group photos with small and large faces, portraits, no-face photos.
TEST(PipelineRealTest, TwoThreadDetectionFindsTheSameFaces) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  auto one = models->NewPipeline();
  auto two = models->NewPipeline();
  two->detector().set_threads(2);
  std::vector<std::string> photos = testing::FilesIn(testing::Face("group"));
  photos.resize(std::min<size_t>(photos.size(), 12));
  for (const char* p : {"people/face_recognition/obama", "people/compreface/person_A", "noface"}) {
    auto files = testing::FilesIn(testing::Face(p));
    for (size_t i = 0; i < std::min<size_t>(files.size(), 4); ++i) photos.push_back(files[i]);
  }
  int faces = 0;
  for (const auto& photo : photos) {
    auto img = ReadImageFile(photo, ImageLimits{});
    if (!img.ok()) continue;  // e.g. a sub-folder
    cv::Mat work = *img;
    const int longest = std::max(work.cols, work.rows);
    if (longest > 1280)
      cv::resize(*img, work, cv::Size(), 1280.0 / longest, 1280.0 / longest, cv::INTER_AREA);
    auto a = one->detector().Detect(work);
    auto b = two->detector().Detect(work);
    ASSERT_TRUE(a.ok() && b.ok()) << photo;
    ASSERT_EQ(a->size(), b->size()) << photo;
    faces += static_cast<int>(a->size());
    // Same faces; a box found on the lower levels is mapped up through one more
    // rounding, so its corners may move by a pixel or two.
    for (const auto& da : *a) {
      bool same = false;
      for (const auto& db : *b)
        same |= std::abs(da.box.left - db.box.left) <= 3 &&
                std::abs(da.box.top - db.box.top) <= 3 &&
                std::abs(da.box.right - db.box.right) <= 3 &&
                std::abs(da.box.bottom - db.box.bottom) <= 3;
      EXPECT_TRUE(same) << photo << " box " << da.box.left << "," << da.box.top;
    }
  }
  EXPECT_GT(faces, 20);
}

TEST(ModelLoadingTest, ErrorsNameTheFile) {
  testing::TempDir dir;
  Config c = testing::TestConfig();
  c.models.recognizer = dir / "nothing.dat";
  auto missing = LoadModels(c);
  EXPECT_EQ(missing.status().code(), Code::kUnavailable);
  EXPECT_NE(missing.status().message().find("nothing.dat"), std::string::npos);

  testing::WriteFile(dir / "junk.dat", std::string(5000, 'x'));
  c.models.recognizer = dir / "junk.dat";
  auto junk = LoadModels(c);
  EXPECT_EQ(junk.status().code(), Code::kBadInput);
  EXPECT_NE(junk.status().message().find("junk.dat"), std::string::npos);

  // The DenseNet file is not a ResNet.
  c.models.recognizer = testing::ModelsDir() + "/face_recognition_densenet_model_v1.dat";
  c.models.architecture = "resnet";
  auto wrong = LoadModels(c);
  EXPECT_EQ(wrong.status().code(), Code::kBadInput);
  EXPECT_NE(wrong.status().message().find("face_recognition_densenet_model_v1.dat"),
            std::string::npos);
  EXPECT_NE(wrong.status().message().find("ResNet"), std::string::npos);

  c.models.architecture = "densenet";
  auto right = LoadModels(c);
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_EQ((*right)->model_id().rfind("densenet:", 0), 0u);
}

// models.recognizer = "auto": the ResNet in either form, else the DenseNet.
TEST(ModelLoadingTest, AutoPicksTheResnet) {
  auto files = ResolveModelFiles(testing::TestConfig());
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  const std::string name = std::filesystem::path(files->recognizer).filename().string();
  EXPECT_TRUE(name == "dlib_face_recognition_resnet_model_v1.dat" ||
              name == "face_recognition_model-weights_manifest.json")
      << files->recognizer;
  auto models = testing::RealModels();  // what every other test runs on
  ASSERT_TRUE(models);
  EXPECT_EQ(models->model_id().rfind("resnet", 0), 0u) << models->model_id();

  // A models folder holding only the DenseNet and face-api's pair, then only the DenseNet.
  testing::TempDir dir;
  for (const char* f :
       {"face_recognition_densenet_model_v1.dat", "face_recognition_model-weights_manifest.json",
        "face_recognition_model.bin"})
    std::filesystem::create_symlink(testing::ModelsDir() + "/" + f, dir / f);
  Config c = testing::TestConfig();
  c.paths.models_dir = dir.path();
  auto faceapi = ResolveModelFiles(c);
  ASSERT_TRUE(faceapi.ok()) << faceapi.status().ToString();
  EXPECT_EQ(faceapi->recognizer, dir / "face_recognition_model-weights_manifest.json");
  std::filesystem::remove(dir / "face_recognition_model-weights_manifest.json");
  auto densenet = ResolveModelFiles(c);
  ASSERT_TRUE(densenet.ok()) << densenet.status().ToString();
  EXPECT_EQ(densenet->recognizer, dir / "face_recognition_densenet_model_v1.dat");
}

TEST(ModelLoadingTest, FaceApiWeightsAreNoDensenet) {
  Config c = testing::TestConfig();
  c.models.recognizer = testing::ModelsDir() + "/face_recognition_model-weights_manifest.json";
  c.models.architecture = "densenet";
  auto wrong = LoadModels(c);
  EXPECT_EQ(wrong.status().code(), Code::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("models.architecture"), std::string::npos);
}

// The default tolerance is for a probe against a person's mean embedding (3
// photos enrolled, as `eval --enroll 3` measured it). LFW people with 4+
// photos: each one's 4th photo against their own mean of the first three is a
// same-person pair, against the next three people's means a different-person
// pair. Nearly all land on the right side.
TEST(ModelLoadingTest, DefaultToleranceSeparatesLfwPairs) {
  // eval measured 95.1% correct accepts (with the margin) and no different-person
  // distance within 0.45; the bounds leave room for a few hard photos.
  constexpr double kMinSameAccepted = 0.88, kMaxDifferentAccepted = 0.01;
  constexpr size_t kPeople = 50, kEnrolled = 3;
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  const double tolerance = models->defaults().tolerance;
  auto pipeline = models->NewPipeline();
  std::vector<std::string> folders;
  for (const auto& entry : std::filesystem::directory_iterator(Face("lfw")))
    if (entry.is_directory()) folders.push_back(entry.path().string());
  std::sort(folders.begin(), folders.end());
  struct Person {
    Embedding mean{}, probe{};
  };
  std::vector<Person> people;
  for (const auto& folder : folders) {
    auto photos = testing::FilesIn(folder);
    if (photos.size() < kEnrolled + 1) continue;
    Person person;
    size_t found = 0;
    for (size_t i = 0; i <= kEnrolled; ++i) {
      auto img = ReadImageFile(photos[i], {});
      ASSERT_TRUE(img.ok()) << photos[i];
      auto faces = pipeline->Analyze(*img);
      ASSERT_TRUE(faces.ok()) << photos[i];
      // The labelled person is the central, largest face: listed first.
      if (faces->empty() || !(*faces)[0].has_embedding) break;
      const Embedding& e = (*faces)[0].embedding;
      ++found;
      if (i == kEnrolled) {
        person.probe = e;
      } else {
        for (int k = 0; k < kEmbeddingDim; ++k) person.mean[k] += e[k] / kEnrolled;
      }
    }
    if (found == kEnrolled + 1) people.push_back(person);
    if (people.size() == kPeople) break;
  }
  ASSERT_GE(people.size(), kPeople - 5);
  int same = 0, same_accepted = 0, different = 0, different_accepted = 0;
  for (size_t p = 0; p < people.size(); ++p) {
    ++same;
    same_accepted += Distance(people[p].probe, people[p].mean) <= tolerance;
    for (size_t q = p + 1; q <= p + 3 && q < people.size(); ++q) {
      ++different;
      different_accepted += Distance(people[p].probe, people[q].mean) <= tolerance;
    }
  }
  EXPECT_GE(double(same_accepted) / same, kMinSameAccepted)
      << same_accepted << " of " << same << " same-person pairs within " << tolerance;
  EXPECT_LE(double(different_accepted) / different, kMaxDifferentAccepted)
      << different_accepted << " of " << different << " different-person pairs within "
      << tolerance;
}

TEST(ModelLoadingTest, MmodDetectorFindsFaces) {
  Config c = testing::TestConfig();
  c.models.detector = "mmod";
  auto models = LoadModels(c);
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  auto faces = (*models)->NewPipeline()->Analyze(Load("lfw/Abdullah_Gul/Abdullah_Gul_0001.jpg"));
  ASSERT_TRUE(faces.ok()) << faces.status().ToString();
  EXPECT_GE(faces->size(), 1u);
}

}  // namespace
}  // namespace faceatt
