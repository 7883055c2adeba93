// password_mask.hpp — how a broker URL's password is hidden wherever a URL is logged or shown.
//
// Header-only so that code which never links the AMQP module (Telluride's config checks) masks
// URLs the same way as `url::masked()`: the password becomes `***`.
#pragma once

#include <string>
#include <string_view>

namespace causeway::amqp {

/// What stands for a password in every URL that is logged or shown.
inline constexpr std::string_view password_mask = "***";

/// `amqp://guest:***@host:5672/%2f`: the password of a URL that may not parse replaced by
/// `password_mask`, for logs and errors. A URL without a password comes back unchanged.
inline std::string mask_password(std::string_view url) {
  // Hide from the first ':' after the scheme to the last '@': the widest reading of what the
  // user may have meant as the password. A password holding an unescaped '/' or '@'
  // ("amqp://u:top/secret@h", "amqp://u:top@/secret@h") ends the authority early to RFC 3986,
  // but it is still a secret. That may hide more than the password (a port, a vhost holding
  // "@"), never less.
  const std::size_t scheme_end = url.find("://");
  const std::size_t authority = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const std::size_t last_at = url.rfind('@');
  const std::size_t colon = url.find(':', authority);
  if (last_at == std::string_view::npos || last_at < authority || colon == std::string_view::npos ||
      colon > last_at)
    return std::string(url);
  std::string out{url.substr(0, colon + 1)};
  out += password_mask;
  out += url.substr(last_at);
  return out;
}

} // namespace causeway::amqp
