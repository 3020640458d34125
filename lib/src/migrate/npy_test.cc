#include "migrate/npy.h"

#include <gtest/gtest.h>

#include <cmath>

namespace faceatt::migrate {
namespace {

std::vector<double> Ramp(int n) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = (i - n / 2) * 0.015625;  // exact in float32
  return v;
}

TEST(NpyTest, ReadsEveryVersionDtypeAndShapeItWrites) {
  for (int version : {1, 2, 3})
    for (const char* descr : {"<f4", "<f8", ">f4", ">f8"}) {
      SCOPED_TRACE(std::string(descr) + " v" + std::to_string(version));
      auto one = ParseNpy(EncodeNpy(Ramp(128), 1, 128, descr, version, true), "one.npy");
      ASSERT_TRUE(one.ok()) << one.status().ToString();
      EXPECT_EQ(one->rows, 1);
      EXPECT_EQ(one->cols, 128);
      EXPECT_EQ(one->values, Ramp(128));
      EXPECT_EQ(one->dtype, descr[2] == '4' ? "float32" : "float64");
      auto many = ParseNpy(EncodeNpy(Ramp(3 * 128), 3, 128, descr, version), "many.npy");
      ASSERT_TRUE(many.ok()) << many.status().ToString();
      EXPECT_EQ(many->rows, 3);
      EXPECT_EQ(many->row(2)[5], Ramp(3 * 128)[2 * 128 + 5]);
    }
}

TEST(NpyTest, ReadsFortranOrder) {
  // A 2x3 matrix stored column after column.
  std::string bytes = EncodeNpy({1, 4, 2, 5, 3, 6}, 2, 3, "<f8", 1);
  bytes.replace(bytes.find("False"), 5, "True ");
  auto a = ParseNpy(bytes, "f.npy");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(NpyTest, RefusesWhatItCannotReadNamingTheFile) {
  const std::string good = EncodeNpy(Ramp(256), 2, 128, "<f4", 1);
  struct Case {
    std::string bytes, expect;
  };
  std::string int64 = good;
  int64.replace(int64.find("<f4"), 3, "<i8");
  std::string three_d = EncodeNpy(Ramp(8), 2, 4, "<f8", 1);
  three_d.replace(three_d.find("(2, 4)"), 6, "(2,2,2)");
  std::string v9 = good;
  v9[6] = 9;
  std::string nan = EncodeNpy({0.0, std::nan("")}, 1, 2, "<f8", 1);
  const Case cases[] = {
      {good.substr(0, good.size() - 3), "truncated"},
      {good.substr(0, 30), "truncated header"},
      {good + "xxxx", "longer than its shape"},
      {"PK\x03\x04 a zip file", "no NumPy magic"},
      {int64, "dtype <i8"},
      {three_d, "3 dimensions"},
      {v9, "format version 9"},
      {nan, "not finite"},
  };
  for (const Case& c : cases) {
    auto a = ParseNpy(c.bytes, "enc/EMP001_1700000000.npy");
    ASSERT_FALSE(a.ok()) << c.expect;
    EXPECT_EQ(a.status().code(), Code::kBadInput);
    EXPECT_NE(a.status().message().find("enc/EMP001_1700000000.npy"), std::string::npos);
    EXPECT_NE(a.status().message().find(c.expect), std::string::npos) << a.status().message();
  }
}

}  // namespace
}  // namespace faceatt::migrate
