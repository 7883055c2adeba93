#include "telluride/http/connection.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <utility>

namespace telluride::http {

namespace {

connection& owner(uv_handle_t* handle) {
  return *static_cast<connection*>(handle->data);
}

response busy_response() {
  auto res = response::text(503, "too many slow requests in progress; retry shortly\n");
  res.headers.push_back({"Retry-After", "1"});
  return res;
}

} // namespace

/// One queued write: the bytes must live until libuv reports the write done. A stream frame
/// is shared by every viewer's write (`shared`); other bytes are the write's own (`bytes`).
struct connection::write_request {
  uv_write_t req{};
  std::string bytes;
  std::shared_ptr<const std::string> shared;
  connection* owner = nullptr;
};

/// One request whose handler runs on a worker. The worker touches `handler`, `next.req` and
/// `result` only; the connection stays alive until the job has completed on the loop.
struct connection::worker_job final : worker_task {
  connection* owner = nullptr;
  const request_handler* handler = nullptr;
  parsed_request next;
  response result = response::text(500, "internal server error\n");

  void run() override { result = answer(*handler, next.req); }
  void complete(bool ran) override { owner->on_worker_done(*this, ran); }  // may destroy owner
};

connection::connection(uv_loop_t* loop, connection_context& context)
  : context_(context),
    loop_(loop),
    parser_(context.options->limits),
    timeline_({context.options->request_timeout, context.options->idle_timeout, context.options->linger_timeout},
              loop_time{static_cast<loop_time::rep>(uv_now(loop))}, context.next_serial++) {
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &timer_);
  tcp_.data = this;
  timer_.data = this;
  ++context_.open_connections;
}

// Every libuv callback but the close callback enters here: the event runs, an exception closes
// the connection instead of unwinding through libuv, and the timer follows the new deadlines.
template <class Event>
void connection::enter(connection& self, Event&& event) {
  try {
    event();
  } catch (const std::exception& e) {
    spdlog::error("http: closing a connection after an internal error: {}", e.what());
    self.close_now();
  }
  if (!self.timeline_.is<phase::closing>())
    self.rearm_timer();
}

void connection::start() {
  uv_tcp_nodelay(&tcp_, 1);
  enter(*this, [this] { update_reading(); });
}

void connection::close_now() {
  if (timeline_.is<phase::closing>())
    return;
  if (timeline_.is<phase::streaming>())
    context_.streams->remove(*this, *feed_);
  else
    --context_.open_connections;
  timeline_.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_close);
}

loop_time connection::now() const noexcept {
  return loop_time{static_cast<loop_time::rep>(uv_now(loop_))};
}

void connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto& buffer = owner(handle).context_.read_buffer;
  *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto& self = owner(reinterpret_cast<uv_handle_t*>(stream));
  enter(self, [&] {
    if (nread < 0)
      self.on_read_end(nread);
    else if (nread > 0)
      self.on_bytes({buf->base, static_cast<std::size_t>(nread)});
  });
}

void connection::on_bytes(std::string_view bytes) {
  if (!timeline_.is<phase::reading>())
    return;  // finishing or lingering: the client's input no longer matters
  auto result = parser_.feed(bytes);
  timeline_.on_read(now(), result.requests.size(), parser_.is_mid_request());
  for (auto& parsed : result.requests)
    backlog_.push_back(std::move(parsed));
  owes_continue_ = owes_continue_ || result.send_continue;
  serve();
}

// Answers the backlog in order until a request needs a worker; then the parser's refusal and
// the owed 100 Continue, which come after every request before them.
void connection::serve() {
  while (timeline_.is<phase::reading>() && !backlog_.empty()) {
    auto next = std::move(backlog_.front());
    backlog_.pop_front();
    auto thread = *context_.placement ? (*context_.placement)(next.req) : handler_thread::loop;
    if (thread == handler_thread::loop)
      respond(answer(*context_.handler, next.req), next);
    else if (!start_worker(next))
      respond(busy_response(), next);
    else
      return;
  }
  if (!timeline_.is<phase::reading>())
    return;
  if (const auto& failure = parser_.failure()) {
    spdlog::debug("http: refusing a request with {}: {}", failure->status, failure->reason);
    write(serialize(response::text(failure->status, failure->reason + "\n"), {false, true}));
    finish();
    return;
  }
  if (owes_continue_ && parser_.is_mid_request())
    write("HTTP/1.1 100 Continue\r\n\r\n");
  owes_continue_ = false;
  update_reading();
}

bool connection::start_worker(parsed_request& next) {
  if (context_.worker_handlers >= context_.options->max_worker_handlers)
    return false;
  auto job = std::make_unique<worker_job>();
  job->owner = this;
  job->handler = context_.handler;
  job->next = std::move(next);
  std::unique_ptr<worker_task> task = std::move(job);
  if (!context_.workers->submit(task)) {
    next = std::move(static_cast<worker_job&>(*task).next);  // closing: the caller answers it
    return false;
  }
  ++open_callbacks_;
  ++context_.worker_handlers;
  timeline_.start_handler(now());
  update_reading();  // paused until the job is back: later requests wait in order
  return true;
}

// The job is back on the loop. A closed connection only lets go of it (the last callback
// destroys the connection); an open one answers and serves what waited behind it.
void connection::on_worker_done(worker_job& job, bool ran) {
  --context_.worker_handlers;
  if (timeline_.is<phase::closing>()) {
    release_callback();  // may destroy `this`
    return;
  }
  --open_callbacks_;  // the handles are open: this never reaches 0 here
  enter(*this, [&] {
    timeline_.end_handler(now(), parser_.is_mid_request());
    respond(ran ? job.result : busy_response(), job.next);
    serve();
  });
}

void connection::respond(const response& res, const parsed_request& to) {
  if (res.stream && to.req.method != "HEAD" && !context_.is_stopping) {
    start_stream(res.stream, to);
    return;
  }
  bool keep_alive = to.keep_alive && !context_.is_stopping;
  write(serialize(res, {keep_alive, to.req.method != "HEAD"}));
  if (!keep_alive && timeline_.is<phase::reading>())
    finish();
}

void connection::on_feed() {
  enter(*this, [this] { send_latest_frame(); });
}

void connection::on_read_end(ssize_t status) {
  if (status != UV_EOF || timeline_.is<phase::lingering>()) {
    close_now();  // reset, or the client finished after our shutdown
    return;
  }
  // The client half-closed (libuv stopped reading): answer what was queued, then close.
  peer_closed_ = true;
  is_reading_ = false;
  if (timeline_.is<phase::reading>())
    finish();
  else if (timeline_.is<phase::streaming>())
    close_now();  // the viewer went away
}

void connection::write(std::string bytes) {
  auto req = std::make_unique<write_request>();
  req->bytes = std::move(bytes);
  queue_write(std::move(req));
}

void connection::write_shared(std::shared_ptr<const std::string> bytes) {
  auto req = std::make_unique<write_request>();
  req->shared = std::move(bytes);
  queue_write(std::move(req));
}

void connection::queue_write(std::unique_ptr<write_request> req) {
  if (timeline_.is<phase::closing>())
    return;
  req->owner = this;
  req->req.data = req.get();
  // libuv only reads the buffer: the const_cast never leads to a write into a shared frame.
  auto* data = req->shared ? const_cast<char*>(req->shared->data()) : req->bytes.data();
  auto size = req->shared ? req->shared->size() : req->bytes.size();
  uv_buf_t buf = uv_buf_init(data, static_cast<unsigned>(size));
  if (uv_write(&req->req, stream(), &buf, 1, on_write) != 0) {
    close_now();
    return;
  }
  static_cast<void>(req.release());  // on_write takes it back
  ++pending_writes_;
}

// libuv calls every write callback (with UV_ECANCELED after a close) before the close callback,
// so the connection is alive here.
void connection::on_write(uv_write_t* raw, int status) {
  std::unique_ptr<write_request> req{static_cast<write_request*>(raw->data)};
  auto& self = *req->owner;
  enter(self, [&] { self.on_written(status); });
}

void connection::on_written(int status) {
  --pending_writes_;
  if (timeline_.is<phase::closing>())
    return;
  if (status < 0) {
    close_now();
    return;
  }
  timeline_.on_written(now());
  if (timeline_.is<phase::finishing>() && pending_writes_ == 0)
    shut_down();
  else
    update_reading();
}

void connection::finish() {
  timeline_.finish(now());
  if (pending_writes_ == 0)
    shut_down();
}

void connection::shut_down() {
  if (peer_closed_) {
    close_now();  // the client is gone: nothing to linger for
    return;
  }
  timeline_.linger(now());
  if (uv_shutdown(&shutdown_req_, stream(), on_shutdown) != 0) {
    close_now();
    return;
  }
  // Keep reading (and dropping) so unread input does not turn our close into a reset.
  update_reading();
}

void connection::on_shutdown(uv_shutdown_t* req, int status) {
  auto& self = owner(reinterpret_cast<uv_handle_t*>(req->handle));
  if (status < 0)
    enter(self, [&] { self.close_now(); });
}

void connection::on_timer(uv_timer_t* timer) {
  auto& self = owner(reinterpret_cast<uv_handle_t*>(timer));
  enter(self, [&] { self.on_deadline(); });
}

void connection::on_deadline() {
  switch (timeline_.expired(now())) {
    case expiry::request: {
      auto limit = context_.options->request_timeout.count();
      spdlog::debug("http: closing a connection whose request took over {} ms", limit);
      write(serialize(response::text(408, "request not complete within " + std::to_string(limit) + " ms\n"),
                      {false, true}));
      finish();
      return;
    }
    case expiry::idle:
    case expiry::linger:
      close_now();
      return;
    case expiry::none:
      return;  // an earlier deadline moved: `enter` re-arms the timer
  }
}

void connection::rearm_timer() {
  auto deadline = timeline_.next_deadline();
  if (!deadline) {
    uv_timer_stop(&timer_);
    return;
  }
  auto current = now();
  auto due = *deadline > current ? (*deadline - current).count() : 0;
  uv_timer_start(&timer_, on_timer, static_cast<std::uint64_t>(due), 0);
}

// Reading runs while requests may come (unless the client is behind on reading our responses)
// and while finishing, lingering or streaming (input is dropped, so the kernel never resets the
// close, and a viewer's going away is seen);
// it pauses while a handler runs on a worker.
void connection::update_reading() {
  bool wants = !peer_closed_
               && (timeline_.is<phase::finishing>() || timeline_.is<phase::lingering>()
                   || timeline_.is<phase::streaming>()
                   || (timeline_.is<phase::reading>()
                       && uv_stream_get_write_queue_size(stream()) <= context_.options->max_queued_response_bytes));
  if (wants && !is_reading_) {
    if (uv_read_start(stream(), on_alloc, on_read) != 0) {
      close_now();
      return;
    }
    is_reading_ = true;
  } else if (!wants && is_reading_) {
    uv_read_stop(stream());
    is_reading_ = false;
  }
}

void connection::on_close(uv_handle_t* handle) {
  owner(handle).release_callback();  // may destroy the connection
}

void connection::release_callback() {
  if (--open_callbacks_ == 0)
    context_.on_closed(*this);
}

} // namespace telluride::http
