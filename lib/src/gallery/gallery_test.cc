#include "faceatt/gallery.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

namespace faceatt {
namespace {

Embedding At(float x, float y = 0) {
  Embedding e{};
  e[0] = x;
  e[1] = y;
  return e;
}

TEST(GalleryTest, EmptyGalleryIsUnknown) {
  Gallery g;
  Match m = g.Search(At(0), {});
  EXPECT_FALSE(m.matched);
  EXPECT_EQ(m.reason, "unknown");
  EXPECT_EQ(m.distance, -1);
}

TEST(GalleryTest, MeanAndMinModes) {
  Gallery g;
  g.Add("A", At(0.0f));
  g.Add("A", At(1.0f));  // mean of A at 0.5
  g.Add("B", At(0.9f, 0.3f));
  MatchPolicy p;
  p.tolerance = 0.6;
  p.mode = MatchMode::kMin;
  Match min = g.Search(At(0.95f), p);
  EXPECT_EQ(min.employee_id, "A");  // nearest single embedding (1.0) is A's
  EXPECT_NEAR(min.distance, 0.05, 1e-5);
  p.mode = MatchMode::kMean;
  Match mean = g.Search(At(0.95f), p);
  EXPECT_EQ(mean.employee_id, "B");  // B's mean (0.9,0.3) beats A's mean (0.5,0)
  EXPECT_EQ(g.people(), 2u);
  EXPECT_EQ(g.embeddings(), 3u);
}

TEST(GalleryTest, ToleranceAndMargin) {
  Gallery g;
  g.Add("A", At(0.0f));
  g.Add("B", At(1.0f));
  MatchPolicy p;
  p.tolerance = 0.45;
  p.margin = 0.0;
  EXPECT_TRUE(g.Search(At(0.4f), p).matched);
  EXPECT_FALSE(g.Search(At(0.5f), p).matched);  // 0.5 > tolerance
  p.tolerance = 0.6;
  p.margin = 0.3;
  Match close = g.Search(At(0.4f), p);  // A at 0.4, B at 0.6: only 0.2 apart
  EXPECT_FALSE(close.matched);
  EXPECT_EQ(close.reason, "ambiguous");
  EXPECT_EQ(close.employee_id, "A");
  Match clear = g.Search(At(0.1f), p);  // 0.1 vs 0.9
  EXPECT_TRUE(clear.matched);
  EXPECT_NEAR(clear.second_distance, 0.9, 1e-5);
}

TEST(GalleryTest, TopKCandidatesSorted) {
  Gallery g;
  for (int i = 0; i < 10; ++i) g.Add("P" + std::to_string(i), At(0.1f * i));
  MatchPolicy p;
  p.top_k = 4;
  Match m = g.Search(At(0.32f), p);
  ASSERT_EQ(m.candidates.size(), 4u);
  EXPECT_EQ(m.candidates[0].employee_id, "P3");
  for (size_t i = 1; i < m.candidates.size(); ++i)
    EXPECT_LE(m.candidates[i - 1].distance, m.candidates[i].distance);
}

TEST(GalleryTest, RemoveKeepsOthersIntact) {
  Gallery g;
  g.Add("A", At(0.0f));
  g.Add("B", At(1.0f));
  g.Add("A", At(0.2f));
  g.Add("C", At(2.0f));
  EXPECT_EQ(g.Remove("A"), 2u);
  EXPECT_EQ(g.Remove("A"), 0u);
  EXPECT_FALSE(g.Contains("A"));
  EXPECT_EQ(g.embeddings(), 2u);
  MatchPolicy p;
  p.tolerance = 0.5;
  EXPECT_EQ(g.Search(At(1.9f), p).employee_id, "C");
  EXPECT_EQ(g.Search(At(1.1f), p).employee_id, "B");
  auto mean = g.MeanOf("C");
  ASSERT_TRUE(mean);
  EXPECT_FLOAT_EQ((*mean)[0], 2.0f);
}

// The search agrees with a brute-force computation on random vectors.
TEST(GalleryTest, ExactAgainstBruteForce) {
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0, 0.1f);
  Gallery g;
  std::vector<std::pair<std::string, Embedding>> all;
  for (int i = 0; i < 500; ++i) {
    Embedding e;
    for (float& v : e) v = n(rng);
    const std::string id = "P" + std::to_string(i % 97);
    g.Add(id, e);
    all.push_back({id, e});
  }
  for (int q = 0; q < 20; ++q) {
    Embedding probe;
    for (float& v : probe) v = n(rng);
    MatchPolicy p;
    p.mode = MatchMode::kMin;
    Match m = g.Search(probe, p);
    float best = 1e9;
    std::string who;
    for (const auto& [id, e] : all)
      if (Distance(probe, e) < best) best = Distance(probe, e), who = id;
    EXPECT_EQ(m.employee_id, who);
    EXPECT_NEAR(m.distance, best, 1e-4);
  }
}

// Mean matching over more people than one block of the kernel, with several
// photos each: best person, distances and top-k order agree with brute force.
TEST(GalleryTest, MeanSearchExactAgainstBruteForce) {
  std::mt19937 rng(11);
  std::normal_distribution<float> n(0, 0.1f);
  Gallery g;
  std::map<std::string, std::vector<Embedding>> by_person;
  for (int i = 0; i < 2000; ++i) {
    Embedding e;
    for (float& v : e) v = n(rng);
    const std::string id = "P" + std::to_string(i % 701);
    g.Add(id, e);
    by_person[id].push_back(e);
  }
  ASSERT_EQ(g.people(), 701u);
  std::vector<std::pair<float, std::string>> means_dist;
  for (int q = 0; q < 20; ++q) {
    Embedding probe;
    for (float& v : probe) v = n(rng) * 0.6f;
    means_dist.clear();
    for (const auto& [id, list] : by_person) {
      Embedding mean{};
      for (const auto& e : list)
        for (int d = 0; d < kEmbeddingDim; ++d) mean[d] += e[d];
      for (float& v : mean) v /= list.size();
      means_dist.push_back({Distance(probe, mean), id});
    }
    std::sort(means_dist.begin(), means_dist.end());
    MatchPolicy p;
    p.top_k = 5;
    p.tolerance = 2;
    Match m = g.Search(probe, p);
    ASSERT_EQ(m.candidates.size(), 5u);
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_NEAR(m.candidates[i].distance, means_dist[i].first, 1e-5);
      // Names agree unless two people are equally far (to float precision).
      if (std::abs(means_dist[i].first - means_dist[i + 1].first) > 1e-5 &&
          (i == 0 || std::abs(means_dist[i].first - means_dist[i - 1].first) > 1e-5)) {
        EXPECT_EQ(m.candidates[i].employee_id, means_dist[i].second);
      }
    }
    EXPECT_EQ(m.employee_id, m.candidates[0].employee_id);
    EXPECT_NEAR(m.second_distance, means_dist[1].first, 1e-5);
    // DistancesToPeople gives the same numbers for everyone.
    auto all = g.DistancesToPeople(probe, MatchMode::kMean);
    ASSERT_EQ(all.size(), 701u);
    std::map<std::string, float> expected;
    for (const auto& [d, id] : means_dist) expected[id] = d;
    for (const auto& c : all) EXPECT_NEAR(c.distance, expected[c.employee_id], 1e-5);
  }
}

// Means stay right through adds and removes, and const searches may run
// concurrently (nothing is computed lazily inside them).
TEST(GalleryTest, MeansFollowAddRemoveAndConcurrentSearchesAgree) {
  Gallery g;
  g.Add("A", At(0.0f));
  g.Add("B", At(3.0f));
  g.Add("A", At(1.0f));
  EXPECT_FLOAT_EQ((*g.MeanOf("A"))[0], 0.5f);
  g.Remove("B");
  g.Add("A", At(2.0f));
  EXPECT_FLOAT_EQ((*g.MeanOf("A"))[0], 1.0f);
  g.Add("C", At(5.0f, 1.0f));
  EXPECT_FLOAT_EQ((*g.MeanOf("C"))[1], 1.0f);
  EXPECT_FALSE(g.MeanOf("B"));

  for (int i = 0; i < 300; ++i) g.Add("Q" + std::to_string(i), At(10.0f + i));
  MatchPolicy p;
  p.tolerance = 0.5;
  const Match expected = g.Search(At(150.2f), p);
  std::vector<std::thread> threads;
  std::atomic<int> agree{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        Match m = g.Search(At(150.2f), p);
        agree += m.employee_id == expected.employee_id && m.distance == expected.distance;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(agree.load(), 800);
  EXPECT_EQ(expected.employee_id, "Q140");
  EXPECT_TRUE(expected.matched);
}

}  // namespace
}  // namespace faceatt
