// router.hpp — a route table: method + path pattern → handler.
//
// Patterns are absolute paths whose segments are literals or `{name}` placeholders:
// `/api/sensors/{line}/{device}/{sensor}`. A placeholder matches one non-empty segment and its
// value is percent-decoded. An unknown path answers 404; a known path with another method
// answers 405 with an `Allow` header. HEAD is served by the GET route (the server drops the
// body). Build the table before the server starts; afterwards it is only read.
#pragma once

#include "telluride/http/request.hpp"
#include "telluride/http/response.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace telluride::http {

/// The `{name}` values of the matched pattern.
class route_params {
public:
  /// The value for `name`, or nullopt when the pattern has no such placeholder.
  std::optional<std::string_view> get(std::string_view name) const;
  /// The value for `name`; empty when absent.
  std::string_view operator[](std::string_view name) const { return get(name).value_or(""); }
  std::size_t size() const noexcept { return values_.size(); }
  void add(std::string name, std::string value);

private:
  std::vector<std::pair<std::string, std::string>> values_;
};

class router {
public:
  using route_handler = std::function<response(const request&, const route_params&)>;

  /// Adds a route. `method` is upper-case ("GET"); `pattern` starts with '/'. A later route
  /// with the same method and pattern shadows nothing: the first added wins.
  router& add(std::string method, std::string_view pattern, route_handler handler);

  /// Answers `req` from the table: the handler's response, 404 or 405. Exceptions from the
  /// handler propagate (the server turns them into 500).
  response handle(const request& req) const;
  response operator()(const request& req) const { return handle(req); }

private:
  struct route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" marks a placeholder
    route_handler handler;
  };

  static bool match(const route& r, const std::vector<std::string_view>& path, route_params* out);

  std::vector<route> routes_;
};

} // namespace telluride::http
