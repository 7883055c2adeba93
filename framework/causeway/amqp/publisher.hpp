// publisher.hpp — publish with publisher confirms, at least once, from any thread.
//
// A publisher has one confirm-mode channel on its own connection (publishing connections
// are the ones the broker stops reading under memory or disk alarms; consumers must not
// share that fate). `publish` never blocks: it queues the message for the connection thread,
// which keeps at most `confirm_window` messages unconfirmed on the wire and settles them as
// the broker's basic.ack / basic.nack (often `multiple`) arrive. Each message's callback
// learns its outcome; `publish_batch` gives one callback per batch; `wait_confirmed` waits for
// everything so far. After a reconnect, unconfirmed messages are published again (the broker
// may then hold duplicates: at-least-once). While the broker blocks the connection
// (connection.blocked), publishing pauses. Messages are persistent unless asked otherwise.
#pragma once

#include "causeway/amqp/arguments.hpp"
#include "causeway/amqp/connection.hpp"
#include "causeway/expected.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace causeway::amqp {

struct message_properties {
  std::string content_type;  ///< "application/json"...
  std::string message_id;
  std::string correlation_id;
  std::optional<std::uint64_t> timestamp;  ///< seconds since the epoch
  std::string type;
  std::string expiration;  ///< per-message TTL in ms, as text
  std::optional<std::uint8_t> priority;
  arguments headers;
  bool persistent = true;  ///< delivery mode 2
};

struct outgoing_message {
  std::string exchange;
  std::string routing_key;
  std::string body;
  message_properties properties;
};

enum class publish_outcome : std::uint8_t {
  confirmed,  ///< the broker took responsibility (basic.ack)
  nacked,     ///< the broker refused it (basic.nack): not republished
  abandoned,  ///< the publisher closed before the broker answered
};

/// Runs on the connection thread: keep it short, never wait on the publisher in it.
using confirm_callback = std::function<void(publish_outcome)>;

/// A message the broker routed to no queue and gave back (basic.return): published with
/// `publisher_options::mandatory`, to an exchange with no binding that matched.
struct returned_message {
  std::string exchange;
  std::string routing_key;
  std::uint16_t reply_code = 0;  ///< 312 (NO_ROUTE)
  std::string reply_text;
};

struct publisher_options {
  connection_options connection = default_connection();
  /// Unconfirmed messages on the wire at most; more wait in the publisher.
  std::size_t confirm_window = 1000;
  bool mandatory = false;  ///< unroutable messages are returned (and still confirmed)
  /// Runs on the connection thread for each message the broker returns, before that message's
  /// confirm arrives (the broker confirms a returned message all the same): whoever waits for
  /// the confirm can tell that the message went nowhere. Keep it short. Empty: only counted.
  std::function<void(const returned_message&)> on_return;

  static connection_options default_connection() {
    connection_options o;
    o.name = "causeway-publisher";
    return o;
  }
};

struct publisher_stats {
  std::uint64_t published = 0;    ///< messages published (each body of a publish_each counts)
  std::uint64_t confirmed = 0;
  std::uint64_t nacked = 0;
  std::uint64_t republished = 0;  ///< sent again after a channel or connection loss
  std::uint64_t returned = 0;     ///< routed to no queue and given back (mandatory only)
  std::uint64_t outstanding = 0;  ///< published, not yet confirmed or nacked
  std::uint64_t blocked = 0;      ///< connection.blocked notifications
  bool is_blocked = false;
};

namespace detail {
class publisher_channel;
struct entry;
}

class publisher {
public:
  /// Connects (unless `shared` is a connection to publish on) and opens the confirm channel.
  static expected<std::shared_ptr<publisher>> open(publisher_options options,
                                                   std::shared_ptr<amqp::connection> shared = nullptr);

  /// Closes the channel; messages still unconfirmed are reported abandoned. Call
  /// wait_confirmed first to publish everything.
  ~publisher();
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;

  /// Any thread; never blocks.
  void publish(outgoing_message msg, confirm_callback on_confirm = {});
  void publish(std::string exchange, std::string routing_key, std::string body,
               message_properties properties = {}, confirm_callback on_confirm = {});
  /// Publishes every body, in order, to `exchange` with `routing_key` and `properties`, as
  /// publish() would one by one, but keeps the names and properties once for all of them:
  /// for rounds of messages that differ only in their body. `on_last` gets the outcome of the
  /// last one (confirmed at once when there is none); each counts in stats().published.
  void publish_each(std::string exchange, std::string routing_key, message_properties properties,
                    std::vector<std::string> bodies, confirm_callback on_last = {});
  /// The outcome as a future.
  std::future<publish_outcome> publish_async(outgoing_message msg);
  /// One callback for the batch: confirmed if every message was, otherwise the first other
  /// outcome.
  void publish_batch(std::vector<outgoing_message> batch, confirm_callback on_batch);

  /// Waits until every message published so far is confirmed or nacked; false on timeout.
  /// Not from a confirm callback.
  bool wait_confirmed(std::chrono::milliseconds timeout);

  publisher_stats stats() const;
  const std::shared_ptr<amqp::connection>& connection() const noexcept { return connection_; }

  struct shared_state;
  publisher(std::shared_ptr<amqp::connection> connection, std::shared_ptr<shared_state> state,
            std::shared_ptr<detail::publisher_channel> channel);

private:
  /// Moves `n` entries to the queue the connection thread takes.
  void enqueue(detail::entry* entries, std::size_t n);

  std::shared_ptr<amqp::connection> connection_;
  std::shared_ptr<shared_state> state_;
  std::shared_ptr<detail::publisher_channel> channel_;
};

} // namespace causeway::amqp
