#include "faceatt/webhook.h"

#include <gtest/gtest.h>

namespace faceatt {
namespace {

TEST(WebhookSignatureTest, MatchesIndependentHmac) {
  EXPECT_EQ(WebhookSignature("key", "The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
}

}  // namespace
}  // namespace faceatt
