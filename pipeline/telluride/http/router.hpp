// router.hpp — a route table: method + path pattern → handler.
//
// Patterns are absolute paths whose segments are literals or `{name}` placeholders:
// `/api/sensors/{line}/{device}/{sensor}`. A placeholder matches one non-empty segment and its
// value is percent-decoded; a segment with a bad escape or that decodes to invalid UTF-8 answers
// 400, so handlers may echo parameters. An unknown path answers 404; a known path with another
// method answers 405 with an `Allow` header. HEAD is served by the GET route (the server drops
// the body). Each route says where its handler runs (request_handler.hpp): routes that wait on
// anything (an actor, a lock held long) are `handler_thread::worker`. Build the table before the
// server starts; afterwards it is only read, from any thread.
#pragma once

#include "telluride/http/request.hpp"
#include "telluride/http/request_handler.hpp"
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

  /// Adds a route whose handler runs on `thread`. `method` is upper-case ("GET"); `pattern`
  /// starts with '/'. A later route with the same method and pattern shadows nothing: the first
  /// added wins.
  router& add(std::string method, std::string_view pattern, route_handler handler,
              handler_thread thread = handler_thread::loop);

  /// Answers `req` from the table: the handler's response, 400, 404 or 405. Exceptions from the
  /// handler propagate (the server turns them into 500).
  response handle(const request& req) const;
  response operator()(const request& req) const { return handle(req); }

  /// Where `handle(req)` must run: the matching route's thread; the loop for 400, 404 and 405.
  handler_thread where(const request& req) const;

private:
  struct route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" marks a placeholder
    route_handler handler;
    handler_thread thread = handler_thread::loop;
  };

  enum class match_result { no, yes, bad_segment };
  struct lookup;

  static match_result match(const route& r, const std::vector<std::string_view>& path, route_params* out);
  lookup find(const request& req) const;

  std::vector<route> routes_;
};

} // namespace telluride::http
