#include "http/request_body.h"

#include <gtest/gtest.h>

namespace faceatt::http {
namespace {

TEST(RequestBodyTest, DecodesBase64InEitherAlphabetWithOrWithoutPadding) {
  EXPECT_EQ(*DecodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(*DecodeBase64("aGVsbG8"), "hello");
  EXPECT_EQ(*DecodeBase64("aGVs\nbG8=\r\n"), "hello");
  // 0xfb 0xff: '+' '/' in the standard alphabet, '-' '_' in the URL one.
  EXPECT_EQ(*DecodeBase64("+/8="), "\xfb\xff");
  EXPECT_EQ(*DecodeBase64("-_8"), "\xfb\xff");
  EXPECT_EQ(*DecodeBase64("data:image/jpeg;base64,aGVsbG8="), "hello");
}

TEST(RequestBodyTest, RefusesMalformedBase64) {
  for (const char* bad : {"!!!not base64!!!", "aGVsbG8=x", "a", "",
                          "====", "data:image/jpeg,aGVsbG8=", "data:image/jpeg;base64"}) {
    auto r = DecodeBase64(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(RequestBodyTest, JsonBodiesMustBeObjectsWithStringMembers) {
  EXPECT_EQ(ParseJsonObject("{\"name\": ").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseJsonObject("[1, 2]").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseJsonObject("").status().code(), Code::kInvalidArgument);
  auto body = ParseJsonObject(R"({"name": "Ada", "age": 36, "dept": null})");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*JsonString(*body, "name"), "Ada");
  EXPECT_EQ(*JsonString(*body, "dept"), "");
  EXPECT_EQ(*JsonString(*body, "missing"), "");
  auto age = JsonString(*body, "age");
  ASSERT_FALSE(age.ok());
  EXPECT_EQ(age.status().message(), "age must be a string");
}

TEST(RequestBodyTest, IntParamChecksRangeAndDigits) {
  httplib::Request req;
  EXPECT_EQ(*IntParam(req, "limit", 100, 1, 1000), 100);
  req.params.emplace("limit", "25");
  EXPECT_EQ(*IntParam(req, "limit", 100, 1, 1000), 25);
  for (const char* bad : {"0", "1001", "12abc", "", "-5", "99999999999"}) {
    httplib::Request r;
    r.params.emplace("limit", bad);
    auto v = IntParam(r, "limit", 100, 1, 1000);
    EXPECT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().message(), "limit must be an integer from 1 to 1000") << bad;
  }
}

}  // namespace
}  // namespace faceatt::http
