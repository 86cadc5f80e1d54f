#include "common/status.h"

namespace eds {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kCancelled:
      return "CANCELLED";
    case StatusCode::kUnknown:
      return "UNKNOWN";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kAlreadyExists:
      return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case StatusCode::kAborted:
      return "ABORTED";
    case StatusCode::kOutOfRange:
      return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented:
      return "UNIMPLEMENTED";
    case StatusCode::kInternal:
      return "INTERNAL";
    case StatusCode::kUnavailable:
      return "UNAVAILABLE";
    case StatusCode::kDataLoss:
      return "DATA_LOSS";
    case StatusCode::kUnauthenticated:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

#define EDS_DEFINE_ERROR(Name, Code) \
  Status Name(std::string message) { return Status(StatusCode::Code, std::move(message)); }
EDS_DEFINE_ERROR(CancelledError, kCancelled)
EDS_DEFINE_ERROR(UnknownError, kUnknown)
EDS_DEFINE_ERROR(InvalidArgumentError, kInvalidArgument)
EDS_DEFINE_ERROR(DeadlineExceededError, kDeadlineExceeded)
EDS_DEFINE_ERROR(NotFoundError, kNotFound)
EDS_DEFINE_ERROR(AlreadyExistsError, kAlreadyExists)
EDS_DEFINE_ERROR(PermissionDeniedError, kPermissionDenied)
EDS_DEFINE_ERROR(ResourceExhaustedError, kResourceExhausted)
EDS_DEFINE_ERROR(FailedPreconditionError, kFailedPrecondition)
EDS_DEFINE_ERROR(AbortedError, kAborted)
EDS_DEFINE_ERROR(OutOfRangeError, kOutOfRange)
EDS_DEFINE_ERROR(UnimplementedError, kUnimplemented)
EDS_DEFINE_ERROR(InternalError, kInternal)
EDS_DEFINE_ERROR(UnavailableError, kUnavailable)
EDS_DEFINE_ERROR(DataLossError, kDataLoss)
EDS_DEFINE_ERROR(UnauthenticatedError, kUnauthenticated)
#undef EDS_DEFINE_ERROR

}  // namespace eds
