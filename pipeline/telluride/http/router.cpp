#include "telluride/http/router.hpp"

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

router& router::add(std::string method, std::string_view pattern, route_handler handler) {
  route r{std::move(method), {}, std::move(handler)};
  for (auto segment : split_path(pattern))
    r.segments.emplace_back(segment);
  routes_.push_back(std::move(r));
  return *this;
}

bool router::match(const route& r, const std::vector<std::string_view>& path, route_params* out) {
  if (r.segments.size() != path.size())
    return false;
  route_params params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto& segment = r.segments[i];
    if (!is_placeholder(segment)) {
      if (segment != path[i])
        return false;
      continue;
    }
    auto value = percent_decode(path[i]);
    if (path[i].empty() || !value)
      return false;
    params.add(segment.substr(1, segment.size() - 2), std::move(*value));
  }
  if (out)
    *out = std::move(params);
  return true;
}

response router::handle(const request& req) const {
  auto path = split_path(req.path);
  std::string_view method = req.method == "HEAD" ? "GET" : std::string_view{req.method};
  std::vector<std::string> allowed;
  for (const auto& r : routes_) {
    route_params params;
    if (!match(r, path, r.method == method ? &params : nullptr))
      continue;
    if (r.method == method)
      return r.handler(req, params);
    auto note = [&](const std::string& m) {
      if (std::find(allowed.begin(), allowed.end(), m) == allowed.end())
        allowed.push_back(m);
    };
    note(r.method);
    if (r.method == "GET")
      note("HEAD");
  }
  if (allowed.empty())
    return response::text(404, "not found\n");
  std::string allow;
  for (const auto& m : allowed)
    allow.append(allow.empty() ? "" : ", ").append(m);
  auto res = response::text(405, "method not allowed\n");
  res.headers.push_back({"Allow", std::move(allow)});
  return res;
}

} // namespace telluride::http
