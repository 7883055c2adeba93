#include "causeway/amqp/queue_source.hpp"

#include "causeway/amqp/channel_group.hpp"
#include "causeway/amqp/queue_channel.hpp"
#include "causeway/amqp/topology_declaration.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

namespace causeway::amqp {

namespace detail {

// The group the source's next producer joins. Producer i joins the open group while that
// group has i members and none of them started: producers 0..N-1 of one topology (made in
// that order before any starts) form one group; any other producer opens a new one.
struct group_formation {
  std::mutex mutex;
  std::weak_ptr<channel_group> open;  // its members own it; it holds their stages' sinks
};

} // namespace detail

namespace {

// RabbitMQ refuses messages over 512 MiB whatever its max_message_size says.
constexpr std::size_t max_body_size_limit = 512 * 1024 * 1024;

// One producer stage: one channel on the source's connection, member `position` of `group`.
class amqp_producer final : public causeway::producer {
public:
  amqp_producer(std::shared_ptr<amqp::connection> conn, const queue_source_options& options,
                std::shared_ptr<detail::queue_channel_counters> counters, std::size_t index,
                std::shared_ptr<detail::channel_group> group, std::size_t position)
    : connection_(std::move(conn)),
      options_(options),
      counters_(std::move(counters)),
      index_(index),
      group_(std::move(group)),
      position_(position) {}

  ~amqp_producer() override {
    if (consumer_ && !stopped_)
      stop();
  }

  void start(producer_sink sink) override {
    auto name = connection_->options().name + "/" + options_.queue + "#" + std::to_string(index_);
    sink_ = sink;
    group_->seal();
    consumer_ = std::make_shared<detail::queue_channel>(options_, std::move(name), group_, position_, counters_);
    consumer_->init(connection_->mailbox());
    auto* conn = connection_.get();
    // The channels consume once every stage of the group has a sink to receive what they read.
    auto started = [g = group_, position = position_, sink = std::move(sink),
                    weak = std::weak_ptr<detail::queue_channel>(consumer_), conn] {
      g->start_member(position, sink, [weak, conn] {
        if (auto c = weak.lock())
          c->attach_to(*conn);
      });
    };
    if (!connection_->post(std::move(started)))
      spdlog::error("amqp producer {}: its connection is shut down", index_);
  }

  void prepare_for_draining() override {
    if (!consumer_ || !connection_->post([c = consumer_] { c->start_draining(); }))
      sink_.drained();  // nothing can arrive any more
  }

  void fail_in_flight(std::string_view reason) override {
    // What the stages finished is acknowledged first; only the rest goes back to the queue.
    if (consumer_ && options_.release_held)
      options_.release_held();
    if (consumer_)
      connection_->post([c = consumer_, why = std::string(reason)] { c->fail_pending(why); });
  }

  void stop() override {
    if (stopped_ || !consumer_)
      return;
    stopped_ = true;
    if (options_.release_held)
      options_.release_held();  // its acknowledgements are posted before the close below
    auto* conn = connection_.get();
    connection_->run_sync([c = consumer_, conn] { c->close(*conn); });
  }

private:
  std::shared_ptr<amqp::connection> connection_;
  queue_source_options options_;
  std::shared_ptr<detail::queue_channel_counters> counters_;
  std::size_t index_;
  std::shared_ptr<detail::channel_group> group_;
  std::size_t position_;
  producer_sink sink_;
  std::shared_ptr<detail::queue_channel> consumer_;
  bool stopped_ = false;
};

} // namespace

expected<void> validate(const queue_source_options& options) {
  if (options.queue.empty())
    return error{"queue must be a queue name, got an empty string"};
  if (options.queue.size() > 255)
    return error{"queue must be at most 255 bytes long, got " + std::to_string(options.queue.size())};
  if (options.prefetch_count == 0)
    return error{"prefetch_count must be in 1..65535, got 0"};
  if (options.max_body_size < 1 || options.max_body_size > max_body_size_limit)
    return error{"max_body_size must be in 1.." + std::to_string(max_body_size_limit) + " bytes, got " +
                 std::to_string(options.max_body_size)};
  if (options.connection.heartbeat.count() < 0 || options.connection.heartbeat.count() > 65535)
    return error{"heartbeat must be in 0..65535 s, got " + std::to_string(options.connection.heartbeat.count())};
  if (options.connection.flush_interval.count() < 1)
    return error{"flush_interval must be at least 1 ms, got " +
                 std::to_string(options.connection.flush_interval.count())};
  if (options.handoff_interval.count() < 1 || options.handoff_interval.count() > 1000)
    return error{"handoff_interval must be in 1..1000 ms, got " + std::to_string(options.handoff_interval.count())};
  for (const auto& b : options.bindings)
    if (b.exchange.empty())
      return error{"bindings: exchange must be an exchange name (the default exchange cannot be bound)"};
  return {};
}

queue_source::queue_source(queue_source_options options, std::shared_ptr<amqp::connection> connection)
  : options_(std::move(options)),
    connection_(std::move(connection)),
    counters_(std::make_shared<detail::queue_channel_counters>()),
    groups_(std::make_shared<detail::group_formation>()) {}

expected<std::shared_ptr<queue_source>>
queue_source::open(queue_source_options options, std::shared_ptr<amqp::connection> shared) {
  if (auto valid = validate(options); !valid)
    return valid.err();
  if (!shared) {
    auto opened = connection::open(options.connection);
    if (!opened)
      return opened.err();
    shared = std::move(*opened);
  }
  topology_spec topology;
  if (options.declare) {
    const auto& d = *options.declare;
    topology.queues.push_back({options.queue, d.durable, d.exclusive, d.auto_delete, d.args});
  }
  for (const auto& b : options.bindings)
    topology.bindings.push_back({options.queue, b.exchange, b.routing_key, b.args});
  if (auto declared = declare(*shared, topology); !declared)
    return declared.err();
  if (!options.declare) {
    if (auto exists = inspect_queue(*shared, options.queue); !exists)
      return exists.err();
  }
  return std::make_shared<queue_source>(std::move(options), std::move(shared));
}

producer_factory queue_source::factory() {
  // The factory keeps what producers need alive, not the source object itself.
  return [conn = connection_, options = options_, counters = counters_, groups = groups_](std::size_t index)
           -> std::unique_ptr<causeway::producer> {
    std::shared_ptr<detail::channel_group> group;
    std::size_t position = 0;
    {
      std::lock_guard lock(groups->mutex);
      group = groups->open.lock();
      if (!group || group->is_sealed() || group->size() != index) {
        group = std::make_shared<detail::channel_group>(options, counters);
        groups->open = group;
      }
      position = group->join();
    }
    return std::make_unique<amqp_producer>(conn, options, counters, index, std::move(group), position);
  };
}

queue_source_stats queue_source::stats() const noexcept {
  const auto& c = *counters_;
  return queue_source_stats{c.delivered.load(),  c.handoffs.load(),     c.deferred_handoffs.load(),
                            c.redelivered.load(), c.recycled.load(),     c.acked.load(),        c.rejected.load(),
                            c.requeued.load(),    c.ack_frames.load(),   c.dropped_acks.load(),
                            c.oversized.load(),   c.malformed.load(),    c.window_full.load(),
                            static_cast<double>(c.window_full_ns.load()) / 1e9};
}

expected<producer_factory> make_producer_factory(queue_source_options options) {
  auto source = queue_source::open(std::move(options));
  if (!source)
    return source.err();
  return (*source)->factory();
}

} // namespace causeway::amqp
