#include "faceatt/status.h"

namespace faceatt {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kBadInput:
      return "bad_input";
    case Code::kNotFound:
      return "not_found";
    case Code::kAlreadyExists:
      return "already_exists";
    case Code::kConflict:
      return "conflict";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kResourceExhausted:
      return "too_large";
    case Code::kIoError:
      return "io_error";
    case Code::kCorruption:
      return "corruption";
    case Code::kInternal:
      return "internal_error";
    case Code::kUnauthenticated:
      return "unauthorized";
    case Code::kPermissionDenied:
      return "forbidden";
  }
  return "internal_error";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status Status::WithPrefix(const std::string& prefix) const {
  if (ok()) return *this;
  return Status(code_, prefix + ": " + message_, reason_);
}

Status Status::WithReason(std::string reason) const {
  if (ok()) return *this;
  return Status(code_, message_, std::move(reason));
}

}  // namespace faceatt
