#include "causeway/amqp/url.hpp"

#include "causeway/amqp/password_mask.hpp"

#include "causeway/percent_encoding.hpp"
#include "causeway/utf8.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <vector>

namespace causeway::amqp {

namespace {

/// `text` with every byte but the unreserved ones (RFC 3986) and those of `also_plain` as %XX.
std::string percent_encode(std::string_view text, std::string_view also_plain = {}) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.' || c == '~' ||
                 also_plain.find(static_cast<char>(c)) != std::string_view::npos;
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

error bad_url(std::string_view why) {
  return error{"bad AMQP URL: " + std::string(why) +
               " (expected amqp://user:pass@host:port/vhost or amqps://...?cacertfile=FILE)"};
}

// An error about a part of the URL that may belong to a password (`may_hold_secret`: an '@'
// after the authority most likely ends a user or password holding an unescaped '/', '?' or
// '#', so what was split off as port, vhost or query may be part of it): `problem` and what to
// escape, quoting nothing; otherwise `quoting`, the problem with the offending text.
error bad_part(bool may_hold_secret, std::string_view problem, const std::string& quoting) {
  if (may_hold_secret)
    return bad_url(std::string(problem) + "; a '/', '?' or '#' in the user or password must "
                                          "be percent-encoded (%2F, %3F, %23)");
  return bad_url(quoting);
}

// A parameter name or value as an error may show it: quoted when it is a plain name (letters,
// digits, '_', '-', '.'; at most 64 bytes), else only its size. Anything else may be part of a
// password written where it does not belong ("amqp://h?//u:secret@h2").
std::string shown(std::string_view text) {
  const bool plain = !text.empty() && text.size() <= 64 &&
                     std::all_of(text.begin(), text.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
                     });
  std::string out;
  if (plain)
    out.append("\"").append(text).append("\"");
  else
    out.append("(not shown: ").append(std::to_string(text.size())).append(" bytes, not a plain name)");
  return out;
}

constexpr std::string_view tls_keys[] = {"cacertfile", "certfile", "keyfile", "verify",
                                         "server_name_indication"};
// In the RabbitMQ URI spec, set here through connection_options instead.
constexpr std::string_view ignored_keys[] = {"heartbeat", "connection_timeout", "channel_max"};

bool is_one_of(std::string_view key, const auto& keys) {
  for (std::string_view k : keys)
    if (k == key)
      return true;
  return false;
}

// Reads the query `a=1&b=2` into `out.tls` (present when the scheme is amqps). Known keys may be
// named in errors; names and values the user wrote are quoted only when no password may hold
// them (bad_part).
expected<void> read_query(std::string_view query, url& out, bool may_hold_secret) {
  std::vector<std::string> seen;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq));
    if (!key)
      return bad_part(may_hold_secret, "a query parameter name has a bad percent escape",
                      "query parameter name: " + ascii_escaped(key.err().message));
    if (is_one_of(*key, ignored_keys))
      continue;
    if (!is_one_of(*key, tls_keys))
      return bad_part(may_hold_secret, "unknown query parameter",
                      "unknown query parameter " + shown(*key) +
                          "; known: cacertfile, certfile, keyfile, verify, server_name_indication");
    if (!out.tls)
      return bad_url(*key + " needs an amqps:// URL (TLS)");
    if (std::find(seen.begin(), seen.end(), *key) != seen.end())
      return bad_url("query parameter " + *key + " is given twice");
    seen.push_back(*key);
    if (eq == std::string_view::npos)
      return bad_url("query parameter " + *key + " has no value");
    auto value = percent_decode(pair.substr(eq + 1));
    if (!value)
      return bad_part(may_hold_secret, *key + ": bad percent escape",
                      *key + ": " + ascii_escaped(value.err().message));
    if (value->empty())
      return bad_url("query parameter " + *key + " is empty");
    // Values end up in one-line errors (file names) and in OpenSSL calls (C strings).
    if (std::any_of(value->begin(), value->end(), [](char c) { return c >= 0 && c < 0x20; }))
      return bad_url("query parameter " + *key + " holds a control character");
    tls_options& tls = *out.tls;
    if (*key == "cacertfile") {
      tls.cacertfile = std::move(*value);
    } else if (*key == "certfile") {
      tls.certfile = std::move(*value);
    } else if (*key == "keyfile") {
      tls.keyfile = std::move(*value);
    } else if (*key == "verify") {
      if (*value != "verify_peer" && *value != "verify_none")
        return bad_part(may_hold_secret, "verify must be verify_peer or verify_none",
                        "verify must be verify_peer or verify_none, got " + shown(*value));
      tls.verify_peer = *value == "verify_peer";
    } else if (*key == "server_name_indication") {
      tls.server_name = *value == "disable" ? std::string{} : std::move(*value);
    }
  }
  if (out.tls && !out.tls->keyfile.empty() && out.tls->certfile.empty())
    return bad_url("keyfile needs a certfile (the client certificate it belongs to)");
  return {};
}

} // namespace

expected<url> parse_url(std::string_view text) {
  url result;
  std::string_view rest;
  if (text.starts_with("amqps://")) {
    result.tls.emplace();
    result.port = 5671;
    rest = text.substr(8);
  } else if (text.starts_with("amqp://")) {
    rest = text.substr(7);
  } else {
    return bad_url("it must start with amqp:// or amqps://");
  }
  std::string_view query;
  if (auto hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }

  std::string_view authority = rest;
  std::optional<std::string_view> path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  // An '@' after the authority: see bad_part.
  const std::size_t scheme_size = result.tls ? 8 : 7;  // "amqps://" or "amqp://"
  const bool may_hold_secret = text.find('@', scheme_size + authority.size()) != std::string_view::npos;

  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    std::string_view user = userinfo;
    std::optional<std::string_view> password;
    if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      password = userinfo.substr(colon + 1);
    }
    auto decoded_user = percent_decode(user);
    if (!decoded_user)
      return bad_url("user: " + ascii_escaped(decoded_user.err().message));
    result.user = std::move(*decoded_user);
    if (password) {
      auto decoded_password = percent_decode(*password);
      if (!decoded_password)
        return bad_url("password has a bad percent escape");
      result.password = std::move(*decoded_password);
    } else {
      result.password.clear();
    }
  }

  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return bad_url("unterminated [IPv6] host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return bad_url("unexpected text after ]");
      port = after.substr(1);
      if (port.empty())
        return bad_url("empty port");
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty())
      return bad_url("empty port");
  }
  if (!host.empty()) {
    auto decoded_host = percent_decode(host);
    if (!decoded_host)
      return bad_part(may_hold_secret, "host: bad percent escape",
                      "host: " + ascii_escaped(decoded_host.err().message));
    result.host = std::move(*decoded_host);
  }
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return bad_part(may_hold_secret, "port must be a number in 1..65535",
                      "port must be a number in 1..65535, got \"" + ascii_escaped(port) + "\"");
    result.port = static_cast<std::uint16_t>(value);
  }
  if (path) {
    if (path->find('/') != std::string_view::npos)
      return bad_url("the vhost must be one path segment (write / as %2f)");
    auto decoded_vhost = percent_decode(*path);
    if (!decoded_vhost)
      return bad_part(may_hold_secret, "vhost: bad percent escape",
                      "vhost: " + ascii_escaped(decoded_vhost.err().message));
    result.vhost = std::move(*decoded_vhost);
  }
  if (result.tls)
    result.tls->server_name = result.host;
  if (auto read = read_query(query, result, may_hold_secret); !read)
    return read.err();
  return result;
}

std::string url::masked() const {
  std::string out{is_tls() ? "amqps://" : "amqp://"};
  out += percent_encode(user);
  out += ':';
  out += password_mask;
  out += '@';
  out += endpoint();
  out += '/';
  out += percent_encode(vhost);
  return out;
}

std::string url::endpoint() const {
  // The host as a URL writes it, so that logs show one line and masked() parses back.
  std::string out = percent_encode(host, ":");
  if (host.find(':') != std::string::npos)
    out = "[" + out + "]";
  out += ':';
  out += std::to_string(port);
  return out;
}

} // namespace causeway::amqp
