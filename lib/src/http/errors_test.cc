#include "http/errors.h"

#include <gtest/gtest.h>

namespace faceatt::http {
namespace {

httplib::Request At(const std::string& path) {
  httplib::Request req;
  req.path = path;
  return req;
}

TEST(ErrorsTest, OneStatusPerCode) {
  EXPECT_EQ(HttpStatusFor(Code::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(Code::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(Code::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(Code::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(Code::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(Code::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(Code::kResourceExhausted), 413);
  EXPECT_EQ(HttpStatusFor(Code::kBadInput), 422);
  EXPECT_EQ(HttpStatusFor(Code::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(Code::kIoError), 500);
  EXPECT_EQ(HttpStatusFor(Code::kUnavailable), 503);
}

TEST(ErrorsTest, SendErrorWritesTheOneShape) {
  httplib::Response res;
  SendError(At("/users/X"), res, Status::NotFound("no person with employee id X"));
  EXPECT_EQ(res.status, 404);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body,
            (nlohmann::json{
                {"error", {{"code", "not_found"}, {"message", "no person with employee id X"}}}}));
}

TEST(ErrorsTest, ReasonGoesIntoTheErrorObject) {
  const auto body =
      ErrorBody(At("/users"), Status::Unavailable("no camera").WithReason("camera_unavailable"));
  EXPECT_EQ(body["error"]["code"], "unavailable");
  EXPECT_EQ(body["error"]["reason"], "camera_unavailable");
  EXPECT_FALSE(body.contains("success"));
}

TEST(ErrorsTest, OldClientsEndpointsKeepSuccessReasonAndMessage) {
  for (const char* path : {"/identify", "/enroll", "/enroll/json", "/attendance"}) {
    httplib::Response res;
    SendError(At(path), res, Status::ResourceExhausted("too big"), {{"min_distance", nullptr}});
    EXPECT_EQ(res.status, 413) << path;
    const auto body = nlohmann::json::parse(res.body);
    EXPECT_EQ(body["success"], false) << path;
    EXPECT_EQ(body["reason"], "too_large") << path;  // no Status reason: the code
    EXPECT_EQ(body["message"], "too big") << path;
    EXPECT_EQ(body["error"]["code"], "too_large") << path;
    EXPECT_TRUE(body["min_distance"].is_null()) << path;
  }
  const auto with_reason =
      ErrorBody(At("/enroll"), Status::BadInput("no usable face").WithReason("no_face"));
  EXPECT_EQ(with_reason["reason"], "no_face");
  EXPECT_EQ(with_reason["error"]["reason"], "no_face");
}

}  // namespace
}  // namespace faceatt::http
