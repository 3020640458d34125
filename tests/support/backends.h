// A fixture for tests that run on both store backends: the parameter is
// "sqlite" (a file in a temporary folder) or "postgresql" (a fresh database of
// the shared throw-away cluster, support/postgres.h). Instantiate with
// FACEATT_BOTH_BACKENDS(Suite).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "faceatt/store.h"
#include "support/postgres.h"
#include "support/testing.h"

namespace faceatt::testing {

class BothBackendsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql") {
      PostgresCluster* pg = PostgresCluster::Shared();
      ASSERT_NE(pg, nullptr);
      url_ = pg->NewDatabase();
      ASSERT_NE(url_, "");
    } else {
      url_ = "sqlite:" + dir_ / "db";
    }
  }
  // The test's database (the same one each call), opened anew: another
  // handle, as another node or process would hold.
  std::unique_ptr<Store> Open(const Clock* clock = nullptr) {
    StoreOptions o;
    o.clock = clock;
    auto s = OpenStore(url_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  TempDir dir_;
  std::string url_;
};

}  // namespace faceatt::testing

#define FACEATT_BOTH_BACKENDS(Suite)                                                   \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgresql"), \
                           [](const auto& info) { return info.param; })
