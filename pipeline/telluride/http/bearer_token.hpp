// bearer_token.hpp — checks `Authorization: Bearer <token>` without leaking the token's length
// or contents through timing.
//
// Used for `POST /api/config`. An empty configured token refuses every request, so a daemon
// without `http_token` cannot be reconfigured over HTTP.
#pragma once

#include "telluride/http/request.hpp"

#include <string_view>

namespace telluride::http {

/// True when `given` equals `expected`. Takes time that depends only on `given`'s length: not
/// on `expected`'s length, nor on where the two differ (CONTRACT §5: token comparison takes the
/// same time whatever the token).
bool constant_time_equals(std::string_view given, std::string_view expected) noexcept;

/// True when `req` carries `Authorization: Bearer <token>` (scheme case-insensitive) and
/// `token` is not empty.
bool has_bearer_token(const request& req, std::string_view token);

} // namespace telluride::http
