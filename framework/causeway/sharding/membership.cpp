#include "causeway/sharding/membership.hpp"

#include "causeway/utf8.hpp"

#include <algorithm>
#include <utility>

namespace causeway::sharding {

namespace {

// How many earlier start ids of one name are remembered to recognise a clash.
constexpr std::size_t remembered_restarts = 4;

bool contains(const std::vector<std::uint64_t>& ids, std::uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

/// Why `name` cannot be a node name, or nothing.
std::optional<std::string> bad_name(std::string_view name) {
  if (name.empty())
    return "is empty";
  if (name.size() > membership::max_name_bytes)
    return "has " + std::to_string(name.size()) + " bytes, more than " +
           std::to_string(membership::max_name_bytes);
  if (!is_valid_utf8(name))
    return "is not UTF-8: \"" + one_line_utf8(name) + "\"";
  return std::nullopt;
}

} // namespace

membership::membership(std::string self, std::uint64_t self_start_id, clock::time_point started_at,
                       membership_options options)
  : self_(std::move(self)), started_at_(started_at), options_(options) {
  members_.emplace(self_, member{self_start_id, started_at, {}, {}});
}

expected<membership> membership::create(std::string self, std::uint64_t self_start_id,
                                        clock::time_point started_at, membership_options options) {
  if (auto why = bad_name(self))
    return error{"membership: the node name " + *why};
  if (options.lapse.count() <= 0)
    return error{"membership: lapse must be positive, got " + std::to_string(options.lapse.count()) +
                 " ms"};
  if (options.max_members < 1)
    return error{"membership: max_members must be at least 1, got 0"};
  if (options.deaf_after.count() <= 0)
    return error{"membership: deaf_after must be positive, got " +
                 std::to_string(options.deaf_after.count()) + " ms"};
  return membership{std::move(self), self_start_id, started_at, options};
}

expected<member_changes> membership::heard(std::string_view name, std::uint64_t start_id,
                                           clock::time_point at) {
  if (auto why = bad_name(name))
    return error{"membership: a heartbeat's node name " + *why};
  auto it = members_.find(name);
  if (it == members_.end() && members_.size() >= options_.max_members)
    return error{"membership: " + std::to_string(members_.size()) +
                 " members already, the heartbeat of \"" + one_line_utf8(name) + "\" is refused"};
  latest_heard_ = latest_heard_ ? std::max(*latest_heard_, at) : at;

  if (it == members_.end()) {
    members_.emplace(std::string{name}, member{start_id, at, {}, {}});
    return member_changes{{member_event::joined, std::string{name}, start_id}};
  }
  auto& m = it->second;
  if (start_id == m.start_id) {
    m.last_heard = std::max(m.last_heard, at);
    return member_changes{};
  }
  if (name == self_ || contains(m.replaced, start_id))
    return clash(it->first, m, start_id);
  member_changes out{{member_event::left, it->first, m.start_id},
                     {member_event::joined, it->first, start_id}};
  m.replaced.push_back(m.start_id);
  if (m.replaced.size() > remembered_restarts)
    m.replaced.erase(m.replaced.begin());
  m.start_id = start_id;
  m.last_heard = at;
  return out;
}

member_changes membership::clash(const std::string& name, member& m, std::uint64_t start_id) {
  if (contains(m.clashed, start_id))
    return {};
  if (m.clashed.size() >= remembered_restarts)
    m.clashed.erase(m.clashed.begin());
  m.clashed.push_back(start_id);
  return {{member_event::clashed, name, start_id}};
}

member_changes membership::expire(clock::time_point now) {
  member_changes out;
  if (is_deaf(now))
    return out;
  for (auto it = members_.begin(); it != members_.end();) {
    if (it->first != self_ && now - it->second.last_heard >= options_.lapse) {
      out.push_back({member_event::left, it->first, it->second.start_id});
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<std::string> membership::live() const {
  std::vector<std::string> out;
  out.reserve(members_.size());
  for (const auto& [name, m] : members_)
    out.push_back(name);
  return out;
}

bool membership::is_live(std::string_view name) const {
  return members_.find(name) != members_.end();
}

std::optional<std::uint64_t> membership::start_id_of(std::string_view name) const {
  auto it = members_.find(name);
  if (it == members_.end())
    return std::nullopt;
  return it->second.start_id;
}

bool membership::is_deaf(clock::time_point now) const noexcept {
  return !latest_heard_ || now - *latest_heard_ >= options_.deaf_after;
}

bool membership::is_gone(std::string_view name, clock::time_point now) const {
  return !is_live(name) && !is_deaf(now) && now - started_at_ >= options_.lapse;
}

std::optional<membership::clock::time_point> membership::next_lapse() const {
  std::optional<clock::time_point> out;
  for (const auto& [name, m] : members_)
    if (name != self_ && (!out || m.last_heard + options_.lapse < *out))
      out = m.last_heard + options_.lapse;
  return out;
}

} // namespace causeway::sharding
