// connection.hpp — one accepted client socket of the HTTP server (internal).
//
// Reads bytes, parses requests, answers them in request order (a loop handler at once, a worker
// handler on the server's worker_pool with reading paused meanwhile), and closes the socket when the
// client, the protocol, a limit, a deadline (connection_timeline.hpp) or the server says so.
// A request answered with a live stream (response::event_stream) turns the connection into a
// viewer of the server's stream_fanout: it writes the stream head, then each frame it is
// offered, and closes when a frame would put more than `max_stream_buffer_bytes` unsent.
// Owned by the server's registry; it frees nothing itself: once its libuv handles have closed
// and its worker job (if any) has come back, it calls `connection_context::on_closed`, which
// destroys it.
//
// Thread rule: every member function runs on the server's loop thread. A worker job touches only
// its own request and response, never the connection.
#pragma once

#include "telluride/http/connection_timeline.hpp"
#include "telluride/http/request_handler.hpp"
#include "telluride/http/request_parser.hpp"
#include "telluride/http/server_options.hpp"
#include "telluride/http/stream_fanout.hpp"
#include "telluride/http/worker_pool.hpp"

#include <uv.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace telluride::http {

class connection;

/// What all connections of one server share. Lives as long as the server's loop; loop thread.
struct connection_context {
  const request_handler* handler = nullptr;
  const handler_placement* placement = nullptr;
  const server_options* options = nullptr;
  worker_pool* workers = nullptr;
  stream_fanout* streams = nullptr;
  /// Called once, when the last handle has closed and no worker job is out; may destroy the
  /// connection.
  std::function<void(connection&)> on_closed;
  /// One read buffer for all connections: libuv fills it and calls the read callback right
  /// away, and the callback has consumed it before the next read starts.
  std::array<char, 64 * 1024> read_buffer{};
  bool is_stopping = false;
  /// Connections constructed and neither closing nor streaming (what `max_connections` caps).
  std::size_t open_connections = 0;
  /// Handlers on workers and not yet answered (what `max_worker_handlers` caps).
  std::size_t worker_handlers = 0;
  /// The serial of the next connection: ties in eviction go to the older one.
  std::uint64_t next_serial = 0;
  /// Viewers closed because they fell `max_stream_buffer_bytes` behind.
  std::uint64_t slow_viewers_dropped = 0;
};

class connection {
public:
  /// Initialises the socket and timer handles on `loop`; nothing is read yet.
  connection(uv_loop_t* loop, connection_context& context);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// The socket to pass to uv_accept.
  uv_stream_t* stream() noexcept { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  /// Starts reading and arms the deadlines. Call once, after a successful uv_accept.
  void start();

  /// Closes both handles now; pending writes are cancelled; a worker job is left to finish and
  /// its response dropped. Idempotent.
  void close_now();

  /// How expendable the connection is when the server is full; nullopt once closing or
  /// streaming.
  std::optional<eviction_rank> rank() const { return timeline_.rank(); }

  /// A streamed feed published: writes its latest frame if not yet sent (or closes a viewer
  /// too far behind). Ignored unless streaming.
  void on_feed();

private:
  struct write_request;
  struct worker_job;

  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_timer(uv_timer_t* timer);
  static void on_close(uv_handle_t* handle);
  template <class Event>
  static void enter(connection& self, Event&& event);

  void on_bytes(std::string_view bytes);
  void on_read_end(ssize_t status);
  void on_written(int status);
  void on_deadline();
  void on_worker_done(worker_job& job, bool ran);
  void serve();
  bool start_worker(parsed_request& next);
  void respond(const response& res, const parsed_request& to);
  void start_stream(std::shared_ptr<event_feed> feed, const parsed_request& to);
  void send_latest_frame();
  void write(std::string bytes);
  void write_shared(std::shared_ptr<const std::string> bytes);
  void queue_write(std::unique_ptr<write_request> req);
  void finish();
  void shut_down();
  void rearm_timer();
  void update_reading();
  void release_callback();
  loop_time now() const noexcept;

  connection_context& context_;
  uv_loop_t* loop_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_shutdown_t shutdown_req_{};
  request_parser parser_;
  connection_timeline timeline_;
  std::deque<parsed_request> backlog_;  // parsed, not yet answered (waiting behind a worker job)
  int open_callbacks_ = 2;              // handles not yet closed + worker jobs not yet back
  std::size_t pending_writes_ = 0;
  bool is_reading_ = false;
  bool peer_closed_ = false;
  bool owes_continue_ = false;  // 100 Continue, once the requests before it are answered
  std::shared_ptr<event_feed> feed_;  // streaming: the feed viewed
  std::uint64_t sent_serial_ = 0;     // streaming: the serial of the last frame written
};

} // namespace telluride::http
