#include "telluride/http/worker_pool.hpp"

#include <causeway/thread_name.hpp>

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace telluride::http {

worker_pool::worker_pool(uv_loop_t* loop, std::size_t threads) {
  uv_async_init(loop, &async_, on_async);
  async_.data = this;
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

worker_pool::~worker_pool() {
  join();
}

bool worker_pool::submit(std::unique_ptr<worker_task>& task) {
  {
    std::lock_guard lock{mutex_};
    if (is_closing_)
      return false;
    queued_.push_back(std::move(task));
    ++outstanding_;
  }
  wake_.notify_one();
  return true;
}

void worker_pool::close() {
  std::lock_guard lock{mutex_};
  if (is_closing_)
    return;
  is_closing_ = true;
  for (auto& task : queued_)
    finished_.emplace_back(std::move(task), false);
  queued_.clear();
  wake_.notify_all();
  if (!finished_.empty())
    uv_async_send(&async_);
  close_handle_if_done();
}

void worker_pool::join() {
  {
    std::lock_guard lock{mutex_};
    is_closing_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
}

void worker_pool::work() {
  causeway::name_this_thread("http-worker");
  for (;;) {
    std::unique_ptr<worker_task> task;
    {
      std::unique_lock lock{mutex_};
      wake_.wait(lock, [this] { return is_closing_ || !queued_.empty(); });
      if (queued_.empty())
        return;  // closing: close() already took what was queued
      task = std::move(queued_.front());
      queued_.pop_front();
    }
    try {
      task->run();
    } catch (const std::exception& e) {
      spdlog::error("http: a worker task threw: {}", e.what());
    } catch (...) {
      spdlog::error("http: a worker task threw a non-standard exception");
    }
    std::lock_guard lock{mutex_};
    finished_.emplace_back(std::move(task), true);
    uv_async_send(&async_);  // under the lock: the handle cannot be closed meanwhile
  }
}

void worker_pool::on_async(uv_async_t* handle) {
  static_cast<worker_pool*>(handle->data)->deliver();
}

// Completes every finished task (sends coalesce), outside the lock: a completion may submit.
void worker_pool::deliver() {
  std::vector<std::pair<std::unique_ptr<worker_task>, bool>> batch;
  {
    std::lock_guard lock{mutex_};
    batch.swap(finished_);
  }
  for (auto& [task, ran] : batch) {
    task->complete(ran);
    task.reset();
  }
  std::lock_guard lock{mutex_};
  outstanding_ -= batch.size();
  close_handle_if_done();
}

void worker_pool::close_handle_if_done() {
  if (!is_closing_ || outstanding_ != 0 || is_handle_closed_)
    return;
  is_handle_closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

} // namespace telluride::http
