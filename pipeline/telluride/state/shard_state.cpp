#include "telluride/state/shard_state.hpp"

#include <algorithm>
#include <bit>

namespace telluride {

namespace {

// How many changed sensors ahead encode_image asks for their lines: enough to cover a miss
// (a sensor's entry takes ~100 ns to encode), few enough to stay in the L1 cache.
constexpr std::size_t encode_ahead = 8;

} // namespace

shard_state::shard_state(alert_rules rules, std::size_t id_capacity)
  : alerts_(std::move(rules)), ids_(id_capacity) {}

shard_state::outcome shard_state::apply(std::span<const input> readings, sensor_quota* quota) {
  outcome out;
  apply(readings, quota, out);
  return out;
}

void shard_state::apply(std::span<const input> readings, sensor_quota* quota, outcome& out) {
  std::vector<const reading*>& all = scratch_.all;
  std::vector<const reading*>& fresh = scratch_.fresh;
  std::vector<std::optional<std::uint32_t>>& places = scratch_.places;
  batch_folder& folder = scratch_.folder;
  std::vector<std::uint64_t>& hashes = scratch_.hashes;
  all.clear();
  hashes.clear();
  std::size_t ids = 0;
  // Each reading's lookups below (its sensor's slot in the table, its id's in the window) miss
  // the cache, mostly: ask for every line first (prefetch.hpp), so the misses overlap.
  for (const input& r : readings) {
    all.push_back(r.reading);
    hashes.push_back(r.key_hash != 0 ? r.key_hash : hash_value(r.reading->key));
    table_.prefetch_slot(hashes.back());
    if (r.message_id)
      ids_.prefetch(*r.message_id, ids++);
  }
  // Which sensors may be counted: the known ones, and new ones while the quota lasts.
  const auto partials = folder.fold(all, hashes);
  for (const sensor_partial& partial : partials)
    table_.prefetch_aggregate(partial.hash);
  places.clear();
  for (const sensor_partial& partial : partials) {
    const std::size_t known = table_.size();
    places.push_back(table_.admit(*partial.key, partial.hash, quota));
    if (!places.back())
      continue;
    if (inherited_ && table_.size() > known)
      if (const sensor_record* record = inherited_->find(*partial.key))
        put(*record);  // first met since the layout changed: its record so far, then its readings
    mark_changed(*places.back());
  }
  // Then each reading in order: refused, a duplicate, or counted. A refused reading's
  // message_id is not recorded: a copy of it sent again (say, moved back from dlx_queue) is
  // refused and dead-lettered again, never dropped as a duplicate. (A new sensor whose only
  // readings here repeat other sensors' message ids keeps its place with no reads.)
  fresh.clear();
  bool has_duplicates = false;
  for (std::size_t k = 0; k < readings.size(); ++k) {
    const input& r = readings[k];
    if (!places[folder.partial_of(k)]) {
      out.refused.push_back(k);
      continue;
    }
    if (r.message_id) {
      if (!ids_.first_time(*r.message_id)) {
        ++out.duplicates;
        has_duplicates = true;
        continue;
      }
      ++ids_since_image_;
    }
    if (auto raised = alerts_.observe(*r.reading)) {
      out.alerts.push_back(std::move(*raised));
      ++alerts_raised_;
    }
    fresh.push_back(all[k]);
  }
  if (!has_duplicates) {
    for (std::size_t p = 0; p < partials.size(); ++p)
      if (places[p])
        table_.merge(*places[p], partials[p]);
  } else {
    // Rare (redeliveries after a broker failure): fold again without the duplicates. Every
    // sensor left is known now.
    for (const sensor_partial& partial : folder.fold(fresh))
      table_.merge(*table_.admit(*partial.key, partial.hash), partial);
  }
  out.applied += fresh.size();
}

void shard_state::mark_changed(std::uint32_t position) {
  if (is_changed_.size() <= position)
    is_changed_.resize(table_.size(), false);
  if (!is_changed_[position]) {
    is_changed_[position] = true;
    changed_.push_back(position);
  }
}

void shard_state::forget_changes() noexcept {
  for (std::uint32_t position : changed_)
    is_changed_[position] = false;
  changed_.clear();
  ids_since_image_ = 0;
}

sensor_record shard_state::record_at(std::uint32_t position) const {
  const sensor_aggregate& aggregate = table_.at(position);
  return sensor_record{aggregate, alerts_.consecutive(aggregate.key), alerts_.raised_for(aggregate.key)};
}

// recorded_fields::bits hold origin, inverse_unit, min and max in the order of their kept bits.
static_assert(kept_origin == 1 && kept_inverse_unit == 2 && kept_min == 4 && kept_max == 8);

std::uint8_t shard_state::note_recorded(std::uint32_t position) {
  const running_stats::raw_state raw = table_.at(position).stats.raw();
  const std::array<std::uint64_t, 4> now{std::bit_cast<std::uint64_t>(raw.origin),
                                         std::bit_cast<std::uint64_t>(raw.inverse_unit),
                                         std::bit_cast<std::uint64_t>(raw.min), std::bit_cast<std::uint64_t>(raw.max)};
  if (recorded_.size() <= position)
    recorded_.resize(table_.size());
  recorded_fields& was = recorded_[position];
  std::uint8_t kept = 0;
  for (std::size_t field = 0; was.is_recorded && field < now.size(); ++field)
    if (was.bits[field] == now[field])
      kept |= static_cast<std::uint8_t>(1u << field);
  was = recorded_fields{now, true};
  return kept;
}

shard_image shard_state::take_snapshot() {
  shard_image image;
  image.alerts_raised = alerts_raised_;
  image.sensors.reserve(table_.size());
  for (std::uint32_t position = 0; position < table_.size(); ++position) {
    image.sensors.push_back(record_at(position));
    note_recorded(position);
  }
  image.message_ids.reserve(ids_.size());
  ids_.for_each_latest(ids_.size(), [&](std::uint64_t id) { image.message_ids.push_back(id); });
  forget_changes();
  return image;
}

shard_image shard_state::take_delta() {
  shard_image image;
  image.alerts_raised = alerts_raised_;
  image.sensors.reserve(changed_.size());
  for (std::uint32_t position : changed_) {
    image.sensors.push_back(record_at(position));
    note_recorded(position);
  }
  // More ids than the window holds since the last image: the older ones are forgotten by the
  // live window too, so the delta needs only the ones it still holds.
  const std::size_t ids = std::min(ids_since_image_, ids_.size());
  image.message_ids.reserve(ids);
  ids_.for_each_latest(ids, [&](std::uint64_t id) { image.message_ids.push_back(id); });
  forget_changes();
  return image;
}

expected<std::string> shard_state::encode_image(const record_header& header) {
  const bool is_snapshot = header.kind == record_kind::snapshot;
  const std::size_t sensors = is_snapshot ? table_.size() : changed_.size();
  const std::size_t ids = is_snapshot ? ids_.size() : std::min(ids_since_image_, ids_.size());
  checkpoint_encoder encoder{header, alerts_raised_, sensors, sensors * 128 + ids * 8};
  auto add = [&](std::uint32_t position) {
    const sensor_aggregate& aggregate = table_.at(position);
    const std::uint8_t kept = note_recorded(position);
    encoder.sensor(aggregate, alerts_.consecutive(aggregate.key), alerts_.raised_for(aggregate.key),
                   is_snapshot ? 0 : kept);
  };
  if (is_snapshot) {
    for (std::uint32_t position = 0; position < table_.size(); ++position)
      add(position);
  } else {
    // The changed sensors lie all over the table, and the batch processors last wrote them on
    // the other core: ask for each one's lines a few sensors ahead, so the misses overlap.
    auto prefetch = [&](std::uint32_t position) {
      table_.prefetch_at(position);
      if (position < recorded_.size())
        prefetch_line(&recorded_[position]);
    };
    const std::size_t n = changed_.size();
    for (std::size_t i = 0; i < std::min(encode_ahead, n); ++i)
      prefetch(changed_[i]);
    for (std::size_t i = 0; i < n; ++i) {
      if (i + encode_ahead < n)
        prefetch(changed_[i + encode_ahead]);
      add(changed_[i]);
    }
  }
  encoder.ids(ids);
  ids_.for_each_latest(ids, [&](std::uint64_t id) { encoder.id(id); });
  forget_changes();
  return std::move(encoder).finish();
}

std::uint32_t shard_state::put(const sensor_record& record) {
  const std::uint32_t position = table_.assign(record.aggregate);
  alerts_.set_consecutive(record.aggregate.key, record.consecutive_warnings);
  alerts_.set_raised_for(record.aggregate.key, record.alerts);
  return position;
}

void shard_state::start_layout(const inherited_state& inherited, bool with_alerts) {
  for (std::uint64_t id : inherited.image().message_ids)
    if (ids_.first_time(id))
      ++ids_since_image_;
  if (with_alerts)
    alerts_raised_ = inherited.image().alerts_raised;
}

void shard_state::restore(const shard_image& snapshot) {
  table_ = sensor_table{};
  alerts_ = alert_tracker{alerts_.rules()};
  ids_ = message_id_window{ids_.capacity()};
  changed_.clear();
  is_changed_.clear();
  ids_since_image_ = 0;
  recorded_.clear();
  apply(snapshot);
}

void shard_state::apply(const shard_image& delta) {
  for (const sensor_record& record : delta.sensors)
    note_recorded(put(record));
  for (std::uint64_t id : delta.message_ids)
    ids_.first_time(id);
  alerts_raised_ = delta.alerts_raised;
}

} // namespace telluride
