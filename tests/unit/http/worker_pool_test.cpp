// The server's worker threads: tasks run off the loop and complete on it; closing cancels what
// is queued, waits for what runs, and lets the loop end cleanly; joined threads are gone.
#include "telluride/http/worker_pool.hpp"

#include "test_client.hpp"
#include "test_server.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace telluride::http;
using telluride::http::testing::gate;

namespace {

/// What happened to one task.
struct record {
  std::thread::id ran_on;
  std::thread::id completed_on;
  int completions = 0;
  bool ran = false;
};

class recording_task final : public worker_task {
public:
  recording_task(record& r, std::function<void()> body, std::function<void()> after = {})
    : record_(r), body_(std::move(body)), after_(std::move(after)) {}
  void run() override {
    record_.ran_on = std::this_thread::get_id();
    if (body_)
      body_();
  }
  void complete(bool ran) override {
    record_.completed_on = std::this_thread::get_id();
    record_.ran = ran;
    ++record_.completions;
    if (after_)
      after_();
  }

private:
  record& record_;
  std::function<void()> body_;
  std::function<void()> after_;
};

bool submit(worker_pool& pool, record& r, std::function<void()> body = {}, std::function<void()> after = {}) {
  std::unique_ptr<worker_task> task = std::make_unique<recording_task>(r, std::move(body), std::move(after));
  return pool.submit(task);
}

} // namespace

TEST_CASE("tasks run on worker threads and complete on the loop thread") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  std::vector<record> records(5);
  int completed = 0;
  {
    worker_pool pool{&loop, 2};
    for (auto& r : records)
      REQUIRE(submit(pool, r, {}, [&] {
        if (++completed == 5)
          pool.close();
      }));
    uv_run(&loop, UV_RUN_DEFAULT);  // returns once the pool has closed its handle
    pool.join();
  }
  CHECK(uv_loop_close(&loop) == 0);
  CHECK(completed == 5);
  for (const auto& r : records) {
    CHECK(r.ran);
    CHECK(r.completions == 1);
    CHECK(r.completed_on == std::this_thread::get_id());
    CHECK(r.ran_on != std::this_thread::get_id());
    CHECK(r.ran_on != std::thread::id{});
  }
}

TEST_CASE("closing cancels queued tasks, waits for the running one, and refuses new ones") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  gate held;
  record running;
  record queued_1;
  record queued_2;
  record refused;
  {
    worker_pool pool{&loop, 1};
    REQUIRE(submit(pool, running, [&] { held.wait(); }));
    REQUIRE(submit(pool, queued_1));
    REQUIRE(submit(pool, queued_2, {}, [&] { held.open(); }));  // cancelled: lets the runner go
    REQUIRE(held.await_waiting(1));
    pool.close();
    CHECK(!submit(pool, refused));
    uv_run(&loop, UV_RUN_DEFAULT);
    pool.join();
  }
  CHECK(uv_loop_close(&loop) == 0);
  CHECK(running.ran);
  CHECK(running.completions == 1);
  for (auto* r : {&queued_1, &queued_2}) {
    CHECK(!r->ran);
    CHECK(r->completions == 1);
    CHECK(r->ran_on == std::thread::id{});  // never ran
  }
  CHECK(refused.completions == 0);
}

namespace {

std::atomic<int> exited_threads{0};

// Counts the exit of each thread that touched it, as thread-bound state (a CAF scoped_actor)
// is released at thread exit. It takes its time, so a stop() that does not wait for the
// threads returns before the count.
struct thread_exit_counter {
  bool touched = false;
  ~thread_exit_counter() {
    if (!touched)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
    ++exited_threads;
  }
};
thread_local thread_exit_counter exit_counter;

} // namespace

TEST_CASE("stop() joins the threads that ran worker handlers") {
  std::mutex mutex;
  std::set<std::thread::id> handler_threads;
  router routes;
  routes.add(
    "GET", "/touch",
    [&](const request&, const route_params&) {
      exit_counter.touched = true;
      std::lock_guard lock{mutex};
      handler_threads.insert(std::this_thread::get_id());
      return response::text(200, "touched");
    },
    handler_thread::worker);
  http_server server{{.listen = "127.0.0.1:0", .max_worker_handlers = 2}, std::move(routes)};
  REQUIRE(!server.start());
  {
    telluride::http::testing::test_client a{server.port()};
    telluride::http::testing::test_client b{server.port()};
    for (int i = 0; i < 4; ++i) {
      CHECK(a.exchange("GET /touch HTTP/1.1\r\nHost: x\r\n\r\n").value_or(telluride::http::testing::reply{}).body
            == "touched");
      CHECK(b.exchange("GET /touch HTTP/1.1\r\nHost: x\r\n\r\n").value_or(telluride::http::testing::reply{}).body
            == "touched");
    }
  }
  int before = exited_threads;
  CHECK(server.stop());
  // Every thread that ran a handler has exited (its thread-bound state released) on return.
  CHECK(exited_threads - before == static_cast<int>(handler_threads.size()));
  CHECK(!handler_threads.empty());
}
