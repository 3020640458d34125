#include "faceatt/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <variant>

namespace faceatt {
namespace {

TEST(StatusTest, OkByDefaultWithNoMessageOrReason) {
  Status st;
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.code(), Code::kOk);
  EXPECT_EQ(st.ToString(), "ok");
  EXPECT_EQ(st.reason(), "");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, ToStringIsCodeNameAndMessage) {
  EXPECT_EQ(Status::BadInput("x.jpg: not an image").ToString(), "bad_input: x.jpg: not an image");
  EXPECT_EQ(Status::ResourceExhausted("big").ToString(), "too_large: big");
  EXPECT_EQ(Status::Internal("bug").ToString(), "internal_error: bug");
  EXPECT_EQ(Status::Unauthenticated("no key").ToString(), "unauthorized: no key");
  EXPECT_EQ(Status::PermissionDenied("role").ToString(), "forbidden: role");
  // The reason is for programs; the line for people does not change.
  EXPECT_EQ(Status::BadInput("no face").WithReason("no_face").ToString(), "bad_input: no face");
}

TEST(StatusTest, EveryCodeHasItsOwnName) {
  const Code codes[] = {Code::kOk,
                        Code::kInvalidArgument,
                        Code::kBadInput,
                        Code::kNotFound,
                        Code::kAlreadyExists,
                        Code::kConflict,
                        Code::kUnavailable,
                        Code::kResourceExhausted,
                        Code::kIoError,
                        Code::kCorruption,
                        Code::kInternal,
                        Code::kUnauthenticated,
                        Code::kPermissionDenied};
  std::set<std::string> names;
  for (Code c : codes) names.insert(CodeName(c));
  EXPECT_EQ(names.size(), std::size(codes));
}

TEST(StatusTest, ReasonIsKeptThroughPrefixAndCopies) {
  const Status st = Status::Conflict("a.jpg: enrolled as EMP001").WithReason("duplicate_face");
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(st.reason(), "duplicate_face");
  const Status prefixed = st.WithPrefix("enroll");
  EXPECT_EQ(prefixed.message(), "enroll: a.jpg: enrolled as EMP001");
  EXPECT_EQ(prefixed.reason(), "duplicate_face");
  EXPECT_EQ(prefixed.code(), Code::kConflict);
  const Status copy = prefixed;
  EXPECT_EQ(copy.reason(), "duplicate_face");
  // The constructor takes it too.
  EXPECT_EQ(Status(Code::kBadInput, "m", "no_face").reason(), "no_face");
}

TEST(StatusTest, OkStaysOkUnderPrefixAndReason) {
  EXPECT_TRUE(Status::Ok().WithPrefix("x").ok());
  EXPECT_EQ(Status::Ok().WithPrefix("x").ToString(), "ok");
  const Status st = Status::Ok().WithReason("no_face");
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.reason(), "");
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> v = 7;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 7);
  EXPECT_TRUE(v.status().ok());
  Result<int> e = Status::NotFound("no person").WithReason("gone");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kNotFound);
  EXPECT_EQ(e.status().reason(), "gone");
  // value() on an error is a caller's bug; it throws rather than returning garbage.
  EXPECT_THROW(e.value(), std::bad_variant_access);
}

TEST(ResultTest, BuiltFromOkStatusIsAnInternalError) {
  Result<std::string> r = Status::Ok();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

TEST(ResultTest, MovesMoveOnlyValuesOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 3);
}

Result<int> Half(int n) {
  if (n % 2) return Status::InvalidArgument(std::to_string(n) + " is odd").WithReason("odd");
  return n / 2;
}

Result<int> Quarter(int n) {
  FACEATT_ASSIGN_OR_RETURN(int half, Half(n));
  FACEATT_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

Status CheckEven(int n) {
  FACEATT_RETURN_IF_ERROR(Half(n));
  return Status::Ok();
}

TEST(ResultTest, MacrosReturnTheFirstErrorWithItsReason) {
  EXPECT_EQ(*Quarter(12), 3);
  auto odd = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message(), "3 is odd");
  EXPECT_EQ(odd.status().reason(), "odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).reason(), "odd");
}

}  // namespace
}  // namespace faceatt
