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

TEST(RequestBodyTest, Utf8CheckRefusesEveryIllFormedSequence) {
  for (const char* good : {"", "kiosk-1", "Jos\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80",
                           "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"})
    EXPECT_TRUE(IsUtf8(good)) << good;
  for (const char* bad : {"\xff\xfe", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                          "\xF4\x90\x80\x80", "\xC3", "\xE2\x82", "\x80", "a\xF0\x9F\x98"})
    EXPECT_FALSE(IsUtf8(bad)) << bad;
  httplib::Request req;
  req.path = "/users/EMP001";
  EXPECT_TRUE(CheckUtf8(req).ok());
  req.files.emplace("image", httplib::MultipartFormData{"image", "\xff\xd8\xff", "a.jpg", ""});
  EXPECT_TRUE(CheckUtf8(req).ok());  // the image is bytes, not text
  req.files.emplace("device_id", httplib::MultipartFormData{"device_id", "\xff\xfe", "", ""});
  EXPECT_EQ(CheckUtf8(req).message(), "form field 'device_id' is not valid UTF-8 text");
  httplib::Request path;
  path.path = "/users/\xff\xfe";
  EXPECT_EQ(CheckUtf8(path).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace faceatt::http
