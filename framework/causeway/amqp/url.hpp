// url.hpp — where an AMQP connection goes: `amqp://user:pass@host:port/vhost`.
//
// Parsing follows the RabbitMQ URI spec: user, password and vhost are percent-decoded
// (`%2f` is the vhost "/"), an absent vhost path means "/", an empty one ("amqp://h/") means
// the vhost "" (RabbitMQ has none, so the broker refuses it). Defaults: guest:guest, port 5672.
// Only `amqp://` is supported (no TLS). `masked()` is what logs and errors may show.
#pragma once

#include "causeway/expected.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace causeway::amqp {

struct url {
  std::string user{"guest"};
  std::string password{"guest"};
  std::string host{"localhost"};
  std::uint16_t port = 5672;
  std::string vhost{"/"};

  /// The URL with the password replaced by `****`, vhost re-encoded: safe to log.
  std::string masked() const;
  /// `host:port`, as errors about reachability name it: an IPv6 host in brackets, bytes other
  /// than letters, digits, `-._~` and `:` percent-encoded.
  std::string endpoint() const;
};

/// Parses `text`; the error names what is wrong, never the password.
expected<url> parse_url(std::string_view text);

} // namespace causeway::amqp
