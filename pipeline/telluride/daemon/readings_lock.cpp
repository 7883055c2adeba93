#include "telluride/daemon/readings_lock.hpp"

#include <causeway/amqp/topology_declaration.hpp>

#include <utility>

namespace telluride {

namespace amqp = causeway::amqp;

namespace {

amqp::queue_spec lock_spec(const std::string& queue) {
  return amqp::queue_spec{queue, false, true, true, {}};  // transient, exclusive, auto-delete
}

} // namespace

std::string readings_lock_queue(const std::string& readings_queue) {
  return readings_queue + ".lock";
}

lock_step next_lock_step(std::uint64_t losses_at_take, std::uint64_t losses_now, bool restores_after_loss) noexcept {
  return losses_now > losses_at_take && restores_after_loss ? lock_step::stale : lock_step::declare;
}

readings_lock::readings_lock(std::string lock_queue, bool restores_after_loss, std::function<void()> on_stale)
  : queue_(std::move(lock_queue)), restores_after_loss_(restores_after_loss), on_stale_(std::move(on_stale)) {}

expected<bool> take_exclusive_lock(amqp::connection& conn, const std::string& queue) {
  amqp::topology_spec spec;
  spec.queues.push_back(lock_spec(queue));
  auto declared = amqp::declare(conn, spec);
  if (declared)
    return true;
  if (declared.err().message.find("RESOURCE_LOCKED") != std::string::npos)
    return false;
  return error{"cannot take the lock " + queue + ": " + declared.err().message};
}

expected<bool> readings_lock::try_take(amqp::connection& conn) {
  // The losses are read before the declaration: a loss in between counts as one after it.
  const auto losses = conn.stats().losses;
  auto taken = take_exclusive_lock(conn, queue_);
  if (!taken || !*taken)
    return taken;
  losses_at_take_ = losses;
  conn_ = &conn;
  return true;
}

expected<void> readings_lock::release(amqp::connection& conn) {
  conn_ = nullptr;
  auto deleted = amqp::delete_queue(conn, queue_);
  if (!deleted)
    return error{"cannot let the lock " + queue_ + " go: " + deleted.err().message};
  return {};
}

amqp::failure readings_lock::before_consume(amqp::channel& ch) {
  amqp::connection* conn = conn_;
  if (conn == nullptr)
    return amqp::failure{amqp::failure_scope::channel, 0, "the readings lock " + queue_ + " is not taken yet"};
  if (next_lock_step(losses_at_take_, conn->stats().losses, restores_after_loss_) == lock_step::stale) {
    if (!said_stale_.exchange(true) && on_stale_)
      on_stale_();
    return amqp::failure{amqp::failure_scope::channel, 0,
                         "the readings lock " + queue_ + " went with the lost connection: the state is restored "
                         "before consuming again"};
  }
  return amqp::declare_queue(ch, lock_spec(queue_));
}

expected<bool> shard_locks::try_take(std::uint32_t shard, amqp::connection& conn) {
  auto lock = held(shard);
  if (!lock)
    lock = std::make_shared<readings_lock>(readings_queue_ + "." + std::to_string(shard) + ".lock",
                                           restores_after_loss_, on_stale_);
  auto taken = lock->try_take(conn);
  if (taken && *taken) {
    std::lock_guard guard{mutex_};
    held_[shard] = lock;
  }
  return taken;
}

expected<void> shard_locks::release(std::uint32_t shard, amqp::connection& conn) {
  std::shared_ptr<readings_lock> lock;
  {
    std::lock_guard guard{mutex_};
    auto it = held_.find(shard);
    if (it == held_.end())
      return {};
    lock = std::move(it->second);
    held_.erase(it);
  }
  return lock->release(conn);
}

amqp::failure shard_locks::before_consume(std::uint32_t shard, amqp::channel& ch) {
  auto lock = held(shard);
  if (!lock)
    return amqp::failure{amqp::failure_scope::channel, 0,
                         "the lock of shard " + std::to_string(shard) + " is not held by this daemon"};
  return lock->before_consume(ch);
}

std::shared_ptr<readings_lock> shard_locks::held(std::uint32_t shard) const {
  std::lock_guard guard{mutex_};
  auto it = held_.find(shard);
  return it == held_.end() ? nullptr : it->second;
}

} // namespace telluride
