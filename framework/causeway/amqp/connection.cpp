#include "causeway/amqp/connection_impl.hpp"

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/transport.hpp"
#include "causeway/thread_name.hpp"

#include <amqp_framing.h>
#include <spdlog/spdlog.h>

namespace causeway::amqp {

namespace {

using detail::clock_type;
using std::chrono::milliseconds;

timeval to_timeval(milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(d.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((d.count() % 1000) * 1000);
  return tv;
}

std::atomic<std::uint64_t> unclean_closes{0};

// "amqp-" and the connection's name, within Linux's 15 bytes: a name that does not fit loses
// its first word ("telluride-consumer" -> "amqp-consumer"), so that the threads of one
// program's connections stay apart in top, perf and /proc; name_this_thread cuts the rest.
std::string thread_name(std::string_view connection_name) {
  constexpr std::size_t linux_limit = 15;
  constexpr std::string_view prefix = "amqp-";
  if (prefix.size() + connection_name.size() > linux_limit)
    if (auto dash = connection_name.find('-'); dash != std::string_view::npos && dash + 1 < connection_name.size())
      connection_name.remove_prefix(dash + 1);
  return std::string{prefix} + std::string{connection_name};
}

} // namespace

bool mailbox::post(std::function<void()> command) { return push(std::move(command), true); }

bool mailbox::post_unhurried(std::function<void()> command) { return push(std::move(command), false); }

bool mailbox::push(std::function<void()> command, bool is_hurried) {
  std::lock_guard lock(mutex_);
  if (wake_ == nullptr)
    return false;
  queue_.push_back(std::move(command));
  // A pending wake-up runs the whole queue; so does the paced read for an unhurried command.
  if (!is_woken_ && (is_hurried || !expects_paced_read_))
    wake_locked();
  return true;
}

void mailbox::wake_locked() {
  is_woken_ = true;
  if (std::this_thread::get_id() == owner_)
    uv_idle_start(soon_, connection::impl::callback<&connection::impl::on_soon, connection::impl::work::sends>);
  else
    uv_async_send(wake_);
}

void mailbox::hurry() {
  std::lock_guard lock(mutex_);
  if (wake_ != nullptr && !is_woken_ && !queue_.empty())
    wake_locked();
}

void mailbox::expect_paced_read(bool is_expected) {
  std::lock_guard lock(mutex_);
  expects_paced_read_ = is_expected;
  if (!is_expected && wake_ != nullptr && !is_woken_ && !queue_.empty())
    wake_locked();  // what was posted unhurried counted on a read that does not come
}

void mailbox::paced_read_came() {
  std::lock_guard lock(mutex_);
  expects_paced_read_ = false;  // until the pass arms the timer again
}

std::vector<std::function<void()>> mailbox::take() {
  std::vector<std::function<void()>> commands;
  std::lock_guard lock(mutex_);
  commands.swap(queue_);
  is_woken_ = false;
  return commands;
}

// --- connection::impl: life cycle ---

void connection::impl::run(std::promise<failure> first) {
  thread_id = std::this_thread::get_id();
  name_this_thread(thread_name(options.name));

  uv_loop_init(&loop);
  loop.data = this;
  uv_async_init(&loop, &wake, callback<&impl::on_wake, work::sends>);
  uv_timer_init(&loop, &heartbeat_timer);
  uv_timer_init(&loop, &flush_timer);
  uv_timer_init(&loop, &read_timer);
  uv_timer_init(&loop, &reconnect_timer);
  uv_timer_init(&loop, &alarm_timer);
  uv_idle_init(&loop, &idle);
  uv_idle_init(&loop, &soon);
  for (uv_handle_t* h : {handle(&wake), handle(&heartbeat_timer), handle(&flush_timer),
                         handle(&read_timer), handle(&reconnect_timer), handle(&alarm_timer), handle(&idle),
                         handle(&soon)})
    h->data = this;
  {
    std::lock_guard lock(box->mutex_);
    box->wake_ = &wake;
    box->soon_ = &soon;
    box->owner_ = thread_id;
  }

  failure first_result = connect_now();
  if (first_result) {
    life.on_closed();
    close_handles();
  }
  first.set_value(first_result);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (int rc = uv_loop_close(&loop); rc != 0) {
    ++unclean_closes;
    spdlog::error("amqp connection '{}': event loop closed with live handles ({})", options.name,
                  uv_strerror(rc));
  }
}

void connection::impl::close_handles() {
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard lock(box->mutex_);
    box->wake_ = nullptr;
    box->soon_ = nullptr;
    dropped.swap(box->queue_);
  }
  dropped.clear();  // outside the lock: closures may hold promises
  alarms.take_all();
  channels.clear();
  poll.reset();
  for (uv_handle_t* h : {handle(&wake), handle(&heartbeat_timer), handle(&flush_timer),
                         handle(&read_timer), handle(&reconnect_timer), handle(&alarm_timer), handle(&idle),
                         handle(&soon)})
    if (!uv_is_closing(h))
      uv_close(h, nullptr);
}

failure connection::impl::connect_now() {
  detail::state_ptr st(amqp_new_connection());
  if (!st)
    return failure{failure_scope::connection, 0, "connect: out of memory"};
  timeval connect_tv = to_timeval(options.connect_timeout);
  if (failure f = detail::open_transport(st.get(), address, connect_tv))
    return f;
  timeval rpc_tv = to_timeval(options.rpc_timeout);
  amqp_set_rpc_timeout(st.get(), &rpc_tv);
  amqp_set_handshake_timeout(st.get(), &connect_tv);

  amqp_table_entry_t capabilities[] = {
    {view("connection.blocked"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
    {view("consumer_cancel_notify"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
    {view("authentication_failure_close"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
    {view("basic.nack"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
    {view("publisher_confirms"), {AMQP_FIELD_KIND_BOOLEAN, {.boolean = 1}}},
  };
  amqp_table_entry_t properties[2] = {};
  properties[0].key = view("connection_name");
  properties[0].value.kind = AMQP_FIELD_KIND_UTF8;
  properties[0].value.value.bytes = view(options.name);
  properties[1].key = view("capabilities");
  properties[1].value.kind = AMQP_FIELD_KIND_TABLE;
  properties[1].value.value.table = amqp_table_t{5, capabilities};
  amqp_table_t client_properties{2, properties};

  auto reply = amqp_login_with_properties(
    st.get(), address.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE,
    static_cast<int>(options.heartbeat.count()), &client_properties, AMQP_SASL_METHOD_PLAIN,
    address.user.c_str(), address.password.c_str());
  if (failure f = describe(reply, "login to " + address.masked()))
    return detail::explain_login_failure(st.get(), address, std::move(f));

  auto new_poll = detail::allocate_handle<uv_poll_t>();
  if (int prc = uv_poll_init_socket(&loop, new_poll.get(), amqp_get_sockfd(st.get())); prc != 0) {
    std::unique_ptr<uv_poll_t> never_initialised(new_poll.release());
    return failure{failure_scope::connection, 0,
                   std::string("watch the socket: ") + uv_strerror(prc)};
  }
  new_poll->data = this;
  poll = std::move(new_poll);
  start_polling();
  state = std::move(st);
  life.on_connected();
  is_connected = true;
  is_blocked = false;
  ++connects;
  last_read = last_pass = heartbeat_sent = library_refreshed = clock_type::now();
  if (address.tls)
    reader.reset();
  else if (reader)
    reader->clear();
  else
    reader = std::make_unique<detail::frame_reader>();
  heartbeat = std::chrono::seconds{amqp_get_heartbeat(state.get())};
  if (heartbeat.count() > 0) {
    auto interval = std::max<std::int64_t>(250, heartbeat.count() * 1000 / 4);
    uv_timer_start(&heartbeat_timer, callback<&impl::on_heartbeat, work::reads>,
                   static_cast<std::uint64_t>(interval), static_cast<std::uint64_t>(interval));
  }
  for (auto& [id, reg] : channels)
    open_channel(*reg);
  note_health();
  return {};
}

void connection::impl::on_reconnect() {
  failure f = connect_now();
  if (!f) {
    spdlog::info("amqp connection '{}' to {}: reconnected after {} attempt(s)", options.name,
                 address.masked(), reconnect_backoff.attempts());
    last_logged.clear();
    return;
  }
  auto delay = next_retry_delay();
  if (f.message != last_logged) {
    spdlog::warn("amqp connection '{}': reconnect failed: {}; retrying with backoff", options.name,
                 f.message);
    last_logged = f.message;
  } else {
    spdlog::debug("amqp connection '{}': reconnect failed again: {}; next in {} ms",
                  options.name, f.message, delay.count());
  }
  uv_timer_start(&reconnect_timer, callback<&impl::on_reconnect, work::sends>,
                 static_cast<std::uint64_t>(delay.count()), 0);
}

amqp_channel_t connection::impl::free_channel_id() const {
  amqp_channel_t id = 1;
  for (const auto& [used, reg] : channels) {
    if (used != id)
      break;
    ++id;
  }
  return id;
}

void connection::impl::open_channel(registration& reg) {
  if (!life.is_usable())
    return;
  if (amqp_channel_open(state.get(), reg.ch.id_) == nullptr) {
    failure f = describe(amqp_get_rpc_reply(state.get()),
                         "open channel " + std::to_string(reg.ch.id_));
    report(reg.ch.id_, f, f.code != 0);
    return;
  }
  last_read = clock_type::now();
  reg.ch.open_ = true;
  reg.ch.failing_ = false;
  ++reg.ch.epoch_;
  reg.opened_at = clock_type::now();
  if (failure f = reg.user->on_open(reg.ch))
    report(reg.ch.id_, f, f.code != 0);
  note_health();
}

amqp_channel_t connection::impl::attach(std::shared_ptr<channel_user> user) {
  if (life.is_shutting_down())
    return 0;
  auto reg = std::make_unique<registration>();
  reg->home = this;
  reg->user = std::move(user);
  reg->ch.owner_ = owner;
  reg->ch.id_ = free_channel_id();
  reg->retry_backoff = backoff(options.reconnect);
  reg->retry_timer = detail::allocate_handle<uv_timer_t>();
  uv_timer_init(&loop, reg->retry_timer.get());
  reg->retry_timer->data = reg.get();
  auto id = reg->ch.id_;
  auto& ref = *reg;
  channels.emplace(id, std::move(reg));
  open_channel(ref);
  return id;
}

void connection::impl::detach(amqp_channel_t id) {
  auto it = channels.find(id);
  if (it == channels.end())
    return;
  auto& reg = *it->second;
  if (reg.ch.is_usable()) {
    reg.user->on_closing(reg.ch);
    if (reg.ch.is_usable()) {
      auto reply = amqp_channel_close(state.get(), id, AMQP_REPLY_SUCCESS);
      if (failure f = describe(reply, "close channel " + std::to_string(id));
          f.scope == failure_scope::connection)
        report(0, f, false);
    }
  }
  channels.erase(it);
  note_health();
}

failure connection::impl::with_temporary_channel(const std::function<failure(channel&)>& work) {
  if (!life.is_usable())
    return failure{failure_scope::connection, 0, "not connected to " + address.endpoint()};
  channel ch;
  ch.owner_ = owner;
  ch.id_ = free_channel_id();
  if (amqp_channel_open(state.get(), ch.id_) == nullptr) {
    failure f = describe(amqp_get_rpc_reply(state.get()), "open channel");
    report(ch.id_, f, f.code != 0);
    return f;
  }
  ch.open_ = true;
  ch.epoch_ = 1;
  failure f = work(ch);
  // The RPCs read their replies inside rabbitmq-c, not through on_readable: an answer is proof
  // of life all the same, so a connection used only for RPCs is not taken for a dead peer.
  if (f.scope != failure_scope::connection)
    last_read = clock_type::now();
  if (f.scope == failure_scope::none && !ch.failing_) {
    auto reply = amqp_channel_close(state.get(), ch.id_, AMQP_REPLY_SUCCESS);
    if (failure c = describe(reply, "close channel"); c.scope == failure_scope::connection)
      report(0, c, false);
  } else if (f.scope != failure_scope::none && !ch.failing_) {
    report(ch.id_, f, f.code != 0);
  }
  return f;
}

void connection::impl::shutdown() {
  life.on_shutdown();
  uv_timer_stop(&reconnect_timer);
  std::vector<amqp_channel_t> ids;
  for (auto& [id, reg] : channels)
    ids.push_back(id);
  for (auto id : ids) {
    detach(id);
    apply_pending();
  }
  if (life.has_socket()) {
    amqp_connection_close(state.get(), AMQP_REPLY_SUCCESS);
    poll.reset();
    state.reset();
    is_connected = false;
  }
  life.on_closed();
  close_handles();
}

// --- connection ---

connection::connection(passkey, std::unique_ptr<impl> i) : impl_(std::move(i)) {}

expected<std::shared_ptr<connection>> connection::open(connection_options options) {
  auto address = parse_url(options.url);
  if (!address)
    return address.err();
  auto conn = std::make_shared<connection>(
    passkey{}, std::make_unique<impl>(std::move(options), std::move(*address)));
  auto* i = conn->impl_.get();
  i->owner = conn.get();
  std::promise<failure> first;
  auto first_result = first.get_future();
  i->thread = std::thread([i, p = std::move(first)]() mutable { i->run(std::move(p)); });
  failure f = first_result.get();
  if (f) {
    i->thread.join();
    return f.to_error();
  }
  spdlog::info("amqp connection '{}' to {}: open", i->options.name, i->address.masked());
  return conn;
}

connection::~connection() {
  if (!impl_ || !impl_->thread.joinable())
    return;
  if (in_connection_thread()) {
    spdlog::critical("amqp connection '{}': destroyed on its own thread; leaking it",
                     impl_->options.name);
    impl_->thread.detach();
    [[maybe_unused]] auto* leaked = impl_.release();
    return;
  }
  auto* i = impl_.get();
  if (!impl_->box->post([i] { i->shutdown(); })) {
    impl_->thread.join();
    return;
  }
  impl_->thread.join();
}

bool connection::post(std::function<void()> command) { return impl_->box->post(std::move(command)); }

const std::shared_ptr<amqp::mailbox>& connection::mailbox() const noexcept { return impl_->box; }

bool connection::run_sync(std::function<void()> command) {
  if (in_connection_thread()) {  // e.g. a confirm callback dropping the last publisher
    command();
    return true;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  if (!post([command = std::move(command), done] {
        command();
        done->set_value();
      }))
    return false;
  try {
    finished.get();
    return true;
  } catch (const std::future_error&) {
    return false;  // dropped unrun: the connection shut down
  }
}

connection_stats connection::stats() const noexcept {
  const auto& i = *impl_;
  return connection_stats{i.connects.load(),           i.losses.load(),
                          i.channel_losses.load(),     i.blocked_count.load(),
                          i.is_connected.load(),       i.is_blocked.load(),
                          i.first_retry_attempt.load(), i.retry_attempts.load()};
}

std::uint64_t connection::unclean_loop_closes() noexcept { return unclean_closes.load(); }

const connection_options& connection::options() const noexcept { return impl_->options; }
const amqp::url& connection::address() const noexcept { return impl_->address; }
bool connection::in_connection_thread() const noexcept {
  return impl_->thread_id.load() == std::this_thread::get_id();
}
amqp_channel_t connection::attach(std::shared_ptr<channel_user> user) {
  return impl_->attach(std::move(user));
}
void connection::detach(amqp_channel_t id) { impl_->detach(id); }
std::uint64_t connection::set_alarm(std::chrono::steady_clock::time_point due, std::function<void()> work) {
  return impl_->set_alarm(due, std::move(work));
}
void connection::cancel_alarm(std::uint64_t alarm) { impl_->cancel_alarm(alarm); }
failure connection::with_temporary_channel(const std::function<failure(channel&)>& work) {
  return impl_->with_temporary_channel(work);
}
bool connection::is_connected() const noexcept { return impl_->life.has_socket(); }

} // namespace causeway::amqp
