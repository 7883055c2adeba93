#include "telluride/http/request.hpp"

#include <causeway/percent_encoding.hpp>

#include <utility>

namespace telluride::http {

namespace {

char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i]))
      return false;
  return true;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  auto decoded = causeway::percent_decode(text, plus_is_space);
  if (!decoded)
    return std::nullopt;
  return std::move(*decoded);
}

std::optional<std::string_view> request::header(std::string_view name) const {
  for (const auto& field : headers)
    if (iequals(field.name, name))
      return std::string_view{field.value};
  return std::nullopt;
}

std::optional<std::string> request::query_value(std::string_view name) const {
  std::string_view rest{query};
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    if (!key || *key != name)
      continue;
    if (eq == std::string_view::npos)
      return std::string{};
    return percent_decode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

} // namespace telluride::http
