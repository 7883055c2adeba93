#include "causeway/amqp/publisher.hpp"

#include "causeway/amqp/publisher_channel.hpp"

#include <iterator>
#include <utility>

namespace causeway::amqp {

publisher::publisher(std::shared_ptr<amqp::connection> connection, std::shared_ptr<shared_state> state,
                     std::shared_ptr<detail::publisher_channel> channel)
  : connection_(std::move(connection)), state_(std::move(state)), channel_(std::move(channel)) {}

expected<std::shared_ptr<publisher>> publisher::open(publisher_options options,
                                                     std::shared_ptr<amqp::connection> shared) {
  if (!shared) {
    auto opened = connection::open(options.connection);
    if (!opened)
      return opened.err();
    shared = std::move(*opened);
  }
  auto state = std::make_shared<shared_state>();
  auto ch = std::make_shared<detail::publisher_channel>(state, options.confirm_window, options.mandatory,
                                                        std::move(options.on_return));
  std::string failed;
  auto* conn = shared.get();
  bool ran = shared->run_sync([&] {
    auto id = conn->attach(ch);
    ch->set_id(id);
    if (!ch->is_open()) {
      failed = ch->last_failure().empty() ? "cannot open a publishing channel" : ch->last_failure();
      conn->detach(id);
    }
  });
  if (!ran)
    return error{"connection to " + shared->address().endpoint() + " is shut down"};
  if (!failed.empty())
    return error{failed};
  return std::make_shared<publisher>(std::move(shared), std::move(state), std::move(ch));
}

publisher::~publisher() {
  auto* conn = connection_.get();
  // detach first (no more confirms), then report what never got one
  if (!connection_->run_sync([conn, ch = channel_] {
        conn->detach(ch->id());
        ch->abandon_all();
      }))
    channel_->abandon_all();
}

void publisher::publish(outgoing_message msg, confirm_callback on_confirm) {
  auto to = std::make_shared<const detail::envelope>(
    detail::envelope{std::move(msg.exchange), std::move(msg.routing_key), std::move(msg.properties)});
  detail::entry e{std::move(to), std::move(msg.body), std::move(on_confirm)};
  enqueue(&e, 1);
}

void publisher::publish_each(std::string exchange, std::string routing_key, message_properties properties,
                             std::vector<std::string> bodies, confirm_callback on_last) {
  if (bodies.empty()) {
    if (on_last)
      on_last(publish_outcome::confirmed);
    return;
  }
  auto to = std::make_shared<const detail::envelope>(
    detail::envelope{std::move(exchange), std::move(routing_key), std::move(properties)});
  std::vector<detail::entry> entries;
  entries.reserve(bodies.size());
  for (auto& body : bodies)
    entries.push_back(detail::entry{to, std::move(body), nullptr});
  entries.back().on_confirm = std::move(on_last);
  enqueue(entries.data(), entries.size());
}

void publisher::enqueue(detail::entry* entries, std::size_t n) {
  bool was_empty;
  {
    std::lock_guard lock(state_->mutex);
    state_->outstanding += n;
    was_empty = state_->incoming.empty();
    std::move(entries, entries + n, std::back_inserter(state_->incoming));
  }
  state_->published += n;
  if (was_empty && !connection_->post([ch = channel_] { ch->take_incoming(); })) {
    // The connection is gone: nothing will ever confirm these.
    std::vector<detail::entry> dropped;
    {
      std::lock_guard lock(state_->mutex);
      dropped.swap(state_->incoming);
    }
    for (auto& e : dropped)
      if (e.on_confirm)
        e.on_confirm(publish_outcome::abandoned);
    state_->finished(dropped.size());
  }
}

void publisher::publish(std::string exchange, std::string routing_key, std::string body,
                        message_properties properties, confirm_callback on_confirm) {
  publish(outgoing_message{std::move(exchange), std::move(routing_key), std::move(body), std::move(properties)},
          std::move(on_confirm));
}

std::future<publish_outcome> publisher::publish_async(outgoing_message msg) {
  auto promise = std::make_shared<std::promise<publish_outcome>>();
  auto result = promise->get_future();
  publish(std::move(msg), [promise](publish_outcome outcome) { promise->set_value(outcome); });
  return result;
}

void publisher::publish_batch(std::vector<outgoing_message> batch, confirm_callback on_batch) {
  if (batch.empty()) {
    if (on_batch)
      on_batch(publish_outcome::confirmed);
    return;
  }
  struct tally {
    std::size_t remaining;
    publish_outcome result = publish_outcome::confirmed;
    confirm_callback done;
  };
  // Callbacks all run on the connection thread (or, for abandoned ones, the caller's): the
  // tally needs no lock beyond that, but abandoned-on-publish may race, so guard it anyway.
  auto t = std::make_shared<std::pair<std::mutex, tally>>();
  t->second.remaining = batch.size();
  t->second.done = std::move(on_batch);
  for (auto& msg : batch) {
    publish(std::move(msg), [t](publish_outcome outcome) {
      confirm_callback done;
      publish_outcome result;
      {
        std::lock_guard lock(t->first);
        if (outcome != publish_outcome::confirmed && t->second.result == publish_outcome::confirmed)
          t->second.result = outcome;
        if (--t->second.remaining != 0)
          return;
        done = std::move(t->second.done);
        result = t->second.result;
      }
      if (done)
        done(result);
    });
  }
}

bool publisher::wait_confirmed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->settled.wait_for(lock, timeout, [&] { return state_->outstanding == 0; });
}

publisher_stats publisher::stats() const {
  publisher_stats s;
  s.published = state_->published.load();
  s.confirmed = state_->confirmed.load();
  s.nacked = state_->nacked.load();
  s.republished = state_->republished.load();
  s.returned = state_->returned.load();
  {
    std::lock_guard lock(state_->mutex);
    s.outstanding = state_->outstanding;
  }
  auto c = connection_->stats();
  s.blocked = c.blocked;
  s.is_blocked = c.is_blocked;
  return s;
}

} // namespace causeway::amqp
