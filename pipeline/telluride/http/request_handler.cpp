#include "telluride/http/request_handler.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace telluride::http {

response answer(const request_handler& handler, const request& req) {
  try {
    if (!handler)
      return response::text(404, "not found\n");
    return handler(req);
  } catch (const std::exception& e) {
    // Only method and path: the body and the headers may hold secrets.
    spdlog::error("http: handler for {} {} threw: {}", req.method, req.path, e.what());
  } catch (...) {
    spdlog::error("http: handler for {} {} threw a non-standard exception", req.method, req.path);
  }
  return response::text(500, "internal server error\n");
}

} // namespace telluride::http
