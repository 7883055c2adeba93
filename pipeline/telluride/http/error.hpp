// error.hpp — what went wrong, as one line a user can act on.
//
// The HTTP server reports failures at its boundary (`start()`) as values, never by throwing:
// `cannot listen on 127.0.0.1:9464: address already in use`. It is Causeway's error type
// (header-only), so the daemon passes the message on unchanged.
#pragma once

#include <causeway/expected.hpp>

namespace telluride::http {

using causeway::error;

} // namespace telluride::http
