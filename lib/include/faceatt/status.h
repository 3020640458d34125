// Status and Result<T>: the one error type of the faceatt library.
//
// No function in the library throws across its boundary, prints or exits: every
// failure comes back as a Status with a code and a one-line message meant for a
// person ("image.jpg: not an image (unrecognised format)"), and optionally a
// machine-readable reason ("no_face") for callers that must tell apart failures
// with the same code. The CLI turns codes into exit codes (cmd/context.cpp); the
// HTTP layer turns them into statuses and JSON bodies (lib/src/http/errors.cc).
//
// Thread safety: values; safe to copy between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace faceatt {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // a caller's value is wrong (flag, config key, id format, malformed request)
  kBadInput,           // input data is unusable (corrupt image, no usable face)
  kNotFound,           // a named thing does not exist (user, file)
  kAlreadyExists,      // unique thing exists already (employee id)
  kConflict,           // refused by a rule (face belongs to someone else, cooldown)
  kUnavailable,        // a resource is missing or busy (model file, camera, queue full)
  kResourceExhausted,  // a size limit was exceeded
  kIoError,            // the file system or database failed
  kCorruption,         // stored data is damaged
  kInternal,           // a bug or an unexpected library failure
  kUnauthenticated,    // no credentials, or unknown ones (HTTP API keys)
  kPermissionDenied,   // credentials that may not do this (an API key's role, an origin)
};

// Stable lower-case name of a code ("bad_input"), used in JSON error bodies:
// ok, invalid_argument, bad_input, not_found, already_exists, conflict,
// unavailable, too_large (kResourceExhausted), io_error, corruption,
// internal_error, unauthorized (kUnauthenticated), forbidden (kPermissionDenied).
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message, std::string reason = {})
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status BadInput(std::string m) { return {Code::kBadInput, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The machine-readable reason ("no_face", "camera_unavailable"), or "" when the
  // code says all there is. Reasons are lower_snake_case and stable: clients match them.
  const std::string& reason() const { return reason_; }
  // "bad_input: <message>", or "ok". The reason is not part of it.
  std::string ToString() const;
  // The same status (code and reason) with "<prefix>: " in front of the message;
  // an OK status stays OK.
  Status WithPrefix(const std::string& prefix) const;
  // The same status with this reason; an OK status stays OK (and reasonless).
  Status WithReason(std::string reason) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string reason_;
};

// Either a value or a non-OK Status. A Result built from an OK Status holds
// kInternal ("Result built from an OK status") instead: it is a bug of the caller.
//
// value() (and *, ->) on a Result that holds an error is a bug: it throws
// std::bad_variant_access, which no caller catches. Check ok() first, or use
// FACEATT_ASSIGN_OR_RETURN.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace faceatt

namespace faceatt::internal {
inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
const Status& AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace faceatt::internal

#define FACEATT_CONCAT_INNER(a, b) a##b
#define FACEATT_CONCAT(a, b) FACEATT_CONCAT_INNER(a, b)

// Returns the Status of a failed Status or Result expression.
#define FACEATT_RETURN_IF_ERROR(expr)                                         \
  do {                                                                        \
    auto&& _faceatt_st = (expr);                                              \
    if (!_faceatt_st.ok()) return ::faceatt::internal::AsStatus(_faceatt_st); \
  } while (0)

// `FACEATT_ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value or returns its Status.
#define FACEATT_ASSIGN_OR_RETURN(lhs, expr) \
  FACEATT_ASSIGN_OR_RETURN_IMPL(FACEATT_CONCAT(_faceatt_r_, __LINE__), lhs, expr)
#define FACEATT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
