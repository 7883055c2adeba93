#include "telluride/tools/queue_tap.hpp"

#include "telluride/tools/route_table.hpp"
#include "telluride/tools/tool_support.hpp"

#include <causeway/acknowledger.hpp>
#include <causeway/amqp/queue_source.hpp>
#include <causeway/atoms.hpp>
#include <causeway/producer.hpp>
#include <causeway/runtime.hpp>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <unistd.h>

namespace telluride::tools {

struct queue_tap::impl {
  causeway::runtime_config cfg{1};
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  std::shared_ptr<causeway::amqp::queue_source> source;
  std::unique_ptr<causeway::producer> producer;
  std::string queue;

  ~impl() {
    if (producer)
      producer->stop();  // closes the channel: unacked messages return to the queue
    producer.reset();
    source.reset();  // the last owner of the connection: closes it (a private queue goes)
  }
};

queue_tap::queue_tap(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

queue_tap::~queue_tap() = default;

causeway::expected<std::unique_ptr<queue_tap>> queue_tap::open(tap_options options) {
  namespace amqp = causeway::amqp;
  amqp::queue_source_options consume;
  consume.connection = std::move(options.connection);
  consume.prefetch_count = options.prefetch_count;
  consume.on_failure = options.is_stream ? amqp::failure_policy::ack : amqp::failure_policy::reject_and_requeue;
  consume.consume_arguments = std::move(options.consume_arguments);
  consume.max_body_size = options.max_body_size;
  consume.handoff_interval = options.handoff_interval;
  // A stream's acks only grant credit, and a tap settles a whole hand-off at once: flushed
  // in the wake-up that settles them rather than by a flush timer after it.
  if (options.is_stream)
    consume.ack_batch = 1;
  const bool is_private = options.queue.empty();
  if (is_private) {
    // The framework's consumer redeclares its queue by name after a reconnect, so the private
    // queue is named here rather than by the broker.
    consume.queue = !options.private_queue.empty()
                      ? options.private_queue
                      : "telluride-tap." + std::to_string(::getpid()) + "." + random_hex_id();
    consume.declare = amqp::queue_declaration{false, true, true, {}};
    consume.bindings.push_back({options.exchange, options.routing_key, {}});
  } else {
    consume.queue = std::move(options.queue);
  }
  auto conn = amqp::connection::open(consume.connection);
  if (!conn)
    return conn.err();
  if (is_private && options.declare_exchange) {
    if (auto declared = ensure_exchange(**conn, options.exchange); !declared)
      return declared.err();
  }
  auto state = std::make_unique<impl>();
  state->queue = consume.queue;
  auto source = amqp::queue_source::open(std::move(consume), std::move(*conn));
  if (!source)
    return source.err();
  state->source = std::move(*source);
  state->producer = state->source->factory()(0);
  state->producer->start(causeway::producer_sink{caf::actor_cast<caf::actor>(state->self)});
  return std::make_unique<queue_tap>(std::move(state));
}

std::vector<causeway::message> queue_tap::take(std::chrono::milliseconds timeout) {
  std::vector<causeway::message> out;
  impl_->self->receive(
    [&](causeway::deliver_atom, std::vector<causeway::message>& messages) { out = std::move(messages); },
    [](causeway::drained_atom) {},
    caf::after(timeout) >> [] {});
  return out;
}

void queue_tap::acknowledge(std::vector<causeway::message>& done) {
  std::vector<causeway::message> failed;
  causeway::acknowledge(done, failed);
}

const std::string& queue_tap::queue() const noexcept { return impl_->queue; }

} // namespace telluride::tools
