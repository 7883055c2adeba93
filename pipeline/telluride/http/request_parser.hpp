// request_parser.hpp — bytes in, whole requests out, for one connection.
//
// Wraps http-parser 2.9 and applies this server's limits. Pure: no sockets, no clocks, so the
// framing rules (pipelining, split bodies, chunked bodies, limits) are tested with plain
// strings. Once the input is bad the parser stops for good and says which status to answer. A
// request target that is not valid UTF-8 is bad input (400), so no handler sees one.
#pragma once

#include "telluride/http/request.hpp"

#include <http_parser.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace telluride::http {

/// The limits of docs/http.md (Limits). Sizes are measured on the parts http-parser reports, as
/// a request written in the usual form spells them, so the limits are exact for such requests:
/// - the request line is `METHOD SP target SP HTTP/x.y`, CRLF not counted (414 past it);
/// - the header block is the header lines after it, each `name: value CRLF` (name + value + 4
///   bytes), the empty line that ends the block not counted (431 past it);
/// - the body is the decoded body (chunked framing not counted; 413 past it, refused as soon as
///   Content-Length announces more).
/// Extra whitespace between the parts is not counted; http-parser's own 80 KiB bound on the raw
/// head (431) covers it.
struct parse_limits {
  std::size_t max_request_line_bytes = 16 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
};

/// A complete request and whether the connection may carry another one after it.
struct parsed_request {
  request req;
  bool keep_alive = true;  ///< HTTP/1.1 unless `Connection: close`; 1.0 only with keep-alive
};

/// Why the input was refused: the status to answer (400, 413, 414 or 431) and a short reason
/// (one line, ASCII, no client bytes in it).
struct parse_failure {
  int status = 400;
  std::string reason;
};

/// What one `feed` produced, in arrival order.
struct feed_result {
  std::vector<parsed_request> requests;
  /// The request now being received sent `Expect: 100-continue` and its headers were
  /// accepted: the caller should write `HTTP/1.1 100 Continue` after the responses to
  /// `requests`. Set at most once per request.
  bool send_continue = false;
};

class request_parser {
public:
  explicit request_parser(parse_limits limits = {});
  request_parser(const request_parser&) = delete;
  request_parser& operator=(const request_parser&) = delete;

  /// Parses `bytes`, which continue the bytes of earlier calls. Requests completed before a
  /// framing error are still returned; after the error `failure()` is set and later calls
  /// return nothing. After a request that does not keep the connection alive, or one that
  /// asks for a protocol upgrade, the rest of the input is ignored.
  feed_result feed(std::string_view bytes);

  /// Set once the input was refused.
  const std::optional<parse_failure>& failure() const noexcept { return failure_; }

  /// True while part of a request has arrived but not all of it.
  bool is_mid_request() const noexcept { return in_message_; }

private:
  struct callbacks;
  friend struct callbacks;

  int fail(int status, std::string reason);

  parse_limits limits_;
  http_parser parser_{};
  request current_;
  std::string url_;
  std::size_t method_bytes_ = 0;
  std::size_t header_bytes_ = 0;
  bool last_was_value_ = false;
  bool in_message_ = false;
  bool expects_continue_ = false;
  bool continue_sent_ = false;
  bool is_finished_ = false;  // a non-keep-alive or upgrade request ended the stream
  feed_result pending_;
  std::optional<parse_failure> failure_;
};

} // namespace telluride::http
