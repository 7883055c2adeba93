#include "telluride/domain/host_port.hpp"

#include <charconv>

namespace telluride {

namespace {

bool is_host_name(std::string_view host) noexcept {
  if (host.empty() || host.size() > 253)
    return false;
  for (char c : host) {
    const bool is_allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!is_allowed)
      return false;
  }
  return true;
}

bool is_ipv6(std::string_view host) noexcept {
  if (host.size() < 2)
    return false;
  for (char c : host) {
    const bool is_allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                            (c >= 'A' && c <= 'F') || c == ':' || c == '.';
    if (!is_allowed)
      return false;
  }
  return host.find(':') != std::string_view::npos;
}

} // namespace

expected<host_port> parse_host_port(std::string_view text) {
  const auto invalid = [&] {
    return error{"expected HOST:PORT (e.g. 127.0.0.1:9464), got \"" + std::string(text) + "\""};
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return invalid();
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']'))
      return invalid();
    host = host.substr(1, host.size() - 2);
    if (!is_ipv6(host))
      return invalid();
  } else if (!is_host_name(host)) {
    return invalid();
  }
  unsigned port = 0;
  const char* last = port_text.data() + port_text.size();
  const auto [end, status] = std::from_chars(port_text.data(), last, port);
  if (port_text.empty() || status != std::errc{} || end != last || port > 65535)
    return invalid();
  return host_port{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string to_string(const host_port& address) {
  const bool is_v6 = address.host.find(':') != std::string::npos;
  std::string out = is_v6 ? "[" + address.host + "]" : address.host;
  return out + ":" + std::to_string(address.port);
}

} // namespace telluride
