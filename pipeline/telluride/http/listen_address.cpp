#include "telluride/http/listen_address.hpp"

#include <uv.h>

#include <charconv>

namespace telluride::http {

std::variant<listen_address, error> parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return error{"expected HOST:PORT"};
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);

  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return error{"port must be in 0..65535"};

  listen_address out;
  out.port = static_cast<std::uint16_t>(port);
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed)
    host = host.substr(1, host.size() - 2);
  out.host = std::string{host};
  int rc = UV_EINVAL;
  if (bracketed) {
    rc = uv_ip6_addr(out.host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&out.addr));
  } else if (host.find(':') != std::string_view::npos) {
    return error{"an IPv6 host needs brackets, as in [::1]:9464"};
  } else {
    auto ip = host == "localhost" ? std::string{"127.0.0.1"} : out.host;
    rc = uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&out.addr));
  }
  if (rc != 0)
    return error{"host must be a numeric IP address or localhost"};
  return out;
}

} // namespace telluride::http
