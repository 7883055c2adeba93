// bench_rabbitmq — drains a preloaded queue through Causeway and through a minimal rabbitmq-c
// consumer, on the same broker in the same run, and compares them.
//
//   bench_rabbitmq --url amqp://guest:guest@127.0.0.1:12672/%2f --broker-pid PID
//                  [--messages 200000] [--size 100] [--prefetch 1000] [--rounds 3]
//
// Causeway: 1 producer (prefetch 1000), 2 processors, 1 batcher of 100, no-op handlers; acks
// coalesced by the AMQP producer. Baseline: one rabbitmq-c consumer, prefetch 1000, a
// multiple-ack every 100 messages. Both queues hold the same persistent ~100-byte messages.
// Broker CPU comes from /proc/PID/stat of the broker's beam.smp. The last line is one JSON
// object (bench/run.sh contract): name, msgs_per_s, peak_rss_mib, ratio, baseline_msgs_per_s,
// broker_cpu_s_per_100k, baseline_broker_cpu_s_per_100k, ...
#include "causeway/amqp/queue_source.hpp"
#include "causeway/amqp/publisher.hpp"
#include "causeway/amqp/topology_declaration.hpp"
#include "causeway/handler.hpp"
#include "causeway/pipeline.hpp"
#include "causeway/runtime.hpp"
#include "support/bench_support.hpp"
#include "support/command_line.hpp"

#include <caf/actor_system.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace amqp = causeway::amqp;
using namespace std::chrono_literals;
using bench::clock_type;
using bench::own_cpu_seconds;
using bench::peak_rss_mib;
using bench::process_cpu_seconds;
using bench::thread_cpu_seconds;
using bench::wait_until_broker_idle;

namespace {

struct settings {
  std::string url = "amqp://guest:guest@127.0.0.1:5672/%2f";
  long broker_pid = 0;
  std::size_t messages = 200000;
  std::size_t size = 100;
  std::uint16_t prefetch = 1000;
  int rounds = 3;
};

using result = bench::drain_result;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bench_rabbitmq: %s\n", why.c_str());
  std::printf("{\"name\":\"rabbitmq\",\"error\":\"%s\"}\n", why.c_str());
  std::exit(1);
}

settings parse(int argc, char** argv) {
  settings s;
  CLI::App app{"Drains a preloaded queue through Causeway and through a minimal rabbitmq-c consumer.",
               "bench_rabbitmq"};
  bench::last_one_wins(app);
  app.add_option("--url", s.url, "broker URL");
  app.add_option("--broker-pid", s.broker_pid, "the broker's pid, for its CPU time")->check(CLI::NonNegativeNumber);
  app.add_option("--messages", s.messages, "messages per drain")->check(bench::multiple_of_100);
  app.add_option("--size", s.size, "body bytes")->check(CLI::Range(std::size_t{16}, std::size_t{1} << 20));
  app.add_option("--prefetch", s.prefetch, "prefetch_count of both consumers")->check(CLI::Range(1, 65535));
  app.add_option("--rounds", s.rounds, "rounds; the best of each side counts")->check(CLI::Range(1, 100));
  bench::parse_command_line(app, argc, argv, "rabbitmq");
  return s;
}

amqp::connection_options connection(const settings& s, std::string name) {
  amqp::connection_options o;
  o.url = s.url;
  o.name = std::move(name);
  return o;
}

void preload(const settings& s, const std::string& queue) {
  bench::preload_options options;
  options.url = s.url;
  options.connection_name = "bench-preload";
  options.routing_key = queue;
  options.messages = s.messages;
  auto loaded = bench::preload(options, [&s](std::size_t i, amqp::outgoing_message& msg) {
    // The message's number, then filler: every body is s.size bytes.
    msg.body.assign(s.size, 'x');
    auto n = std::to_string(i);
    std::copy(n.begin(), n.end(), msg.body.begin());
  });
  if (!loaded)
    die(loaded.err().message);
}

result run_baseline(const settings& s, const std::string& queue) {
  bench::baseline_options options;
  options.url = s.url;
  options.broker_pid = s.broker_pid;
  options.messages = s.messages;
  options.prefetch = s.prefetch;
  options.ack_every = 100;
  auto drained = bench::run_baseline(options, queue);
  if (!drained)
    die(drained.err().message);
  return *drained;
}

// --- Causeway ---------------------------------------------------------------------------

class noop_handler : public causeway::handler {
public:
  void handle_message(causeway::message&, const causeway::context&) override {}
  void handle_batch(std::span<causeway::message> batch, const causeway::batch_info&,
                    const causeway::context&) override {
    handled.fetch_add(batch.size(), std::memory_order_relaxed);
  }
  std::atomic<std::uint64_t> handled{0};
};

result run_causeway(const settings& s, const std::string& queue) {
  amqp::queue_source_options options;
  options.connection = connection(s, "bench-causeway");
  options.queue = queue;
  options.prefetch_count = s.prefetch;
  auto source = amqp::queue_source::open(options);
  if (!source)
    die(source.err().message);

  causeway::pipeline_options shape;
  shape.name = "bench";
  shape.producer.concurrency = 1;
  shape.processors.concurrency = 2;
  causeway::batcher_options batcher;
  batcher.name = "default";
  batcher.batch_size = 100;
  batcher.batch_timeout = 100ms;
  shape.batchers.push_back(batcher);

  auto handler = std::make_shared<noop_handler>();
  causeway::runtime_config cfg{2};
  caf::actor_system system{cfg};
  causeway::pipeline_spec spec;
  spec.options = shape;
  spec.handler = handler;
  spec.make_producer = (*source)->factory();

  double broker_before = process_cpu_seconds(s.broker_pid);
  double client_before = own_cpu_seconds();
  auto threads_before = thread_cpu_seconds();
  auto started = clock_type::now();
  auto p = causeway::pipeline::start(system, std::move(spec));
  if (!p)
    die(p.err().message);
  while (handler->handled.load() < s.messages)
    std::this_thread::sleep_for(1ms);
  // Done when every message is also acknowledged.
  while ((*source)->stats().acked < s.messages)
    std::this_thread::sleep_for(1ms);
  auto seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  auto stats = (*source)->stats();
  std::string per_thread;
  for (const auto& [name, cpu] : thread_cpu_seconds()) {
    double used = cpu - (threads_before.count(name) ? threads_before[name] : 0.0);
    if (used > 0.005)
      per_thread += " " + name + "=" + std::to_string(used * 100000.0 / static_cast<double>(s.messages)).substr(0, 5);
  }
  std::fprintf(stderr, "  client CPU-s/100k by thread:%s; %.0f messages per hand-off, %.0f per ack\n",
               per_thread.c_str(), static_cast<double>(stats.delivered) / static_cast<double>(std::max<std::uint64_t>(1, stats.handoffs)),
               static_cast<double>(stats.acked) / static_cast<double>(std::max<std::uint64_t>(1, stats.ack_frames)));
  p->drain();
  p->stop();
  result out;
  out.msgs_per_s = static_cast<double>(s.messages) / seconds;
  out.broker_cpu_s = process_cpu_seconds(s.broker_pid) - broker_before;
  out.client_cpu_s = own_cpu_seconds() - client_before;
  out.ack_frames = stats.ack_frames;
  return out;
}

double per_100k(double seconds, std::size_t messages) {
  return seconds * 100000.0 / static_cast<double>(messages);
}

} // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  settings s = parse(argc, argv);
  auto admin = amqp::connection::open(connection(s, "bench-admin"));
  if (!admin)
    die(admin.err().message);
  auto suffix = std::to_string(::getpid());
  std::string causeway_queue = "bench_causeway_" + suffix;
  std::string baseline_queue = "bench_baseline_" + suffix;
  amqp::topology_spec topology;
  topology.queues.push_back({causeway_queue, true, false, false, {}});
  topology.queues.push_back({baseline_queue, true, false, false, {}});
  if (auto d = amqp::declare(**admin, topology); !d)
    die(d.err().message);

  std::vector<result> baseline, ours;
  // Every drain has the same history: its queue is filled, the broker settles, it drains.
  // Which contender goes first alternates between rounds.
  for (int round = 0; round < s.rounds; ++round) {
    auto drain_baseline = [&] {
      (void)amqp::purge_queue(**admin, baseline_queue);
      preload(s, baseline_queue);
      wait_until_broker_idle(s.broker_pid);
      baseline.push_back(run_baseline(s, baseline_queue));
      std::fprintf(stderr, "  rabbitmq-c consumer: %.0f msgs/s, broker %.2f CPU-s/100k\n",
                   baseline.back().msgs_per_s, per_100k(baseline.back().broker_cpu_s, s.messages));
    };
    auto drain_causeway = [&] {
      (void)amqp::purge_queue(**admin, causeway_queue);
      preload(s, causeway_queue);
      wait_until_broker_idle(s.broker_pid);
      ours.push_back(run_causeway(s, causeway_queue));
      std::fprintf(stderr, "  causeway pipeline:   %.0f msgs/s, broker %.2f CPU-s/100k\n",
                   ours.back().msgs_per_s, per_100k(ours.back().broker_cpu_s, s.messages));
    };
    std::fprintf(stderr, "round %d of %d: %zu persistent %zu-byte messages per drain\n", round + 1,
                 s.rounds, s.messages, s.size);
    if (round % 2 == 0) {
      drain_baseline();
      drain_causeway();
    } else {
      drain_causeway();
      drain_baseline();
    }
  }
  (void)amqp::delete_queue(**admin, causeway_queue);
  (void)amqp::delete_queue(**admin, baseline_queue);

  // The best round of each: noise on a shared machine only ever slows a run down, and the
  // broker has a slow regime (about twice its CPU per message, small delivery bursts) that
  // either contender can fall into on a busy machine.
  auto best = [](const std::vector<result>& runs) {
    return *std::max_element(runs.begin(), runs.end(),
                             [](const result& a, const result& b) { return a.msgs_per_s < b.msgs_per_s; });
  };
  result b = best(baseline), c = best(ours);
  double ratio = c.msgs_per_s / b.msgs_per_s;
  std::printf("messages            %zu x %zu bytes, persistent, prefetch %u\n", s.messages, s.size, s.prefetch);
  std::printf("rabbitmq-c consumer %10.0f msgs/s  broker %.2f CPU-s/100k  client %.2f CPU-s/100k  %llu acks\n",
              b.msgs_per_s, per_100k(b.broker_cpu_s, s.messages), per_100k(b.client_cpu_s, s.messages),
              static_cast<unsigned long long>(b.ack_frames));
  std::printf("causeway pipeline   %10.0f msgs/s  broker %.2f CPU-s/100k  client %.2f CPU-s/100k  %llu acks\n",
              c.msgs_per_s, per_100k(c.broker_cpu_s, s.messages), per_100k(c.client_cpu_s, s.messages),
              static_cast<unsigned long long>(c.ack_frames));
  std::printf("ratio               %.3f (target >= 0.95)\n", ratio);
  std::printf("{\"name\":\"rabbitmq\",\"msgs_per_s\":%.0f,\"peak_rss_mib\":%.1f,\"ratio\":%.3f,"
              "\"baseline_msgs_per_s\":%.0f,\"broker_cpu_s_per_100k\":%.3f,"
              "\"baseline_broker_cpu_s_per_100k\":%.3f,\"client_cpu_s_per_100k\":%.3f,"
              "\"baseline_client_cpu_s_per_100k\":%.3f,\"ack_frames\":%llu,\"baseline_ack_frames\":%llu,"
              "\"messages\":%zu,\"message_bytes\":%zu,\"prefetch\":%u,\"rounds\":%d}\n",
              c.msgs_per_s, peak_rss_mib(), ratio, b.msgs_per_s, per_100k(c.broker_cpu_s, s.messages),
              per_100k(b.broker_cpu_s, s.messages), per_100k(c.client_cpu_s, s.messages),
              per_100k(b.client_cpu_s, s.messages), static_cast<unsigned long long>(c.ack_frames),
              static_cast<unsigned long long>(b.ack_frames), s.messages, s.size, s.prefetch, s.rounds);
  return 0;
}
