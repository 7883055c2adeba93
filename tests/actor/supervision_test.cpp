#include <doctest/doctest.h>

#include "pipeline_fixture.hpp"
#include "virtual_time_fixture.hpp"

#include <caf/send.hpp>

#include <algorithm>

using namespace causeway;
using namespace causeway::test;

namespace {

struct event_log {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<pipeline_event> events;

  void record(const pipeline_event& e) {
    {
      std::lock_guard guard{mutex};
      events.push_back(e);
    }
    changed.notify_all();
  }

  bool wait_for(pipeline_event::kind what, std::chrono::milliseconds timeout) {
    std::unique_lock lock{mutex};
    return changed.wait_for(lock, timeout, [&] {
      return std::any_of(events.begin(), events.end(),
                         [what](const pipeline_event& e) { return e.what == what; });
    });
  }
};

} // namespace

TEST_CASE_FIXTURE(pipeline_fixture, "a crashed stage restarts the topology and its in-flight messages come back failed") {
  std::atomic<bool> hold{true};
  handler->on_batch = [&hold](std::span<message>, const batch_info&, const context&) {
    while (hold)
      std::this_thread::sleep_for(1ms);
  };
  event_log log;
  pipeline_options o;
  o.batchers = {batcher("one", 10, 600s)};
  auto s = spec(o);
  s.on_event = [&log](const pipeline_event& e) { log.record(e); };
  auto started = pipeline::start(system, s);
  REQUIRE(started.has_value());
  auto p = std::move(*started);

  feed->push_data(numbered(25));
  // Wait until the batcher holds the last 5 messages in an open batch.
  for (int i = 0; i < 500; ++i) {
    auto stages = p.topology();
    auto batcher_stage = std::find_if(stages.begin(), stages.end(),
                                      [](const stage_info& st) { return st.kind == stage_kind::batcher; });
    if (batcher_stage != stages.end() && batcher_stage->received == 25)
      break;
    std::this_thread::sleep_for(2ms);
  }
  auto stages = p.topology();
  auto victim = std::find_if(stages.begin(), stages.end(),
                             [](const stage_info& st) { return st.kind == stage_kind::batcher; });
  REQUIRE(victim != stages.end());
  caf::anon_send_exit(victim->actor, caf::exit_reason::kill);
  // The batch processor is busy in handle_batch; it dies once that returns.
  std::this_thread::sleep_for(20ms);
  hold = false;
  REQUIRE(log.wait_for(pipeline_event::kind::crashed, 5s));
  REQUIRE(log.wait_for(pipeline_event::kind::restarted, 5s));

  REQUIRE(acks->wait_for(25, 5s));
  std::this_thread::sleep_for(50ms);  // a stage being killed must not add acks
  CHECK(acks->count() == 25);
  auto times = acks->times_acknowledged(25);
  CHECK(std::count(times.begin() + 1, times.end(), 1u) == 25);
  CHECK(acks->failed_count() >= 5);  // at least the open batch
  for (const auto& r : acks->records())
    if (!r.ok)
      CHECK(r.reason.rfind("stage exited: ", 0) == 0);

  // The new generation works.
  auto tag = feed->push_data({"after the crash"});
  p.drain();
  auto after = acks->wait_for_tag(tag, 1s);
  REQUIRE(after.has_value());
  CHECK(after->ok);
  {
    std::lock_guard guard{log.mutex};
    auto crashed = std::find_if(log.events.begin(), log.events.end(),
                                [](const pipeline_event& e) { return e.what == pipeline_event::kind::crashed; });
    CHECK(crashed->generation == 1);
    CHECK(log.events.back().generation == 2);
  }
}

TEST_CASE_FIXTURE(pipeline_fixture, "telemetry reports each processor call and each batch") {
  struct recording_sink : telemetry_sink {
    std::mutex mutex;
    std::map<stage_kind, std::size_t> messages_stopped;
    std::size_t batch_stops = 0;
    void on_event(const telemetry_event& e) override {
      std::lock_guard guard{mutex};
      if (e.phase == telemetry_phase::start)
        return;
      messages_stopped[e.kind] += e.messages;
      if (e.kind == stage_kind::batch_processor)
        ++batch_stops;
    }
  };
  auto sink = std::make_shared<recording_sink>();
  pipeline_options o;
  o.batchers = {batcher("one", 10, 600s)};
  auto s = spec(o);
  s.telemetry = sink;
  auto started = pipeline::start(system, s);
  REQUIRE(started.has_value());
  auto p = std::move(*started);
  feed->push_data(numbered(100));
  p.drain();
  std::lock_guard guard{sink->mutex};
  CHECK(sink->messages_stopped[stage_kind::producer] == 100);
  CHECK(sink->messages_stopped[stage_kind::processor] == 100);
  CHECK(sink->messages_stopped[stage_kind::batcher] == 100);
  CHECK(sink->messages_stopped[stage_kind::batch_processor] == 100);
  CHECK(sink->batch_stops == 10);
}

TEST_CASE_FIXTURE(pipeline_fixture, "partitioning keeps each key's order through processors and batch processors") {
  constexpr int keys = 37;
  constexpr int per_key = 400;
  auto key_of = [](const message& m) { return static_cast<std::uint64_t>(std::stoi(m.data) % keys); };
  std::mutex mutex;
  std::map<int, std::vector<int>> seen;            // key -> sequence numbers in handling order
  std::map<int, std::set<std::size_t>> handled_by; // key -> batch processors
  handler->on_message = [](message& m, const context&) {
    std::this_thread::sleep_for(std::chrono::microseconds(std::stoi(m.data) % 7));
  };
  handler->on_batch = [&](std::span<message> batch, const batch_info&, const context& ctx) {
    std::lock_guard guard{mutex};
    for (const auto& m : batch) {
      auto n = std::stoi(m.data);
      seen[n % keys].push_back(n / keys);
      handled_by[n % keys].insert(ctx.index);
    }
  };
  pipeline_options o;
  o.processors.concurrency = 4;
  o.processors.partition_by = key_of;
  auto b = batcher("one", 16, 2ms, 3);
  b.partition_by = key_of;
  o.batchers = {b};
  auto p = start(o);
  for (int chunk = 0; chunk < 20; ++chunk)
    feed->push_data(numbered(keys * per_key / 20, static_cast<std::size_t>(chunk * keys * per_key / 20)));
  p.drain();
  REQUIRE(acks->count() == keys * per_key);
  REQUIRE(seen.size() == keys);
  for (const auto& [key, order] : seen) {
    CHECK(order.size() == per_key);
    CHECK(std::is_sorted(order.begin(), order.end()));
    CHECK(handled_by[key].size() == 1);
  }
}

// Backoff on the virtual clock: the timers fire when the test advances time, never sooner.
TEST_CASE_FIXTURE(virtual_time_fixture, "a producer that cannot be created is retried with growing delays until it can") {
  std::vector<pipeline_event> events;
  int attempts = 0;
  auto working = feed->factory();
  auto s = spec(pipeline_options{});
  s.make_producer = [&](std::size_t index) -> std::unique_ptr<producer> {
    if (++attempts <= 4)
      throw std::runtime_error("no source yet");
    return working(index);
  };
  s.on_event = [&events](const pipeline_event& e) { events.push_back(e); };
  auto supervisor = spawn_supervisor(s);
  CHECK(attempts == 1);
  advance(0ms);
  CHECK(attempts == 2);  // the first retry comes at once, the next ones after 100, 200, 400 ms
  for (auto delay : {100ms, 200ms, 400ms}) {
    const int before = attempts;
    advance(delay - 1ms);
    CHECK(attempts == before);
    advance(1ms);
    CHECK(attempts == before + 1);
  }
  CHECK(attempts == 5);
  std::vector<std::string> reasons;
  for (const auto& e : events)
    if (e.what == pipeline_event::kind::crashed)
      reasons.push_back(e.reason);
  REQUIRE(reasons.size() == 4);
  CHECK(reasons[0] == "cannot create producer: no source yet; retrying in 0 ms");
  CHECK(reasons[1] == "cannot create producer: no source yet; retrying in 100 ms");
  CHECK(reasons[2] == "cannot create producer: no source yet; retrying in 200 ms");
  CHECK(reasons[3] == "cannot create producer: no source yet; retrying in 400 ms");
  REQUIRE(events.size() == 5);
  CHECK(events.back().what == pipeline_event::kind::started);
  CHECK(events.back().generation == 5);

  feed->push_data(numbered(10));
  run();
  CHECK(acks->count() == 10);
  auto stopped = ask(supervisor, stop_atom::value);
  CHECK(stopped.messages == 0);  // all 10 were acknowledged before the stop
  CHECK_FALSE(stopped.timed_out);
}

TEST_CASE_FIXTURE(virtual_time_fixture, "a drain while a failed generation waits for its restart keeps it down") {
  int attempts = 0;
  auto s = spec(pipeline_options{});
  s.make_producer = [&](std::size_t) -> std::unique_ptr<producer> {
    ++attempts;
    throw std::runtime_error("never");
  };
  auto supervisor = spawn_supervisor(s);
  advance(0ms);
  advance(100ms);  // attempts at 0, 0 and 100 ms; the next would come at 300 ms
  CHECK(attempts == 3);
  auto drained = ask(supervisor, drain_atom::value);
  CHECK(drained.messages == 0);
  CHECK(drained.duration == 0ms);
  CHECK_FALSE(drained.timed_out);
  advance(600ms);
  CHECK(attempts == 3);
  ask(supervisor, stop_atom::value);
}

namespace {

/// Never finishes draining; records what the supervisor asks of it.
struct stuck_producer : producer {
  struct record {
    std::vector<std::string> failed_with;
    int stops = 0;
  };
  std::shared_ptr<record> seen;
  explicit stuck_producer(std::shared_ptr<record> r) : seen(std::move(r)) {}
  void start(producer_sink) override {}
  void prepare_for_draining() override {}
  void fail_in_flight(std::string_view reason) override { seen->failed_with.emplace_back(reason); }
  void stop() override { ++seen->stops; }
};

} // namespace

TEST_CASE_FIXTURE(virtual_time_fixture, "a drain still under way at the shutdown timeout is cut short and reported timed out") {
  auto seen = std::make_shared<stuck_producer::record>();
  std::vector<pipeline_event> events;
  pipeline_options o;
  o.shutdown_timeout = 200ms;
  auto s = spec(o);
  s.make_producer = [seen](std::size_t) { return std::make_unique<stuck_producer>(seen); };
  s.on_event = [&events](const pipeline_event& e) { events.push_back(e); };
  auto supervisor = spawn_supervisor(s);
  REQUIRE(events.size() == 1);  // started

  auto answer = self->request(supervisor, caf::infinite, drain_atom::value);
  run();
  advance(199ms);
  CHECK(events.size() == 1);
  CHECK(seen->failed_with.empty());
  advance(1ms);
  drain_report report;
  std::move(answer).receive([&](drain_report& r) { report = r; }, [](caf::error&) {});
  const std::string why = "shutdown timeout of 200 ms passed while draining";
  CHECK(report.timed_out);
  CHECK(report.duration == 200ms);
  CHECK(report.messages == 0);
  CHECK(seen->failed_with == std::vector<std::string>{why});
  CHECK(seen->stops == 1);
  REQUIRE(events.size() == 3);
  CHECK(events[1].what == pipeline_event::kind::crashed);
  CHECK(events[1].reason == why);
  CHECK(events[2].what == pipeline_event::kind::drained);
  CHECK(events[2].reason == why);
  advance(10s);
  CHECK(events.size() == 3);  // drained: no restart follows
  ask(supervisor, stop_atom::value);
}
