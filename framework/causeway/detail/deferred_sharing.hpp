// deferred_sharing.hpp — CAF 0.17's work-sharing scheduler, without the wake-ups a busy
// worker can spare.
//
// CAF's `work_sharing` policy keeps one queue of runnable actors and wakes a sleeping worker
// for every actor that becomes runnable. A message between stages makes its receiver
// runnable from inside the sender's handler, so one hand-off of a few messages wakes a worker
// per stage it crosses (producer → processors → batchers), although the sending worker is
// about to be free: on 2 cores at a paced rate most of those wake-ups only moved small jobs
// from a busy thread to a sleeping one and back to sleep.
//
// This policy differs in one rule: an actor made runnable by a worker (inside a handler) does
// not wake another worker while at most `deferred_jobs` jobs wait in the queue; the worker
// runs it itself once its current job is done. More waiting jobs than that wake a peer as
// before, and so does an actor made runnable from outside the workers (another thread, the
// clock), so that work piling up is still shared. The cost: a job may wait for the job its
// worker runs to finish, even while another worker sleeps. Handlers here never block on another
// actor (a handler that did would deadlock with a single worker anyway).
#pragma once

#include <caf/policy/unprofiled.hpp>
#include <caf/resumable.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace causeway::detail {

class deferred_sharing : public caf::policy::unprofiled {
public:
  /// Jobs that may wait for a busy worker before a sleeping one is woken for them: about what
  /// one hand-off makes runnable in the daemon's pipeline (a producer stage, 2 processors, 2
  /// batchers and 4 batch processors, with their demand going back), so that a hand-off is
  /// mostly run by one worker, on warm caches. With 2, the second worker woke for nearly
  /// every hand-off; with 8 the CAF workers took ~8 % less CPU per reading in drains and
  /// paced runs, at the same drain rates (16 measured the same as 8; docs/architecture.md).
  static constexpr std::size_t deferred_jobs = 8;

  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {}
    std::deque<caf::resumable*> queue;
    std::mutex lock;
    std::condition_variable cv;
    std::size_t waiting = 0;  // workers asleep in dequeue, for idle_workers
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {}
  };

  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    push(d(self), job, true);
  }

  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    push(d(self->parent()), job, true);
  }

  /// From a handler running on `self`, which takes the next job once it returns.
  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    push(d(self->parent()), job, false);
  }

  /// The job yielded (max-throughput); `self` takes the next one at once.
  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    push(d(self->parent()), job, false);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& data = d(self->parent());
    std::unique_lock guard(data.lock);
    if (data.queue.empty()) {
      ++data.waiting;
      data.cv.wait(guard, [&] { return !data.queue.empty(); });
      --data.waiting;
    }
    auto* job = data.queue.front();
    data.queue.pop_front();
    return job;
  }

  template <class Worker, class UnaryFunction>
  void foreach_resumable(Worker*, UnaryFunction) {}

  template <class Coordinator, class UnaryFunction>
  void foreach_central_resumable(Coordinator* self, UnaryFunction f) {
    auto& data = d(self);
    std::unique_lock guard(data.lock);
    while (!data.queue.empty()) {
      auto* job = data.queue.front();
      data.queue.pop_front();
      f(job);
    }
  }

  /// Workers asleep with no job waiting (0 while one waits): how a test knows that no worker is
  /// awake to take a job nobody woke it for.
  static std::size_t idle_workers(coordinator_data& data) {
    std::lock_guard guard(data.lock);
    return data.queue.empty() ? data.waiting : 0;
  }

private:
  static void push(coordinator_data& data, caf::resumable* job, bool from_outside) {
    bool wake = true;
    {
      std::lock_guard guard(data.lock);
      data.queue.push_back(job);
      wake = from_outside || data.queue.size() > deferred_jobs;
    }
    if (wake)
      data.cv.notify_one();
  }
};

} // namespace causeway::detail
