// error.hpp — what went wrong, as one line a user can act on.
//
// The HTTP server reports failures at its boundary (`start()`) as values, never by throwing:
// `cannot listen on 127.0.0.1:9464: address already in use`. The shape matches
// `causeway::error`, so the daemon can pass the message on unchanged.
#pragma once

#include <string>

namespace telluride::http {

/// One line naming the step and the reason.
struct error {
  std::string message;
};

} // namespace telluride::http
