// connection.hpp — one accepted client socket of the HTTP server (internal).
//
// Reads bytes, parses requests, calls the handler, writes responses in request order, and
// closes the socket when the client, the protocol, a limit or the idle timer says so. Owned by
// the server's registry; it frees nothing itself: when its last libuv handle has closed it
// calls `connection_context::on_closed`, which destroys it.
//
// Thread rule: every member function runs on the server's loop thread.
#pragma once

#include "telluride/http/request_handler.hpp"
#include "telluride/http/request_parser.hpp"
#include "telluride/http/server_options.hpp"

#include <uv.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace telluride::http {

class connection;

/// What all connections of one server share. Lives as long as the server's loop.
struct connection_context {
  const request_handler* handler = nullptr;
  const server_options* options = nullptr;
  /// Called once, from the last close callback; may destroy the connection.
  std::function<void(connection&)> on_closed;
  /// One read buffer for all connections: libuv fills it and calls the read callback right
  /// away, and the callback has consumed it before the next read starts.
  std::array<char, 64 * 1024> read_buffer{};
  bool is_stopping = false;
};

class connection {
public:
  /// Initialises the socket and timer handles on `loop`; nothing is read yet.
  connection(uv_loop_t* loop, connection_context& context);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// The socket to pass to uv_accept.
  uv_stream_t* stream() noexcept { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  /// Starts reading and arms the idle timer. Call once, after a successful uv_accept.
  void start();

  /// Closes both handles now; pending writes are cancelled. Idempotent.
  void close_now();

private:
  enum class phase {
    open,       // reading requests
    finishing,  // the last response is queued; waiting for it to be written
    lingering,  // our side is shut down; dropping client input until EOF or the linger timer
    closing,    // handles are closing
  };

  struct write_request;
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_timer(uv_timer_t* timer);
  static void on_close(uv_handle_t* handle);

  void on_bytes(std::string_view bytes);
  void on_read_end(ssize_t status);
  void on_written(int status);
  void write(std::string bytes);
  void finish();
  void shut_down();
  void arm_timer(std::chrono::milliseconds after);
  void pause_reading_if_backlogged();
  void resume_reading();

  connection_context& context_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_shutdown_t shutdown_req_{};
  request_parser parser_;
  phase phase_ = phase::open;
  int open_handles_ = 2;
  std::size_t pending_writes_ = 0;
  bool is_reading_ = false;
  bool peer_closed_ = false;
};

} // namespace telluride::http
