// server_options.hpp — how the HTTP server listens and what it tolerates from clients.
//
// The defaults are limits of docs/http.md (Limits); tests shorten the timeouts.
#pragma once

#include "telluride/http/request_parser.hpp"

#include <chrono>
#include <cstddef>
#include <string>

namespace telluride::http {

struct server_options {
  /// `HOST:PORT` (see listen_address.hpp); port 0 picks a free port.
  std::string listen = "127.0.0.1:9464";
  /// A request not complete within this long of its first byte is answered 408 and its
  /// connection closed (a client sending a header byte a second cannot hold a connection).
  std::chrono::milliseconds request_timeout{10'000};
  /// A connection whose client sends nothing and reads nothing for this long is closed: before
  /// its first request, between keep-alive requests, or while a response waits to be read. The
  /// clock stops while one of its requests is being handled on a worker.
  std::chrono::milliseconds idle_timeout{10'000};
  /// At most this many open connections (at least 1). A connection arriving at the cap is
  /// accepted, and the most expendable open one is closed to make room (a lingering one, else
  /// the one that has waited longest on its client; see connection_timeline.hpp): the server
  /// never stops accepting, so a health check always gets through.
  std::size_t max_connections = 256;
  /// Handlers declared `handler_thread::worker` that may run at once, server-wide, on as many
  /// threads of the server's own (joined by stop()); a request beyond this gets 503 at once.
  std::size_t max_worker_handlers = 4;
  /// Request line (414), header block (431) and body (413) limits.
  parse_limits limits{};
  /// After a response that ends the connection, the client's remaining input is read and
  /// dropped for at most this long, so the kernel does not reset the connection before the
  /// client has read the response.
  std::chrono::milliseconds linger_timeout{2'000};
  /// Reading from a client pauses while this many response bytes wait to be sent to it.
  std::size_t max_queued_response_bytes = 4 * 1024 * 1024;
  /// Live streams (response::event_stream) open at once. A stream leaves the connections that
  /// `max_connections` caps when it starts, so viewers never push out a health check, and a
  /// health check never closes a viewer; a stream request beyond this gets 503.
  std::size_t max_streams = 32;
  /// A viewer whose unsent stream bytes would exceed this with the next frame is closed: a slow
  /// viewer is dropped, never buffered without bound.
  std::size_t max_stream_buffer_bytes = 1024 * 1024;
  /// How long a browser waits before it reconnects a lost stream (the stream's `retry:`).
  std::chrono::milliseconds stream_retry{2'000};
};

} // namespace telluride::http
