// worker_pool.hpp — the server's own threads for handlers that wait, and the way their results
// come back to the loop (internal).
//
// A task runs on a worker thread, then completes on the loop thread (through a uv_async handle,
// whose sends coalesce: its callback drains every finished task). The threads are the server's
// and are joined by its stop(), unlike libuv's thread pool, which lives until the process exits:
// a thread that used a CAF scoped_actor keeps the actor_system's destructor waiting for as long
// as the thread lives, so a handler's thread must be gone before its owner tears CAF down.
//
// Thread rule: the constructor, `submit` and `close` run on the loop thread, `join` on the
// owner's thread once the loop has ended; the workers touch only the queues (under `mutex_`)
// and the tasks they run. `uv_async_send` happens under `mutex_`, as does the decision to
// close the handle, so no send ever reaches a closed handle.
#pragma once

#include <uv.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace telluride::http {

/// One unit of work for a worker thread.
class worker_task {
public:
  virtual ~worker_task() = default;
  /// Runs on a worker thread. Should not throw (an exception is logged and swallowed).
  virtual void run() = 0;
  /// Runs on the loop thread after `run` (`ran` true), or instead of it when the pool closed
  /// first (`ran` false). The pool destroys the task afterwards.
  virtual void complete(bool ran) = 0;
};

class worker_pool {
public:
  /// Starts `threads` worker threads and the completion handle on `loop`.
  worker_pool(uv_loop_t* loop, std::size_t threads);
  /// Joins the threads if `join` was not called.
  ~worker_pool();
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Queues `task` for the next free thread; false (and the task dropped uncompleted) once
  /// the pool is closing.
  bool submit(std::unique_ptr<worker_task>& task);

  /// Stops taking tasks: queued ones complete with `ran` false, running ones finish and
  /// complete; then the handle closes, so the loop can end. Idempotent.
  void close();

  /// Waits for the threads to end. Call after `close` took effect (the loop has ended).
  void join();

private:
  static void on_async(uv_async_t* handle);
  void work();
  void deliver();
  void close_handle_if_done();  // with `mutex_` held

  uv_async_t async_{};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<worker_task>> queued_;
  std::vector<std::pair<std::unique_ptr<worker_task>, bool>> finished_;
  std::size_t outstanding_ = 0;  // submitted and not yet completed
  bool is_closing_ = false;
  bool is_handle_closed_ = false;
  std::vector<std::thread> threads_;
};

} // namespace telluride::http
