#include "telluride/http/router.hpp"

#include <causeway/utf8.hpp>

#include <algorithm>

namespace telluride::http {

namespace {

// "/a/b/" → {"a", "b", ""}; "/" → {""}. Keeping the empty tail makes "/a/" differ from "/a".
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos)
      return out;
    path.remove_prefix(slash + 1);
  }
}

bool is_placeholder(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

} // namespace

std::optional<std::string_view> route_params::get(std::string_view name) const {
  for (const auto& [key, value] : values_)
    if (key == name)
      return std::string_view{value};
  return std::nullopt;
}

void route_params::add(std::string name, std::string value) {
  values_.emplace_back(std::move(name), std::move(value));
}

/// The outcome of matching a request against the table.
struct router::lookup {
  const route* matched = nullptr;
  route_params params;
  bool has_bad_segment = false;      // a route of the method fit but a parameter was bad
  std::vector<std::string> allowed;  // methods of the routes whose path fits
};

router& router::add(std::string method, std::string_view pattern, route_handler handler, handler_thread thread) {
  route r{std::move(method), {}, std::move(handler), thread};
  for (auto segment : split_path(pattern))
    r.segments.emplace_back(segment);
  routes_.push_back(std::move(r));
  return *this;
}

router::match_result router::match(const route& r, const std::vector<std::string_view>& path, route_params* out) {
  if (r.segments.size() != path.size())
    return match_result::no;
  for (std::size_t i = 0; i < path.size(); ++i)
    if (is_placeholder(r.segments[i]) ? path[i].empty() : r.segments[i] != path[i])
      return match_result::no;
  if (!out)
    return match_result::yes;
  route_params params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto& segment = r.segments[i];
    if (!is_placeholder(segment))
      continue;
    auto value = percent_decode(path[i]);
    if (!value || !causeway::is_valid_utf8(*value))
      return match_result::bad_segment;
    params.add(segment.substr(1, segment.size() - 2), std::move(*value));
  }
  *out = std::move(params);
  return match_result::yes;
}

router::lookup router::find(const request& req) const {
  auto path = split_path(req.path);
  std::string_view method = req.method == "HEAD" ? "GET" : std::string_view{req.method};
  lookup found;
  for (const auto& r : routes_) {
    bool same_method = r.method == method;
    auto result = match(r, path, same_method ? &found.params : nullptr);
    if (result == match_result::bad_segment)
      found.has_bad_segment = true;
    if (result != match_result::yes)
      continue;
    if (same_method) {
      found.matched = &r;
      return found;
    }
    auto note = [&](const std::string& m) {
      if (std::find(found.allowed.begin(), found.allowed.end(), m) == found.allowed.end())
        found.allowed.push_back(m);
    };
    note(r.method);
    if (r.method == "GET")
      note("HEAD");
  }
  return found;
}

response router::handle(const request& req) const {
  auto found = find(req);
  if (found.matched)
    return found.matched->handler(req, found.params);
  if (found.has_bad_segment)
    return response::text(400, "bad path: a segment has a bad percent escape or is not UTF-8\n");
  if (found.allowed.empty())
    return response::text(404, "not found\n");
  std::string allow;
  for (const auto& m : found.allowed)
    allow.append(allow.empty() ? "" : ", ").append(m);
  auto res = response::text(405, "method not allowed\n");
  res.headers.push_back({"Allow", std::move(allow)});
  return res;
}

handler_thread router::where(const request& req) const {
  auto found = find(req);
  return found.matched ? found.matched->thread : handler_thread::loop;
}

} // namespace telluride::http
