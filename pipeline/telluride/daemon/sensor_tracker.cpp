#include "telluride/daemon/sensor_tracker.hpp"

#include <algorithm>
#include <limits>

namespace telluride {

sensor_tracker::sensor_tracker(std::size_t shards, alert_rules rules, std::size_t id_capacity,
                               std::uint64_t max_sensors)
  : sensor_tracker(shards, routing::by_hash, std::move(rules), id_capacity, max_sensors) {}

sensor_tracker::sensor_tracker(std::size_t shards, routing route, alert_rules rules, std::size_t id_capacity,
                               std::uint64_t max_sensors)
  : route_(route), rules_(rules), quota_(max_sensors) {
  shards = std::max<std::size_t>(shards, 1);
  id_capacity_per_shard_ = std::max<std::size_t>(id_capacity / shards, 1024);
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<shard>(rules, id_capacity_per_shard_));
}

void sensor_tracker::with_shard(std::size_t shard, const std::function<void(shard_state&)>& visit) {
  auto& s = *shards_.at(shard);
  std::lock_guard guard{s.mutex};
  visit(s.state);
}

void sensor_tracker::clear_shard(std::size_t shard) {
  auto& s = *shards_.at(shard);
  std::lock_guard guard{s.mutex};
  s.state = shard_state(rules_, id_capacity_per_shard_);
  s.state.inherit_from(inherited_);
}

void sensor_tracker::inherit_from(std::shared_ptr<const inherited_state> inherited) {
  inherited_ = std::move(inherited);
  for (auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    s->state.inherit_from(inherited_);
  }
}

std::size_t sensor_tracker::sensors_in(std::size_t shard) const {
  auto& s = *shards_.at(shard);
  std::lock_guard guard{s.mutex};
  return s.state.table().size();
}

void sensor_tracker::restore_shard(std::size_t shard, shard_state restored) {
  auto& s = *shards_.at(shard);
  std::lock_guard guard{s.mutex};
  const std::size_t before = s.state.table().size();
  s.state = std::move(restored);
  s.state.inherit_from(inherited_);
  if (s.state.table().size() > before)
    quota_.take_restored(s.state.table().size() - before);
}

sensor_tracker::outcome sensor_tracker::apply(std::span<const input> readings) {
  outcome out;
  // Scratch kept per thread (batch processors run on the actor system's few threads), so a
  // warm batch allocates nothing here.
  thread_local std::vector<std::uint32_t> order;      // batch positions, grouped by shard
  thread_local std::vector<std::uint32_t> starts;     // first position of each shard in order
  const std::size_t n_shards = shards_.size();
  starts.assign(n_shards + 1, 0);
  for (const auto& r : readings)
    ++starts[slot_of(r) + 1];
  for (std::size_t i = 0; i < n_shards; ++i)
    starts[i + 1] += starts[i];
  order.resize(readings.size());
  {
    // Counting sort, stable: each shard keeps its readings in batch order.
    thread_local std::vector<std::uint32_t> next;
    next.assign(starts.begin(), starts.end() - 1);
    for (std::uint32_t i = 0; i < readings.size(); ++i)
      order[next[slot_of(readings[i])]++] = i;
  }
  for (std::size_t i = 0; i < n_shards; ++i)
    if (starts[i] != starts[i + 1])
      apply_to_shard(*shards_[i], readings, std::span{order}.subspan(starts[i], starts[i + 1] - starts[i]), out);
  if (!out.refused.empty()) {
    std::sort(out.refused.begin(), out.refused.end());
    out.is_first_refusal = refused_.fetch_add(out.refused.size(), std::memory_order_relaxed) == 0;
  }
  return out;
}

void sensor_tracker::apply_to_shard(shard& s, std::span<const input> readings,
                                    std::span<const std::uint32_t> positions, outcome& out) {
  thread_local std::vector<shard_state::input> inputs;
  inputs.clear();
  for (std::uint32_t pos : positions)
    inputs.push_back(
      {&readings[pos].decoded->reading, readings[pos].decoded->message_id, readings[pos].decoded->hash});
  const std::size_t refused_before = out.refused.size();
  {
    std::lock_guard guard{s.mutex};
    s.state.apply(inputs, &quota_, out);
  }
  // The shard names refused readings by their place among its inputs; the batch, by its own.
  for (std::size_t i = refused_before; i < out.refused.size(); ++i)
    out.refused[i] = positions[out.refused[i]];
}

std::vector<std::string> sensor_tracker::take_changed_json() {
  auto round = begin_round();
  return take_changed_json(round, std::numeric_limits<std::size_t>::max());
}

bool sensor_tracker::aggregate_round::is_done() const noexcept {
  return std::all_of(left.begin(), left.end(), [](std::size_t n) { return n == 0; });
}

sensor_tracker::aggregate_round sensor_tracker::begin_round() const {
  aggregate_round round;
  for (const auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    round.left.push_back(s->state.table().changed_count());
  }
  return round;
}

std::vector<std::string> sensor_tracker::take_changed_json(aggregate_round& round, std::size_t max) {
  std::vector<std::string> out;
  const std::size_t shards = std::min(round.left.size(), shards_.size());
  for (std::size_t i = 0; i < shards && out.size() < max; ++i) {
    std::size_t& left = round.left[i];
    if (left == 0)
      continue;
    std::lock_guard guard{shards_[i]->mutex};
    const std::size_t wanted = std::min(left, max - out.size());
    const std::size_t taken =
      shards_[i]->state.take_changed([&](const sensor_aggregate& a) { out.push_back(to_json_text(a)); }, wanted);
    // A shard cleared or restored since the round began has fewer: the rest wait for the next.
    left = taken < wanted ? 0 : left - taken;
  }
  if (round.left.size() > shards)
    round.left.resize(shards);
  return out;
}

void sensor_tracker::for_each_sensor(
  const std::function<void(const sensor_aggregate&, std::uint64_t alerts)>& visit) const {
  for (const auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    const alert_tracker& alerts = s->state.alerts();
    s->state.table().for_each([&](const sensor_aggregate& a) { visit(a, alerts.raised_for(a.key)); });
  }
}

namespace {

/// The sensor's aggregate and alerts in `state`, or none; under the shard's lock.
std::optional<sensor_record> find_in(const shard_state& state, const sensor_key& key) {
  const sensor_aggregate* found = state.table().find(key);
  if (found == nullptr)
    return std::nullopt;
  sensor_record record{*found};
  record.alerts = state.alerts().raised_for(found->key);
  return record;
}

} // namespace

std::optional<sensor_record> sensor_tracker::find(const sensor_key& key) const {
  if (route_ == routing::by_layout) {
    // The sensor's shard is the broker's to know: look in every slot (HTTP only).
    for (const auto& s : shards_) {
      std::lock_guard guard{s->mutex};
      if (auto found = find_in(s->state, key))
        return found;
    }
    return std::nullopt;
  }
  auto& s = shard_of(hash_value(key));
  {
    std::lock_guard guard{s.mutex};
    if (auto found = find_in(s.state, key))
      return found;
  }
  // Every sensor is this daemon's: one not met since the layout changed is as it was left.
  if (inherited_)
    if (const sensor_record* record = inherited_->find(key))
      return sensor_record{record->aggregate, 0, record->alerts};
  return std::nullopt;
}

std::size_t sensor_tracker::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    n += s->state.table().size();
  }
  return n;
}

std::uint64_t sensor_tracker::total_reads() const {
  std::uint64_t n = 0;
  for (std::size_t slot = 0; slot < shards_.size(); ++slot)
    n += total_reads_in(slot);
  if (inherited_)
    for (const auto& record : inherited_->image().sensors) {
      const auto key = record.aggregate.key.key();
      const bool is_met = std::any_of(shards_.begin(), shards_.end(), [&](const auto& s) {
        std::lock_guard guard{s->mutex};
        return s->state.table().find(key) != nullptr;
      });
      if (!is_met)
        n += record.aggregate.stats.count();
    }
  return n;
}

std::uint64_t sensor_tracker::total_reads_in(std::size_t shard) const {
  auto& s = *shards_.at(shard);
  std::lock_guard guard{s.mutex};
  std::uint64_t n = 0;
  s.state.table().for_each([&](const sensor_aggregate& a) { n += a.stats.count(); });
  return n;
}

std::uint64_t sensor_tracker::alerts_raised() const {
  std::uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    n += s->state.alerts_raised();
  }
  return n;
}

} // namespace telluride
