// amqp_url_fuzz.cpp — the AMQP URL parser (and the two ways a URL is masked for logs) on
// arbitrary text.
//
// Invariants: an error is one line of valid UTF-8 and never echoes what may be a password
// (see `possible_password`); a parsed URL's `masked()` does not depend on the password and
// parses back to the same user, host, port and vhost; `mask_password` (config errors,
// /api/config) hides the password that `parse_url` finds, and any marked would-be password.
#include "fuzz_check.hpp"

#include "causeway/amqp/url.hpp"
#include "causeway/percent_encoding.hpp"
#include "telluride/domain/config_schema.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view scheme = "amqp://";

/// The widest reading of what a user may have meant as the password: from the first ':' after
/// the scheme to the last '@'. A password with an unescaped '/', '?' or '#' is not a password
/// to RFC 3986, but it is still a secret that must not reach a log.
std::optional<std::string_view> possible_password(std::string_view text) {
  if (!text.starts_with(scheme))
    return std::nullopt;
  const std::string_view rest = text.substr(scheme.size());
  const std::size_t at = rest.rfind('@');
  const std::size_t colon = rest.find(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || colon > at)
    return std::nullopt;
  return rest.substr(colon + 1, at - colon - 1);
}

/// The password as RFC 3986 places it: in the authority, after the userinfo's first ':'.
std::optional<std::string_view> rfc_password(std::string_view text) {
  if (!text.starts_with(scheme))
    return std::nullopt;
  std::string_view authority = text.substr(scheme.size());
  authority = authority.substr(0, authority.find_first_of("/?#"));
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos)
    return std::nullopt;
  const std::string_view userinfo = authority.substr(0, at);
  const std::size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  return userinfo.substr(colon + 1);
}

/// True when `shown` contains `secret` although it does not have to: `secret` is long enough
/// not to occur by chance and `rest` (everything of the input but the secret) does not hold it.
bool leaks(std::string_view shown, std::string_view secret, std::string_view rest) {
  if (secret.size() < 4 || shown.find(secret) == std::string_view::npos)
    return false;
  const auto decoded = causeway::percent_decode(rest);
  return rest.find(secret) == std::string_view::npos &&
         (!decoded || decoded->find(secret) == std::string::npos) &&
         // The error's \xNN escapes can spell a secret by chance (a NUL shown as \x00 before
         // "SECRET" reads "0SECRET"): that is not a leak.
         causeway::ascii_escaped(rest).find(secret) == std::string::npos;
}

/// Seeds and the dictionary put this marker into would-be passwords: any piece of a secret,
/// not only the whole of it, must stay out of what is shown.
constexpr std::string_view marker = "SECRET";

/// True when `shown` holds the marker while the input has it only inside `secret`.
bool leaks_marker(std::string_view shown, std::string_view secret, std::string_view rest) {
  return secret.find(marker) != std::string_view::npos && leaks(shown, marker, rest);
}

/// What an error quotes of the input: each text between double quotes (`got "abc"`), apart,
/// so that two quotes never join into a secret. The rest is fixed text, which may happen to
/// hold a short secret ("pass" in its usage hint).
std::vector<std::string_view> quoted_parts(std::string_view message) {
  std::vector<std::string_view> out;
  for (std::size_t open = message.find('"'); open != std::string_view::npos;) {
    const std::size_t close = message.find('"', open + 1);
    if (close == std::string_view::npos)
      break;
    out.push_back(message.substr(open + 1, close - open - 1));
    open = message.find('"', close + 1);
  }
  return out;
}

/// `text` without the bytes of `part` (a view into it).
std::string without(std::string_view text, std::string_view part) {
  const std::size_t begin = static_cast<std::size_t>(part.data() - text.data());
  return std::string(text.substr(0, begin)) + std::string(text.substr(begin + part.size()));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = causeway::amqp::parse_url(text);

  // mask_password is what the daemon shows of a URL it could not parse (startup errors,
  // config errors), so it must hide a would-be password as well as a real one.
  if (const auto secret = possible_password(text)) {
    const std::string masked = telluride::mask_password(text);
    fuzz::check(!leaks_marker(masked, *secret, without(text, *secret)),
                "mask_password hides what may be a password", masked);
  }
  const auto rfc = rfc_password(text);
  if (rfc) {
    // Neither side of the mask may hold the password. (Each side apart: joined, the user's
    // end and the host's start could spell a password that ends and starts like them.)
    const std::string masked = telluride::mask_password(text);
    const std::string_view shown = masked;
    const std::size_t mask = shown.find(":***@");
    const std::string rest = without(text, *rfc);
    for (const std::string_view side : {shown.substr(0, mask == std::string_view::npos ? shown.size() : mask + 1),
                                        mask == std::string_view::npos ? std::string_view{} : shown.substr(mask + 4)})
      fuzz::check(!leaks(side, *rfc, rest) && !leaks_marker(side, *rfc, rest), "mask_password hides the password",
                  masked);
  }

  if (!parsed) {
    const std::string& message = parsed.err().message;
    fuzz::check_error_text(message, "parse_url");
    if (const auto secret = possible_password(text)) {
      const std::string rest = without(text, *secret);
      for (const std::string_view quoted : quoted_parts(message))
        fuzz::check(!leaks(quoted, *secret, rest) && !leaks_marker(quoted, *secret, rest),
                    "a URL error never echoes what may be a password", message);
    }
    return 0;
  }

  const causeway::amqp::url& u = *parsed;
  const std::string masked = u.masked();
  fuzz::check(masked.find(":***@") != std::string::npos, "masked() replaces the password", masked);
  causeway::amqp::url other = u;
  other.password = "x";
  fuzz::check(other.masked() == masked, "masked() does not depend on the password", masked);
  const auto again = causeway::amqp::parse_url(masked);
  fuzz::check(again.has_value(), "masked() parses as a URL",
              [&] { return masked + " -> " + (again ? "" : again.err().message); });
  fuzz::check(again->user == u.user && again->password == "***" && again->host == u.host &&
                  again->port == u.port && again->vhost == u.vhost,
              "masked() names the same user, host, port and vhost", masked);
  fuzz::check(!u.endpoint().empty(), "a URL has an endpoint");
  return 0;
}
