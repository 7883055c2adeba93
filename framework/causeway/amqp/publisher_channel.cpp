#include "causeway/amqp/publisher_channel.hpp"

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/field_table.hpp"
#include "causeway/amqp/transport.hpp"

#include <amqp_framing.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace causeway::amqp::detail {

namespace {

// A pass writes what it encoded once it reaches this size, so a window of large messages is
// not copied whole into one more buffer; a window of small ones (1000 aggregates, ~300 KB)
// goes out in one write.
constexpr std::size_t write_threshold = std::size_t{1} << 20;

} // namespace

publisher_channel::publisher_channel(std::shared_ptr<publisher::shared_state> state, std::size_t window,
                                     bool mandatory, std::function<void(const returned_message&)> on_return)
  : state_(std::move(state)),
    window_(std::max<std::size_t>(1, window)),
    mandatory_(mandatory),
    on_return_(std::move(on_return)) {}

void publisher_channel::take_incoming() {
  std::vector<entry> taken;
  {
    std::lock_guard lock(state_->mutex);
    taken.swap(state_->incoming);
  }
  for (auto& e : taken)
    waiting_.push_back(std::move(e));
  pump();
}

void publisher_channel::abandon_all() {
  take_incoming_without_pump();
  std::uint64_t n = 0;
  for (auto& f : in_flight_)
    if (!f.done) {
      notify(f.e, publish_outcome::abandoned);
      ++n;
    }
  for (auto& e : waiting_) {
    notify(e, publish_outcome::abandoned);
    ++n;
  }
  in_flight_.clear();
  waiting_.clear();
  state_->finished(n);
}

failure publisher_channel::on_open(channel& ch) {
  channel_ = &ch;
  amqp_confirm_select(ch.state(), ch.id());
  if (failure f = describe(amqp_get_rpc_reply(ch.state()), "enable publisher confirms")) {
    last_failure_ = f.message;
    return f;
  }
  open_ = true;
  next_seq_ = 1;
  known_exchanges_.clear();
  // Unconfirmed messages of the lost channel go out again, first and in order.
  std::uint64_t again = 0;
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it)
    if (!it->done) {
      waiting_.push_front(std::move(it->e));
      ++again;
    }
  in_flight_.clear();
  unconfirmed_ = 0;
  if (again > 0) {
    state_->republished += again;
    spdlog::info("amqp publisher: republishing {} unconfirmed message(s) after reconnect", again);
  }
  pump();
  return {};
}

void publisher_channel::on_frame(channel&, const amqp_frame_t& frame) {
  if (frame.frame_type != AMQP_FRAME_METHOD)
    return;  // header/body frames of a basic.return
  switch (frame.payload.method.id) {
    case AMQP_BASIC_RETURN_METHOD: {
      // Sent before the returned message's basic.ack: count it first, so that its confirm
      // callback finds it counted.
      const auto* m = static_cast<const amqp_basic_return_t*>(frame.payload.method.decoded);
      ++state_->returned;
      if (on_return_ && m != nullptr)
        on_return_(returned_message{std::string(text(m->exchange)), std::string(text(m->routing_key)),
                                    m->reply_code, std::string(text(m->reply_text))});
      break;
    }
    case AMQP_BASIC_ACK_METHOD: {
      const auto* m = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
      settle(m->delivery_tag, m->multiple != 0, publish_outcome::confirmed);
      break;
    }
    case AMQP_BASIC_NACK_METHOD: {
      const auto* m = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
      settle(m->delivery_tag, m->multiple != 0, publish_outcome::nacked);
      break;
    }
    default:
      break;
  }
}

void publisher_channel::on_lost(const failure&) {
  open_ = false;
  channel_ = nullptr;
}

void publisher_channel::on_blocked(bool blocked) {
  blocked_ = blocked;
  if (!blocked)
    pump();
}

void publisher_channel::take_incoming_without_pump() {
  std::vector<entry> taken;
  {
    std::lock_guard lock(state_->mutex);
    taken.swap(state_->incoming);
  }
  for (auto& e : taken)
    waiting_.push_back(std::move(e));
}

// A publish to a missing exchange closes the channel with NOT_FOUND and the message would be
// republished forever: check each exchange once per channel (passive declare) first, and
// fail the messages for one that does not exist.
bool publisher_channel::exchange_exists(const std::string& exchange) {
  if (exchange.empty() || known_exchanges_.contains(exchange))
    return true;
  amqp_exchange_declare(channel_->state(), channel_->id(), view(exchange), amqp_empty_bytes, 1, 0,
                        0, 0, amqp_empty_table);
  auto reply = amqp_get_rpc_reply(channel_->state());
  std::string step = "publish to exchange \"" + exchange + "\"";
  failure f = describe(reply, step);
  if (!f) {
    known_exchanges_.insert(exchange);
    return true;
  }
  if (f.code == 404) {
    std::uint64_t n = 0;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if (it->to->exchange == exchange) {
        notify(*it, publish_outcome::nacked);
        it = waiting_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    state_->nacked += n;
    state_->finished(n);
    spdlog::error("amqp publisher: {}; {} message(s) failed", f.message, n);
  }
  channel_->check(reply, step);
  return false;
}

bool publisher_channel::can_publish() const noexcept {
  return open_ && !blocked_ && channel_ != nullptr && channel_->is_usable();
}

// Encodes every message the window allows into one buffer of frames and writes it in one
// go: rabbitmq-c's amqp_basic_publish would make three send() calls per message.
//
// A message gets its sequence number and moves to in_flight_ as it is encoded. When the
// write fails the connection is dropped (every send failure is connection-level), and
// on_open puts everything in in_flight_ that is not done, these messages included, back in
// front of waiting_ in order: nothing is lost, and duplicates are only the ones at-least-once
// republishing allows anyway.
void publisher_channel::pump() {
  std::size_t encoded = 0;  // messages at the back of in_flight_ whose frames are in out_
  while (can_publish() && !waiting_.empty() && unconfirmed_ < window_) {
    entry& e = waiting_.front();
    if (!e.to->exchange.empty() && !known_exchanges_.contains(e.to->exchange)) {
      // The passive declare must not overtake the publishes encoded before it.
      if (!write_encoded(encoded))
        return;
      encoded = 0;
      if (!exchange_exists(e.to->exchange))
        return;
    }
    if (int rc = encode(e); rc != AMQP_STATUS_OK) {
      // The message itself cannot be sent (a name over 255 bytes, properties larger than a
      // frame): nothing of it went out, so the channel is fine. Sending it again would fail
      // again, so it is nacked, once, and the rest goes on.
      spdlog::error("amqp publisher: cannot publish to exchange \"{}\" with routing key of {} "
                    "bytes: {}; message nacked", e.to->exchange, e.to->routing_key.size(),
                    amqp_error_string2(rc));
      notify(e, publish_outcome::nacked);
      waiting_.pop_front();
      ++state_->nacked;
      state_->finished(1);
      continue;
    }
    in_flight_.push_back(sent{next_seq_++, std::move(e)});
    ++unconfirmed_;
    waiting_.pop_front();
    ++encoded;
    if (out_.size() >= write_threshold && !write_encoded(std::exchange(encoded, 0)))
      return;
  }
  write_encoded(encoded);
}

// Writes the frames pump() encoded (`count` messages) to the socket (through TLS on an amqps
// connection), waiting up to rpc_timeout whenever it takes nothing. Only the connection
// thread touches the socket, and
// rabbitmq-c never leaves half a frame behind (its sends finish before they return), so
// ours go between its frames. rabbitmq-c's heartbeat bookkeeping does not see these writes:
// it may send a heartbeat it did not need to, which is harmless. (amqp_basic_publish also
// looked for an overdue broker heartbeat first; the connection's heartbeat timer does that.)
bool publisher_channel::write_encoded(std::size_t count) {
  if (out_.empty())
    return true;
  int rc = write_raw(channel_->state(), channel_->owner().address(), out_.bytes(),
                     channel_->owner().options().rpc_timeout);
  int why = errno;
  out_.clear();
  if (rc == AMQP_STATUS_OK)
    return true;
  std::string step = "publish " + std::to_string(count) + " message(s)";
  if (rc == AMQP_STATUS_SOCKET_ERROR)
    step += std::string(" (") + std::strerror(why) + ")";
  return channel_->check_status(rc, step);
}

int publisher_channel::encode(const entry& e) {
  const auto& p = e.to->properties;
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  props.delivery_mode = p.persistent ? 2 : 1;
  if (!p.content_type.empty()) {
    props._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
    props.content_type = view(p.content_type);
  }
  if (!p.message_id.empty()) {
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    props.message_id = view(p.message_id);
  }
  if (!p.correlation_id.empty()) {
    props._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
    props.correlation_id = view(p.correlation_id);
  }
  if (p.timestamp) {
    props._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    props.timestamp = *p.timestamp;
  }
  if (!p.type.empty()) {
    props._flags |= AMQP_BASIC_TYPE_FLAG;
    props.type = view(p.type);
  }
  if (!p.expiration.empty()) {
    props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
    props.expiration = view(p.expiration);
  }
  if (p.priority) {
    props._flags |= AMQP_BASIC_PRIORITY_FLAG;
    props.priority = *p.priority;
  }
  field_table headers(p.headers);
  if (!p.headers.empty()) {
    props._flags |= AMQP_BASIC_HEADERS_FLAG;
    props.headers = headers.get();
  }
  basic_publish publish;
  publish.channel = channel_->id();
  publish.exchange = e.to->exchange;
  publish.routing_key = e.to->routing_key;
  publish.mandatory = mandatory_;
  publish.properties = &props;
  publish.body = e.body;
  return out_.append_publish(publish, static_cast<std::size_t>(amqp_get_frame_max(channel_->state())));
}

void publisher_channel::settle(std::uint64_t tag, bool multiple, publish_outcome outcome) {
  // The counters move before the callbacks run: a caller woken by its callback finds its
  // message counted in stats().
  auto settles = [tag](const sent& f) { return !f.done && f.seq <= tag; };
  std::uint64_t n = 0;
  auto single = in_flight_.end();
  if (multiple) {
    for (const auto& f : in_flight_) {
      if (f.seq > tag)
        break;
      n += settles(f) ? 1 : 0;
    }
  } else {
    single = std::lower_bound(in_flight_.begin(), in_flight_.end(), tag,
                              [](const sent& f, std::uint64_t t) { return f.seq < t; });
    if (single != in_flight_.end() && single->seq == tag && !single->done)
      n = 1;
    else
      single = in_flight_.end();
  }
  unconfirmed_ -= std::min(unconfirmed_, n);
  (outcome == publish_outcome::confirmed ? state_->confirmed : state_->nacked) += n;
  if (multiple) {
    for (auto& f : in_flight_) {
      if (f.seq > tag)
        break;
      if (settles(f)) {
        f.done = true;
        notify(f.e, outcome);
      }
    }
  } else if (single != in_flight_.end()) {
    single->done = true;
    notify(single->e, outcome);
  }
  while (!in_flight_.empty() && in_flight_.front().done)
    in_flight_.pop_front();
  state_->finished(n);
  pump();
}

void publisher_channel::notify(entry& e, publish_outcome outcome) {
  if (e.on_confirm)
    e.on_confirm(outcome);
}

} // namespace causeway::amqp::detail
