// url.hpp — where an AMQP connection goes: `amqp://user:pass@host:port/vhost`, or
// `amqps://...?cacertfile=...` for TLS.
//
// Parsing follows the RabbitMQ URI spec: user, password and vhost are percent-decoded
// (`%2f` is the vhost "/"), an absent vhost path means "/", an empty one ("amqp://h/") means
// the vhost "" (RabbitMQ has none, so the broker refuses it). Defaults: guest:guest, port 5672
// (5671 for amqps). TLS settings come from the query with RabbitMQ's own parameter names:
// `cacertfile`, `certfile`, `keyfile`, `verify=verify_peer|verify_none` and
// `server_name_indication=NAME|disable`; they are refused on an `amqp://` URL, so a URL never
// looks secure when it is not. `heartbeat`, `connection_timeout` and `channel_max` (also in the
// spec) are accepted and ignored: connection options set those. Any other parameter is an
// error, so a misspelt TLS setting is never silently dropped. `masked()` is what logs and errors
// may show.
#pragma once

#include "causeway/expected.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::amqp {

/// How an `amqps://` connection sets up TLS. Files are PEM; they are read at each connect.
struct tls_options {
  std::string cacertfile;  ///< the CAs that may sign the broker's certificate; empty: the system's
  std::string certfile;    ///< our client certificate (chain); empty: none is offered
  std::string keyfile;     ///< its private key (unencrypted); empty with a certfile: inside certfile
  /// verify=verify_none turns off every check of the broker's certificate (chain and name).
  bool verify_peer = true;
  /// The name sent as SNI and that the broker's certificate must be for (a DNS name or an IP
  /// address): the URL's host unless server_name_indication names another one. Empty after
  /// server_name_indication=disable: no SNI is sent and no name is checked (the chain still is).
  std::string server_name;
};

struct url {
  std::string user{"guest"};
  std::string password{"guest"};
  std::string host{"localhost"};
  std::uint16_t port = 5672;
  std::string vhost{"/"};
  std::optional<tls_options> tls;  ///< set for amqps://

  bool is_tls() const noexcept { return tls.has_value(); }
  /// The URL with the password replaced by `password_mask` (`***`), vhost re-encoded, no
  /// query: safe to log.
  std::string masked() const;
  /// `host:port`, as errors about reachability name it: an IPv6 host in brackets, bytes other
  /// than letters, digits, `-._~` and `:` percent-encoded.
  std::string endpoint() const;
};

/// Parses `text`; the error names what is wrong, never the password.
expected<url> parse_url(std::string_view text);

} // namespace causeway::amqp
