#include "telluride/http/http_server.hpp"

#include "telluride/http/connection.hpp"
#include "telluride/http/listen_address.hpp"
#include "telluride/http/worker_pool.hpp"

#include <causeway/thread_name.hpp>

#include <spdlog/spdlog.h>
#include <uv.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

namespace telluride::http {

// Not in the anonymous namespace: http_server::impl holds one, and in a unity build this file is
// compiled as if it were a header.
enum class run_state { idle, running, stopping, done };

namespace {

std::uint16_t bound_port(const uv_tcp_t& tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getsockname(&tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

} // namespace

// Thread rule: `loop`, the handles, `connections` and `context` belong to the loop thread once
// it runs; the owner's thread only touches `state` (under `state_mutex`), `async` through
// uv_async_send while the state is `running`, and `thread` and `workers` (under `join_mutex`,
// once the loop has ended). Worker threads only call `handler` (const) on their job's request.
struct http_server::impl {
  server_options options;
  request_handler handler;
  handler_placement placement;
  uv_loop_t loop{};
  uv_tcp_t listener{};
  uv_async_t async{};
  connection_context context;
  std::optional<worker_pool> workers;  // created by start(), with the loop
  std::optional<stream_fanout> streams;  // created by start(), with the loop
  std::unordered_map<connection*, std::unique_ptr<connection>> connections;
  std::atomic<std::size_t> connection_count{0};
  std::atomic<std::uint64_t> slow_viewers_dropped{0};
  std::uint16_t port = 0;
  int listen_fd = -1;  // the listener's descriptor, set by open() before the loop runs
  int loop_close_status = 0;
  std::mutex state_mutex;
  run_state state = run_state::idle;
  std::mutex join_mutex;
  std::thread thread;
  std::thread::id loop_thread_id;  // set under state_mutex before the state becomes running

  impl(server_options opts, request_handler h, handler_placement where)
    : options(std::move(opts)), handler(std::move(h)), placement(std::move(where)) {
    context.handler = &handler;
    context.placement = &placement;
    context.options = &options;
    context.on_closed = [this](connection& c) { forget(c); };
  }

  std::optional<error> open(listening_socket adopted);
  void run();
  void forget(connection& c);
  void make_room_for(const connection& arrived);
  void on_stop();
  static void on_connection(uv_stream_t* server, int status);
  static void on_async(uv_async_t* handle);
};

std::optional<error> http_server::impl::open(listening_socket adopted) {
  auto fail = [this](std::string_view reason) {
    return error{"cannot listen on " + options.listen + ": " + std::string{reason}};
  };
  auto parsed = parse_listen_address(options.listen);
  if (auto* err = std::get_if<error>(&parsed))
    return fail(err->message);
  if (options.max_connections == 0)
    return fail("max_connections must be at least 1");
  const auto& address = std::get<listen_address>(parsed);

  if (int rc = uv_loop_init(&loop); rc != 0)
    return fail(uv_strerror(rc));
  uv_tcp_init(&loop, &listener);
  listener.data = this;
  int rc = 0;
  if (adopted.is_open()) {
    rc = uv_tcp_open(&listener, adopted.fd());
    if (rc == 0)
      adopted.release();  // the handle closes it now
  } else {
    rc = uv_tcp_bind(&listener, reinterpret_cast<const sockaddr*>(&address.addr), 0);
  }
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener), SOMAXCONN, on_connection);
  if (rc != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener), nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return fail(uv_strerror(rc));
  }
  port = bound_port(listener);
  uv_os_fd_t fd = -1;
  uv_fileno(reinterpret_cast<const uv_handle_t*>(&listener), &fd);
  listen_fd = fd;
  uv_async_init(&loop, &async, on_async);
  async.data = this;
  return std::nullopt;
}

void http_server::impl::run() {
  causeway::name_this_thread("http");
  uv_run(&loop, UV_RUN_DEFAULT);
  loop_close_status = uv_loop_close(&loop);
  if (loop_close_status == 0)
    return;
  // A handle was left open: a bug here. Report it, then close what is left so nothing leaks.
  spdlog::error("http: loop did not close cleanly: {}", uv_strerror(loop_close_status));
  uv_walk(
    &loop,
    [](uv_handle_t* h, void*) {
      if (!uv_is_closing(h))
        uv_close(h, nullptr);
    },
    nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

void http_server::impl::forget(connection& c) {
  connections.erase(&c);
  connection_count.store(connections.size(), std::memory_order_relaxed);
  slow_viewers_dropped.store(context.slow_viewers_dropped, std::memory_order_relaxed);
}

void http_server::impl::on_connection(uv_stream_t* server, int status) {
  auto& self = *static_cast<impl*>(server->data);
  if (status < 0) {
    spdlog::warn("http: accept failed: {}", uv_strerror(status));
    return;
  }
  auto owned = std::make_unique<connection>(&self.loop, self.context);
  auto& c = *owned;
  self.connections.emplace(&c, std::move(owned));
  self.connection_count.store(self.connections.size(), std::memory_order_relaxed);
  if (uv_accept(server, c.stream()) != 0 || self.context.is_stopping) {
    c.close_now();
    return;
  }
  if (self.context.open_connections > self.options.max_connections)
    self.make_room_for(c);
  c.start();
}

// At the cap the newcomer stays and the most expendable other connection goes: a client that
// connects (a health check) is always served, however many idle or slow connections are held.
void http_server::impl::make_room_for(const connection& arrived) {
  connection* victim = nullptr;
  std::optional<eviction_rank> lowest;
  for (auto& [ptr, owned] : connections) {
    auto rank = ptr->rank();
    if (ptr == &arrived || !rank)
      continue;
    if (!lowest || *rank < *lowest) {
      lowest = rank;
      victim = ptr;
    }
  }
  if (!victim)
    return;
  spdlog::debug("http: {} connections open: closing the most expendable one", options.max_connections);
  victim->close_now();
}

void http_server::impl::on_async(uv_async_t* handle) {
  static_cast<impl*>(handle->data)->on_stop();
}

void http_server::impl::on_stop() {
  context.is_stopping = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&listener), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&async), nullptr);
  for (auto& [ptr, owned] : connections)
    owned->close_now();
  streams->close();
  workers->close();  // running handlers finish; the loop ends once they are back
}

http_server::http_server(server_options options, request_handler handler, handler_placement where)
  : impl_(std::make_unique<impl>(std::move(options), std::move(handler), std::move(where))) {}

http_server::http_server(server_options options, router routes) : impl_(nullptr) {
  auto shared = std::make_shared<const router>(std::move(routes));
  impl_ = std::make_unique<impl>(
    std::move(options), [shared](const request& req) { return shared->handle(req); },
    [shared](const request& req) { return shared->where(req); });
}

http_server::~http_server() {
  stop();
}

std::optional<error> http_server::start(listening_socket adopted) {
  std::lock_guard lock{impl_->state_mutex};
  if (impl_->state != run_state::idle)
    return error{"cannot listen on " + impl_->options.listen + ": the server was already started"};
  if (auto err = impl_->open(std::move(adopted))) {
    impl_->state = run_state::done;
    return err;
  }
  impl_->workers.emplace(&impl_->loop, impl_->options.max_worker_handlers);
  impl_->context.workers = &*impl_->workers;
  impl_->streams.emplace(&impl_->loop);
  impl_->context.streams = &*impl_->streams;
  impl_->thread = std::thread{[this] { impl_->run(); }};
  impl_->loop_thread_id = impl_->thread.get_id();
  impl_->state = run_state::running;
  return std::nullopt;
}

bool http_server::stop() {
  {
    std::lock_guard lock{impl_->state_mutex};
    if (impl_->state == run_state::running) {
      impl_->state = run_state::stopping;
      uv_async_send(&impl_->async);  // closed only by its own callback, after this send
    }
    if (std::this_thread::get_id() == impl_->loop_thread_id)
      return false;  // called from the handler: the owner's stop() will join
  }
  std::lock_guard lock{impl_->join_mutex};
  if (impl_->thread.joinable())
    impl_->thread.join();
  if (impl_->workers)
    impl_->workers->join();  // so no handler's thread outlives the server
  return impl_->loop_close_status == 0;
}

listening_socket http_server::stop_keeping_listener() {
  listening_socket kept;
  {
    std::lock_guard lock{impl_->state_mutex};
    if (impl_->state == run_state::running) {
      // A second descriptor of the listener's socket keeps it listening once the loop closes
      // its own.
      kept = listening_socket{::fcntl(impl_->listen_fd, F_DUPFD_CLOEXEC, 0)};
    }
  }
  stop();
  return kept;
}

std::uint16_t http_server::port() const noexcept {
  return impl_->port;
}

std::size_t http_server::connection_count() const noexcept {
  return impl_->connection_count.load(std::memory_order_relaxed);
}

std::size_t http_server::stream_count() const noexcept {
  return impl_->streams ? impl_->streams->size() : 0;
}

std::uint64_t http_server::slow_viewers_dropped() const noexcept {
  return impl_->slow_viewers_dropped.load(std::memory_order_relaxed);
}

} // namespace telluride::http
