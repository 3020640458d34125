#include "http/auth.h"

#include <gtest/gtest.h>

namespace faceatt::http {
namespace {

bool In(const std::string& cidr, const std::string& address) {
  auto net = ParseNetwork(cidr);
  EXPECT_TRUE(net.ok()) << cidr;
  return net.ok() && InNetwork(*net, address);
}

TEST(NetworkTest, Ipv4PrefixesOnAndOffByteBoundaries) {
  EXPECT_TRUE(In("10.0.0.0/8", "10.200.3.4"));
  EXPECT_FALSE(In("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(In("192.168.1.0/24", "192.168.1.77"));
  EXPECT_FALSE(In("192.168.1.0/24", "192.168.2.77"));
  EXPECT_TRUE(In("172.16.0.0/12", "172.31.255.1"));
  EXPECT_FALSE(In("172.16.0.0/12", "172.32.0.1"));
  EXPECT_TRUE(In("192.168.1.7", "192.168.1.7"));  // no prefix: one host
  EXPECT_FALSE(In("192.168.1.7", "192.168.1.8"));
  EXPECT_TRUE(In("0.0.0.0/0", "8.8.8.8"));
}

TEST(NetworkTest, Ipv6AndMappedIpv4) {
  EXPECT_TRUE(In("fd00::/8", "fd12:3456::1"));
  EXPECT_FALSE(In("fd00::/8", "fe80::1"));
  // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d.
  EXPECT_TRUE(In("10.0.0.0/8", "::ffff:10.1.2.3"));
  EXPECT_FALSE(In("fd00::/8", "10.1.2.3"));
  EXPECT_FALSE(In("10.0.0.0/8", "not an address"));
}

TEST(NetworkTest, MalformedNetworksAreRefusedWithTheirText) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "10.0.0.0/", "10.0.0.0/x", "fd00::/129",
                          "kiosk.lan", "", "10.0.0.0/-1"}) {
    auto net = ParseNetwork(bad);
    ASSERT_FALSE(net.ok()) << bad;
    EXPECT_EQ(net.status().code(), Code::kInvalidArgument);
    EXPECT_NE(net.status().message().find(std::string("'") + bad + "'"), std::string::npos);
  }
}

}  // namespace
}  // namespace faceatt::http
