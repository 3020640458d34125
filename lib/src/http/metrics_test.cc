#include "http/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace faceatt::http {
namespace {

TEST(MetricsTest, CountersAddUpPerLabelSet) {
  Metrics m;
  const std::string id = "route=\"/identify\",method=\"POST\"";
  EXPECT_EQ(m.CounterValue("faceatt_requests_total", id), 0);
  m.Count("faceatt_requests_total", id);
  m.Count("faceatt_requests_total", id, 2.5);
  m.Count("faceatt_requests_total", "route=\"/health\",method=\"GET\"");
  EXPECT_EQ(m.CounterValue("faceatt_requests_total", id), 3.5);
  EXPECT_EQ(m.CounterValue("faceatt_requests_total", "route=\"/health\",method=\"GET\""), 1);
  EXPECT_EQ(m.CounterValue("faceatt_other_total", id), 0);
}

TEST(MetricsTest, RendersPrometheusTextFormat) {
  Metrics m;
  m.Count("faceatt_events_total", "", 3);
  m.Count("faceatt_requests_total", "route=\"/identify\"");
  // Binary fractions, so the sum prints exactly.
  m.Observe("faceatt_request_seconds", "route=\"/identify\"", 0.015625);
  m.Observe("faceatt_request_seconds", "route=\"/identify\"", 0.25);  // on a bound: counted in it
  m.Observe("faceatt_request_seconds", "route=\"/identify\"", 64);    // beyond every bucket
  const std::string text = m.Render("faceatt_people 7\n");
  auto has = [&](const std::string& line) {
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n---\n" << text;
  };
  has("# TYPE faceatt_events_total counter");
  has("faceatt_events_total 3");
  has("faceatt_requests_total{route=\"/identify\"} 1");
  has("# TYPE faceatt_request_seconds histogram");
  // Buckets are cumulative: each counts the observations at or below its bound.
  has("faceatt_request_seconds_bucket{route=\"/identify\",le=\"0.005\"} 0");
  has("faceatt_request_seconds_bucket{route=\"/identify\",le=\"0.01\"} 0");
  has("faceatt_request_seconds_bucket{route=\"/identify\",le=\"0.025\"} 1");
  has("faceatt_request_seconds_bucket{route=\"/identify\",le=\"0.1\"} 1");
  has("faceatt_request_seconds_bucket{route=\"/identify\",le=\"0.25\"} 2");
  has("faceatt_request_seconds_bucket{route=\"/identify\",le=\"10\"} 2");
  has("faceatt_request_seconds_bucket{route=\"/identify\",le=\"+Inf\"} 3");
  has("faceatt_request_seconds_sum{route=\"/identify\"} 64.265625");
  has("faceatt_request_seconds_count{route=\"/identify\"} 3");
  // The extra lines come last, as given.
  EXPECT_EQ(text.substr(text.size() - 17), "faceatt_people 7\n");
  EXPECT_EQ(Metrics().Render(""), "");
}

TEST(MetricsTest, EscapesLabelValues) {
  EXPECT_EQ(Metrics::Escape("plain"), "plain");
  EXPECT_EQ(Metrics::Escape("a\"b"), "a\\\"b");
  EXPECT_EQ(Metrics::Escape("a\\b"), "a\\\\b");
  EXPECT_EQ(Metrics::Escape("two\nlines"), "two\\nlines");
}

TEST(MetricsTest, CountsFromManyThreadsAreNotLost) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        m.Count("c", "");
        m.Observe("h", "", 0.001);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(m.CounterValue("c", ""), 4000);
  EXPECT_NE(m.Render("").find("h_count 4000\n"), std::string::npos);
}

}  // namespace
}  // namespace faceatt::http
