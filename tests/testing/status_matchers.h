// IsOk() and StatusIs(code) matchers for Status and Result<T>.
#pragma once

#include <gmock/gmock.h>

#include "common/result.h"
#include "common/status.h"

namespace eds::testing {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const Result<T>& r) {
  return r.status();
}

MATCHER(IsOk, "is OK") {
  const Status& s = ::eds::testing::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s.ToString();
  return s.ok();
}

MATCHER_P(StatusIs, code, "has status code " + std::string(::eds::StatusCodeName(code))) {
  const Status& s = ::eds::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

}  // namespace eds::testing

#define EDS_ASSERT_OK(expr) ASSERT_THAT((expr), ::eds::testing::IsOk())
#define EDS_EXPECT_OK(expr) EXPECT_THAT((expr), ::eds::testing::IsOk())
