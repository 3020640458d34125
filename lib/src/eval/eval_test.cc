#include "faceatt/eval.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "support/testing.h"

namespace faceatt {
namespace {
namespace fs = std::filesystem;

ProbeScore Genuine(const std::string& person, const std::string& best, float d1, float d2,
                   float own, bool accepted) {
  ProbeScore p;
  p.person = person;
  p.enrolled = true;
  p.best = best;
  p.best_distance = d1;
  p.second_distance = d2;
  p.own_distance = own;
  p.accepted = accepted;
  p.accepted_as = accepted ? best : "";
  return p;
}

ProbeScore Impostor(float d1, float d2, bool accepted) {
  ProbeScore p;
  p.person = "stranger";
  p.best = "someone";
  p.best_distance = d1;
  p.second_distance = d2;
  p.accepted = accepted;
  p.accepted_as = accepted ? "someone" : "";
  return p;
}

TEST(EvalSummarizeTest, RatesCountEachKindOfOutcome) {
  std::vector<ProbeScore> probes = {
      Genuine("A", "A", 0.30f, 0.80f, 0.30f, true),   // correct accept
      Genuine("B", "B", 0.70f, 0.90f, 0.70f, false),  // right person, too far: rejected
      Genuine("C", "D", 0.40f, 0.45f, 0.45f, true),   // wrong person accepted
      Genuine("E", "F", 0.90f, 0.95f, 1.00f, false),  // wrong and rejected
      Impostor(0.45f, 0.90f, true),
      Impostor(0.80f, 0.85f, false),
  };
  MatchPolicy policy;
  policy.tolerance = 0.5;
  EvalReport r = Summarize(probes, policy);
  EXPECT_EQ(r.genuine_probes, 4u);
  EXPECT_EQ(r.impostor_probes, 2u);
  EXPECT_DOUBLE_EQ(r.rank1, 0.5);
  EXPECT_DOUBLE_EQ(r.correct_accept_rate, 0.25);
  EXPECT_DOUBLE_EQ(r.wrong_accept_rate, 0.25);
  EXPECT_DOUBLE_EQ(r.impostor_accept_rate, 0.5);
  EXPECT_EQ(r.genuine_distances.size(), 4u);
  EXPECT_EQ(r.impostor_distances.size(), 2u);
}

// 200 impostors spread over [0.5, 0.7): 1% lets exactly two through; the
// tolerance sits between the second and third nearest.
TEST(EvalSummarizeTest, OperatingPointsHitTheImpostorRate) {
  std::vector<ProbeScore> probes;
  for (int i = 0; i < 200; ++i) probes.push_back(Impostor(0.5f + 0.001f * i, 1.2f, false));
  for (int i = 0; i < 100; ++i)
    probes.push_back(Genuine("A", "A", 0.3f + 0.003f * i, 1.2f, 0.3f + 0.003f * i, false));
  MatchPolicy policy;
  policy.tolerance = 0.4;
  EvalReport r = Summarize(probes, policy, {0.001, 0.01, 0.05});
  ASSERT_EQ(r.points.size(), 3u);
  EXPECT_TRUE(r.points[0].bounded_by_samples);  // 0.1% of 200 is less than one impostor
  EXPECT_DOUBLE_EQ(r.points[0].far, 0.0);
  EXPECT_DOUBLE_EQ(r.points[1].far, 0.01);
  EXPECT_GT(r.points[1].tolerance, 0.501);
  EXPECT_LT(r.points[1].tolerance, 0.502);
  EXPECT_DOUBLE_EQ(r.points[2].far, 0.05);
  // More impostors allowed: a looser tolerance and at least as many correct accepts.
  EXPECT_LE(r.points[0].tolerance, r.points[1].tolerance);
  EXPECT_LE(r.points[1].tolerance, r.points[2].tolerance);
  EXPECT_LE(r.points[0].car, r.points[1].car);
  EXPECT_LE(r.points[1].car, r.points[2].car);
  // The correct accepts are exactly the genuine probes within that tolerance.
  size_t expected = 0;
  for (int i = 0; i < 100; ++i) expected += 0.3 + 0.003 * i <= r.points[2].tolerance;
  EXPECT_DOUBLE_EQ(r.points[2].car, expected / 100.0);
}

TEST(EvalSummarizeTest, MarginKeepsAmbiguousImpostorsOut) {
  std::vector<ProbeScore> probes = {Impostor(0.30f, 0.31f, false), Impostor(0.40f, 0.90f, false)};
  MatchPolicy policy;
  policy.margin = 0.05;
  EvalReport r = Summarize(probes, policy, {0.5});
  ASSERT_EQ(r.points.size(), 1u);
  // Only the unambiguous impostor can ever pass; one of two may: it does.
  EXPECT_GE(r.points[0].tolerance, 0.40);
  EXPECT_DOUBLE_EQ(r.points[0].far, 0.5);
}

// People as tight clusters around random directions: calibration puts the
// tolerance between the clusters' spread and the distances between them.
std::vector<StoredEmbedding> Clusters(int people, int photos, float spread, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<StoredEmbedding> out;
  for (int p = 0; p < people; ++p) {
    Embedding centre;
    for (float& x : centre) x = normal(rng) * 0.06f;
    for (int i = 0; i < photos; ++i) {
      StoredEmbedding e;
      e.employee_id = "P" + std::to_string(p);
      for (int d = 0; d < kEmbeddingDim; ++d) e.vector[d] = centre[d] + normal(rng) * spread;
      out.push_back(e);
    }
  }
  return out;
}

TEST(CalibrateTest, ToleranceSeparatesGenuineFromImpostor) {
  auto rows = Clusters(60, 4, 0.02f, 3);
  auto c = Calibrate(rows, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->people, 60u);
  EXPECT_EQ(c->embeddings, 240u);
  EXPECT_EQ(c->genuine_pairs, 240u);
  EXPECT_EQ(c->impostor_pairs, 240u * 59);
  EXPECT_LT(c->genuine_median, c->impostor_median);
  EXPECT_GT(c->tolerance, c->genuine_p95);
  EXPECT_LE(c->tolerance, c->impostor_p1);
  EXPECT_GT(c->genuine_accept, 0.9);
  EXPECT_LE(c->observed_far, 0.01 + 1e-9);
  EXPECT_NEAR(c->per_comparison_far, 1 - std::pow(0.99, 1.0 / 60), 1e-12);
}

// A gallery of 8,000 people: 3,000 probes x 7,999 others is 24 million
// impostor pairs, more than are kept; the tail and the counts stay exact.
TEST(CalibrateTest, LargeGalleryKeepsTheTailWithoutEveryPair) {
  auto rows = Clusters(8000, 2, 0.02f, 11);
  auto c = Calibrate(rows, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->people, 8000u);
  EXPECT_EQ(c->impostor_pairs, 3000u * 7999);
  EXPECT_LT(c->genuine_median, c->impostor_median);
  EXPECT_GT(c->tolerance, c->genuine_p95);
  EXPECT_LE(c->tolerance, c->impostor_median);
  EXPECT_FALSE(c->extrapolated);  // 1% of 3,000 probes: about 30 pairs in the measured tail
  EXPECT_LE(c->observed_far, 0.01 + 0.01);
}

TEST(CalibrateTest, LooserTargetNeverLowersTheTolerance) {
  auto rows = Clusters(40, 3, 0.05f, 5);
  CalibrationOptions strict, loose;
  strict.target_far = 0.001;
  loose.target_far = 0.1;
  auto a = Calibrate(rows, strict), b = Calibrate(rows, loose);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_LE(a->tolerance, b->tolerance);
  EXPECT_LE(a->observed_far, b->observed_far);
}

TEST(CalibrateTest, RefusesWhatItCannotEstimate) {
  EXPECT_EQ(Calibrate(Clusters(1, 5, 0.02f, 1), {}).status().code(), Code::kBadInput);
  EXPECT_EQ(Calibrate(Clusters(5, 1, 0.02f, 1), {}).status().code(),
            Code::kBadInput);  // nobody has 2 photos
  CalibrationOptions bad;
  bad.target_far = 0;
  EXPECT_EQ(Calibrate(Clusters(5, 3, 0.02f, 1), bad).status().code(), Code::kInvalidArgument);
}

// A small tree of real LFW people (symlinks): four with 6+ photos, one with three.
std::string SmallTree(const testing::TempDir& tmp) {
  const std::string lfw = testing::Face("lfw");
  const std::string root = tmp / "people";
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(lfw)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  int many = 0, few = 0;
  for (const auto& name : names) {
    const auto files = testing::FilesIn(lfw + "/" + name);
    if (files.size() >= 6 && many < 4) {
      ++many;
    } else if (files.size() == 3 && few < 1) {
      ++few;
    } else {
      continue;
    }
    fs::create_directories(root + "/" + name);
    for (const auto& f : files)
      fs::create_symlink(f, root + "/" + name + "/" + fs::path(f).filename().string());
  }
  return root;
}

TEST(EvaluateTest, RealPhotosInATemporaryStore) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  testing::TempDir tmp;
  const std::string root = SmallTree(tmp);
  Config config = testing::TestConfig();
  config.paths.data_dir = tmp / "data";
  EvalOptions options;
  options.jobs = 2;
  size_t last_done = 0;
  options.progress = [&](size_t done, size_t) { last_done = done; };
  auto r = Evaluate(root, config, models, options);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  size_t photos = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    photos += e.is_symlink() || e.is_regular_file();
  EXPECT_EQ(last_done, photos);
  EXPECT_EQ(r->people_enrolled, 4u);
  EXPECT_EQ(r->impostor_people, 1u);
  EXPECT_EQ(r->enrolled_photos, 3 * r->people_enrolled);
  EXPECT_EQ(r->enrolled_photos + r->genuine_probes + r->impostor_probes + r->unusable_photos,
            photos);
  EXPECT_EQ(r->probes.size(), r->genuine_probes + r->impostor_probes);
  // Every accept is the service's decision at the reported tolerance and margin.
  for (const auto& p : r->probes) {
    if (!p.accepted) continue;
    EXPECT_LE(p.best_distance, r->tolerance + 1e-6) << p.image;
    EXPECT_EQ(p.accepted_as, p.best) << p.image;
  }
  // Four people of LFW in a gallery of four are told apart well above chance.
  EXPECT_GT(r->rank1, 0.5);
  EXPECT_FALSE(fs::exists(tmp / "data")) << "eval must not create a data folder or database";
  auto png = PlotDistancesPng(*r);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->substr(1, 3), "PNG");
}

TEST(EvaluateTest, NobodyToEnrollIsBadInput) {
  auto models = testing::RealModels();
  ASSERT_TRUE(models);
  testing::TempDir tmp;
  fs::create_directories(tmp / "people/one");
  for (const auto& f : testing::FilesIn(testing::Face("lfw/Al_Gore")))
    fs::create_symlink(f, tmp / ("people/one/" + fs::path(f).filename().string()));
  EvalOptions options;
  options.enroll_per_person = 20;
  auto r = Evaluate(tmp / "people", testing::TestConfig(), models, options);
  EXPECT_EQ(r.status().code(), Code::kBadInput);
  EXPECT_EQ(Evaluate(tmp / "missing", testing::TestConfig(), models, {}).status().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace faceatt
