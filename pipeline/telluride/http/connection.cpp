#include "telluride/http/connection.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <utility>

namespace telluride::http {

namespace {

connection& owner(uv_handle_t* handle) {
  return *static_cast<connection*>(handle->data);
}

} // namespace

/// One queued write: the bytes must live until libuv reports the write done.
struct connection::write_request {
  uv_write_t req{};
  std::string bytes;
  connection* owner = nullptr;
};

connection::connection(uv_loop_t* loop, connection_context& context)
  : context_(context), parser_(context.options->limits) {
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &timer_);
  tcp_.data = this;
  timer_.data = this;
}

void connection::start() {
  uv_tcp_nodelay(&tcp_, 1);
  arm_timer(context_.options->idle_timeout);
  resume_reading();
}

void connection::close_now() {
  if (phase_ == phase::closing)
    return;
  phase_ = phase::closing;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
}

void connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto& buffer = owner(handle).context_.read_buffer;
  *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto& self = owner(reinterpret_cast<uv_handle_t*>(stream));
  if (nread < 0)
    self.on_read_end(nread);
  else if (nread > 0)
    self.on_bytes({buf->base, static_cast<std::size_t>(nread)});
}

void connection::on_bytes(std::string_view bytes) {
  if (phase_ != phase::open)
    return;  // finishing or lingering: the client's input no longer matters
  arm_timer(context_.options->idle_timeout);
  auto result = parser_.feed(bytes);
  for (auto& parsed : result.requests) {
    bool keep_alive = parsed.keep_alive && !context_.is_stopping;
    auto res = answer(*context_.handler, parsed.req);
    write(serialize(res, {keep_alive, parsed.req.method != "HEAD"}));
    if (phase_ != phase::open)
      return;  // the write failed and closed the connection
    if (!keep_alive) {
      finish();
      return;
    }
  }
  if (const auto& failure = parser_.failure()) {
    spdlog::debug("http: refusing a request with {}: {}", failure->status, failure->reason);
    write(serialize(response::text(failure->status, failure->reason + "\n"), {false, true}));
    finish();
    return;
  }
  if (result.send_continue)
    write("HTTP/1.1 100 Continue\r\n\r\n");
  pause_reading_if_backlogged();
}

void connection::on_read_end(ssize_t status) {
  if (status != UV_EOF || phase_ == phase::lingering) {
    close_now();  // reset, or the client finished after our shutdown
    return;
  }
  // The client half-closed: answer what was already queued, then close.
  peer_closed_ = true;
  is_reading_ = false;
  if (phase_ == phase::open)
    finish();
}

void connection::write(std::string bytes) {
  if (phase_ == phase::closing)
    return;
  auto req = std::make_unique<write_request>();
  req->bytes = std::move(bytes);
  req->owner = this;
  req->req.data = req.get();
  uv_buf_t buf = uv_buf_init(req->bytes.data(), static_cast<unsigned>(req->bytes.size()));
  if (uv_write(&req->req, stream(), &buf, 1, on_write) != 0) {
    close_now();
    return;
  }
  static_cast<void>(req.release());  // on_write takes it back
  ++pending_writes_;
}

void connection::on_write(uv_write_t* raw, int status) {
  std::unique_ptr<write_request> req{static_cast<write_request*>(raw->data)};
  req->owner->on_written(status);
}

void connection::on_written(int status) {
  --pending_writes_;
  if (phase_ == phase::closing)
    return;
  if (status < 0) {
    close_now();
    return;
  }
  if (phase_ == phase::open) {
    arm_timer(context_.options->idle_timeout);
    if (!is_reading_ && !peer_closed_
        && uv_stream_get_write_queue_size(stream()) <= context_.options->max_queued_response_bytes)
      resume_reading();
  } else if (phase_ == phase::finishing && pending_writes_ == 0) {
    shut_down();
  }
}

void connection::finish() {
  phase_ = phase::finishing;
  if (pending_writes_ == 0)
    shut_down();
}

void connection::shut_down() {
  if (peer_closed_) {
    close_now();  // the client is gone: nothing to linger for
    return;
  }
  phase_ = phase::lingering;
  if (uv_shutdown(&shutdown_req_, stream(), on_shutdown) != 0) {
    close_now();
    return;
  }
  // Keep reading (and dropping) so unread input does not turn our close into a reset.
  resume_reading();
  arm_timer(context_.options->linger_timeout);
}

void connection::on_shutdown(uv_shutdown_t* req, int status) {
  auto& self = owner(reinterpret_cast<uv_handle_t*>(req->handle));
  if (status < 0)
    self.close_now();
}

void connection::arm_timer(std::chrono::milliseconds after) {
  if (phase_ == phase::closing)
    return;
  uv_timer_start(&timer_, on_timer, static_cast<std::uint64_t>(after.count()), 0);
}

void connection::on_timer(uv_timer_t* timer) {
  owner(reinterpret_cast<uv_handle_t*>(timer)).close_now();
}

void connection::pause_reading_if_backlogged() {
  if (is_reading_
      && uv_stream_get_write_queue_size(stream()) > context_.options->max_queued_response_bytes) {
    uv_read_stop(stream());
    is_reading_ = false;
  }
}

void connection::resume_reading() {
  if (is_reading_ || peer_closed_)
    return;
  if (uv_read_start(stream(), on_alloc, on_read) != 0) {
    close_now();
    return;
  }
  is_reading_ = true;
}

void connection::on_close(uv_handle_t* handle) {
  auto& self = owner(handle);
  if (--self.open_handles_ == 0)
    self.context_.on_closed(self);  // may destroy `self`
}

} // namespace telluride::http
