#include "inmemory/bare_caf.hpp"

#include "causeway/runtime.hpp"
#include "support/bench_support.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace inmemory_bench {

namespace {

using batch = std::vector<std::string>;
using counter = std::shared_ptr<std::atomic<std::uint64_t>>;
constexpr std::size_t batch_size = 100;

/// A no-op batch handler; counts the batch's messages as done.
caf::behavior batch_processor(caf::event_based_actor*, counter done) {
  return {
    [done](batch& in) { done->fetch_add(in.size(), std::memory_order_relaxed); },
  };
}

struct batcher_state {
  batch current;
  std::size_t next = 0;
};

/// Cuts batches of `batch_size`, hands them to its batch processors in turn; flush_atom sends
/// what is left.
caf::behavior batcher(caf::stateful_actor<batcher_state>* self, std::vector<caf::actor> processors) {
  auto emit = [self, processors] {
    self->send(processors[self->state.next++ % processors.size()], std::move(self->state.current));
    self->state.current = batch{};
    self->state.current.reserve(batch_size);
  };
  self->state.current.reserve(batch_size);
  return {
    [self, emit](batch& in) {
      for (auto& m : in) {
        self->state.current.push_back(std::move(m));
        if (self->state.current.size() == batch_size)
          emit();
      }
    },
    [self, emit](caf::flush_atom) {
      if (!self->state.current.empty())
        emit();
    },
  };
}

/// Routes each message by its last byte to batcher "one" or "two", as bench_inmemory's handler.
caf::behavior processor(caf::event_based_actor* self, caf::actor one, caf::actor two) {
  return {
    [self, one, two](batch& in) {
      batch to_one, to_two;
      to_one.reserve(in.size());
      to_two.reserve(in.size());
      for (auto& m : in)
        (m.back() & 1 ? to_two : to_one).push_back(std::move(m));
      if (!to_one.empty())
        self->send(one, std::move(to_one));
      if (!to_two.empty())
        self->send(two, std::move(to_two));
    },
  };
}

/// Splits each vector it is fed between the two processors.
caf::behavior producer(caf::event_based_actor* self, caf::actor first, caf::actor second) {
  return {
    [self, first, second](batch& in) {
      const auto half = static_cast<std::ptrdiff_t>(in.size() / 2);
      batch tail(std::make_move_iterator(in.begin() + half), std::make_move_iterator(in.end()));
      in.resize(static_cast<std::size_t>(half));
      if (!in.empty())
        self->send(first, std::move(in));
      self->send(second, std::move(tail));
    },
  };
}

} // namespace

bare_result run_bare_caf(std::uint64_t total, std::uint64_t window, std::size_t workers, std::size_t chunk) {
  causeway::runtime_config cfg{workers};
  caf::actor_system system{cfg};
  auto done = std::make_shared<std::atomic<std::uint64_t>>(0);
  std::vector<caf::actor> all;
  auto batcher_of = [&] {
    std::vector<caf::actor> bps{system.spawn(batch_processor, done), system.spawn(batch_processor, done)};
    all.insert(all.end(), bps.begin(), bps.end());
    all.push_back(system.spawn(batcher, bps));
    return all.back();
  };
  auto one = batcher_of();
  auto two = batcher_of();
  auto first = system.spawn(processor, one, two);
  auto second = system.spawn(processor, one, two);
  auto head = system.spawn(producer, first, second);
  all.insert(all.end(), {first, second, head});

  const std::string payload(100, 'x');
  const double cpu_before = bench::own_cpu_seconds();
  const auto begin = std::chrono::steady_clock::now();
  std::uint64_t pushed = 0;
  while (pushed < total) {
    while (pushed - done->load(std::memory_order_relaxed) >= window)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    const auto n = std::min<std::uint64_t>(chunk, total - pushed);
    batch in;
    in.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) {
      in.emplace_back(payload);
      in.back().back() = static_cast<char>('0' + (pushed + i) % 10);
    }
    caf::anon_send(head, std::move(in));
    pushed += n;
  }
  // The last partial batches: flushed once nothing moves (Causeway's batch timeout does that).
  auto last = done->load();
  auto quiet_since = std::chrono::steady_clock::now();
  const auto give_up = quiet_since + std::chrono::minutes(10);
  while (done->load() < total && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    auto now = std::chrono::steady_clock::now();
    if (done->load() != last) {
      last = done->load();
      quiet_since = now;
    } else if (now - quiet_since > std::chrono::milliseconds(20)) {
      caf::anon_send(one, caf::flush_atom::value);
      caf::anon_send(two, caf::flush_atom::value);
      quiet_since = now;
    }
  }
  bare_result out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  out.cpu_s = bench::own_cpu_seconds() - cpu_before;
  out.counted = done->load();
  for (const auto& a : all)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return out;
}

} // namespace inmemory_bench
