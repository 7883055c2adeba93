// response.hpp — what a handler returns, and its bytes on the wire.
//
// A handler fills status, content type, body and any extra headers; the server adds
// Content-Length and Connection itself (values the handler sets for those two are ignored) and
// omits the body for HEAD requests.
//
// A response made by `event_stream(feed)` opens a live stream instead (server-sent events):
// the server writes a stream head (sse_frame.hpp) and then every frame the feed publishes, until
// the client goes, falls too far behind, or the server stops (docs/http.md, Live stream).
#pragma once

#include "telluride/http/event_feed.hpp"
#include "telluride/http/request.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace telluride::http {

struct response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<header_field> headers;  ///< extra headers, written in this order
  /// Set: the connection streams this feed (status, body and headers are then ignored but for
  /// HEAD, which gets the head of an empty text/event-stream answer).
  std::shared_ptr<event_feed> stream;

  /// A plain-text response.
  static response text(int status, std::string body);
  /// An `application/json` response; `body` must already be JSON.
  static response json(int status, std::string body);
  /// A live stream of `feed`'s frames.
  static response event_stream(std::shared_ptr<event_feed> feed);
};

/// "OK", "Not Found", ...; "Unknown" for a code this server never uses.
std::string_view reason_phrase(int status) noexcept;

/// How the server frames one response.
struct framing {
  bool keep_alive = true;     ///< false writes `Connection: close`
  bool include_body = true;   ///< false for HEAD: headers (with the real length) only
};

/// The HTTP/1.1 bytes of `r`. Always writes Content-Length, except for 1xx, 204 and 304, which
/// carry no body. Drops extra headers that could break the framing: a CR, LF or NUL in the
/// name or value, or a name the server owns (Content-Length, Transfer-Encoding, Connection,
/// Content-Type). A status outside 100..999 is sent as 500.
std::string serialize(const response& r, framing how);

} // namespace telluride::http
