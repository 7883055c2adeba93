// bench_inmemory — Causeway's own overhead: 100-byte messages through producer(1) →
// processors(2) → 2 batchers (batch 100) → batch processors (2 each), no-op handlers, a
// counting acknowledger. A feeder thread keeps at most `window` messages outstanding, so the
// figure includes creating messages and memory stays flat. Prints one JSON line.
//
//   bench_inmemory [--messages N] [--window W] [--workers T]
#include "causeway/in_memory_producer.hpp"
#include "causeway/pipeline.hpp"
#include "causeway/runtime.hpp"
#include "causeway/testing.hpp"
#include "support/command_line.hpp"

#include <caf/actor_system.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

struct noop_handler : causeway::handler {
  void handle_message(causeway::message& msg, const causeway::context&) override {
    // Route by the payload's last byte, as a real handler routes by a key it read.
    msg.put_batcher(msg.data.back() & 1 ? "two" : "one");
  }
};

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

} // namespace

int main(int argc, char** argv) {
  std::uint64_t total = 10'000'000;
  std::uint64_t window = 20'000;
  std::uint64_t workers = 2;
  CLI::App app{"Causeway's own overhead: messages through an in-memory pipeline with no-op handlers.",
               "bench_inmemory"};
  bench::last_one_wins(app);
  app.add_option("--messages", total, "messages to run through")->check(CLI::Range(1ull, 1'000'000'000ull));
  app.add_option("--window", window, "messages outstanding at most")->check(CLI::Range(1ull, 100'000'000ull));
  app.add_option("--workers", workers, "actor system worker threads")->check(CLI::Range(1ull, 256ull));
  bench::parse_command_line(app, argc, argv, "inmemory");
  constexpr std::size_t chunk = 1000;

  causeway::runtime_config cfg{workers};
  caf::actor_system system{cfg};
  auto acks = std::make_shared<causeway::testing::counting_acknowledger>();
  auto feed = causeway::in_memory_feed::make(acks);

  causeway::pipeline_spec spec;
  spec.options.producer.concurrency = 1;
  spec.options.processors.concurrency = 2;
  for (const char* name : {"one", "two"}) {
    causeway::batcher_options b;
    b.name = name;
    b.batch_size = 100;
    b.concurrency = 2;
    b.batch_timeout = std::chrono::milliseconds(100);
    spec.options.batchers.push_back(b);
  }
  spec.handler = std::make_shared<noop_handler>();
  spec.make_producer = feed->factory();
  auto started = causeway::pipeline::start(system, spec);
  if (!started) {
    std::fprintf(stderr, "bench_inmemory: %s\n", started.err().message.c_str());
    return 1;
  }
  auto pipeline = std::move(*started);

  const std::string payload(100, 'x');
  auto cpu_before = cpu_seconds();
  auto begin = std::chrono::steady_clock::now();
  std::uint64_t pushed = 0;
  while (pushed < total) {
    while (pushed - (acks->successful() + acks->failed()) >= window)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    std::vector<causeway::message> batch;
    auto n = std::min<std::uint64_t>(chunk, total - pushed);
    batch.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      batch.emplace_back(payload);
      batch.back().data.back() = static_cast<char>('0' + (pushed + i) % 10);
    }
    feed->push(std::move(batch));
    pushed += n;
  }
  acks->wait_for(total, std::chrono::minutes(10));
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  auto cpu = cpu_seconds() - cpu_before;
  pipeline.drain();

  std::printf("{\"name\": \"inmemory\", \"messages\": %llu, \"seconds\": %.3f, \"msgs_per_s\": %.0f, "
              "\"cpu_us_per_msg\": %.3f, \"peak_rss_mib\": %.1f, \"failed\": %llu, \"workers\": %llu}\n",
              static_cast<unsigned long long>(total), elapsed, static_cast<double>(total) / elapsed,
              cpu * 1e6 / static_cast<double>(total), peak_rss_mib(),
              static_cast<unsigned long long>(acks->failed()), static_cast<unsigned long long>(workers));
  return acks->successful() == total ? 0 : 1;
}
