#include "http/sessions.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace faceatt::http {
namespace {

TEST(SessionStoreTest, SessionsExpireAndEnd) {
  ManualClock clock(1'000'000);
  SessionStore store(&clock, 60'000, 100);
  auto a = store.Create("key-a");
  ASSERT_TRUE(a.ok());
  const auto& [id, session] = *a;
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(session.csrf_token.size(), 64u);
  EXPECT_NE(id, session.csrf_token);
  EXPECT_EQ(session.expires_ms, 1'060'000);
  ASSERT_TRUE(store.Find(id));
  EXPECT_EQ(store.Find(id)->key, "key-a");
  EXPECT_FALSE(store.Find("nope"));
  clock.Advance(59'999);
  EXPECT_TRUE(store.Find(id));
  clock.Advance(1);
  EXPECT_FALSE(store.Find(id)) << "expired at expires_ms";
  EXPECT_EQ(store.size(), 0u) << "an expired session found is dropped";
  auto b = store.Create("key-b");
  ASSERT_TRUE(b.ok());
  store.Erase(b->first);
  EXPECT_FALSE(store.Find(b->first));
  store.Erase(b->first);  // twice is fine
}

TEST(SessionStoreTest, MemoryIsBoundedOldestEvictedFirst) {
  ManualClock clock(0);
  SessionStore store(&clock, 60'000, 3);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto s = store.Create("k" + std::to_string(i));
    ASSERT_TRUE(s.ok());
    ids.push_back(s->first);
    clock.Advance(1);
  }
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.Find(ids[0]));
  EXPECT_FALSE(store.Find(ids[1]));
  for (int i = 2; i < 5; ++i) EXPECT_TRUE(store.Find(ids[i])) << i;
  // Expired sessions go before live ones when room is needed.
  clock.Advance(60'000);
  auto fresh = store.Create("f");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(store.size(), 1u);
}

TEST(SessionStoreTest, IdsAreUniqueAcrossThreads) {
  ManualClock clock(0);
  SessionStore store(&clock, 60'000, 100'000);
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> made(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto s = store.Create("k");
        if (s.ok()) made[t].push_back(s->first);
        store.Find(s->first);
      }
    });
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : made) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 2000u);
  EXPECT_EQ(store.size(), 2000u);
}

TEST(CookieValueTest, FindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("faceatt_session=abc", "faceatt_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; faceatt_session=abc; b=2", "faceatt_session"), "abc");
  EXPECT_EQ(CookieValue("xfaceatt_session=abc", "faceatt_session"), "");
  EXPECT_EQ(CookieValue("faceatt_session_old=abc", "faceatt_session"), "");
  EXPECT_EQ(CookieValue("", "faceatt_session"), "");
  EXPECT_EQ(CookieValue("faceatt_session", "faceatt_session"), "");
  EXPECT_EQ(CookieValue(";;faceatt_session=", "faceatt_session"), "");
}

}  // namespace
}  // namespace faceatt::http
