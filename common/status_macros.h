// Early-return helpers and the crash policy for impossible states.
//   EDS_RETURN_IF_ERROR(expr)        returns the Status of expr when it is not OK.
//   EDS_ASSIGN_OR_RETURN(lhs, expr)  unwraps a Result<T> into lhs, or returns its Status.
//   EDS_CHECK(cond, why)             aborts when an invariant that start-up established is broken;
//                                    never use it for input from the network, files or config.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "common/result.h"
#include "common/status.h"

#define EDS_STATUS_CONCAT_INNER(a, b) a##b
#define EDS_STATUS_CONCAT(a, b) EDS_STATUS_CONCAT_INNER(a, b)

#define EDS_RETURN_IF_ERROR(expr)                      \
  do {                                                 \
    ::eds::Status eds_status_tmp_ = (expr);            \
    if (!eds_status_tmp_.ok()) return eds_status_tmp_; \
  } while (0)

#define EDS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return std::move(tmp).status();  \
  lhs = std::move(tmp).value()

#define EDS_ASSIGN_OR_RETURN(lhs, expr) \
  EDS_ASSIGN_OR_RETURN_IMPL(EDS_STATUS_CONCAT(eds_result_tmp_, __LINE__), lhs, expr)

#define EDS_CHECK(cond, why)                                                                  \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, #cond, why); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)
