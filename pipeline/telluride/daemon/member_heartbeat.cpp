#include "telluride/daemon/member_heartbeat.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

namespace telluride {

namespace {

constexpr std::uint32_t max_layout = 1024;
constexpr std::size_t max_node_size = 255;
constexpr std::array<std::string_view, 3> held_states{"active", "restoring", "handing_over"};

error bad(const std::string& what) {
  return error{"heartbeat: " + what};
}

} // namespace

std::string encode_heartbeat(const member_heartbeat& heartbeat) {
  nlohmann::json held = nlohmann::json::array();
  for (const auto& h : heartbeat.held)
    held.push_back({{"shard", h.shard}, {"state", h.state}});
  nlohmann::json j{{"node", heartbeat.node}, {"start_id", heartbeat.start_id}, {"shards", heartbeat.shards},
                   {"held", std::move(held)}};
  return j.dump();
}

expected<member_heartbeat> decode_heartbeat(std::string_view bytes) {
  if (bytes.size() > max_heartbeat_size)
    return bad("larger than " + std::to_string(max_heartbeat_size) + " bytes");
  // Depth: an object holding a list of objects; the parser stops deeper input before recursing.
  int depth = 0;
  auto limit = [&depth](int, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if (event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start)
      ++depth;
    else if (event == nlohmann::json::parse_event_t::object_end || event == nlohmann::json::parse_event_t::array_end)
      --depth;
    if (depth > 3)
      throw std::invalid_argument("nested too deep");
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bytes.begin(), bytes.end(), limit);
  } catch (const std::exception&) {
    return bad("not JSON (or nested deeper than 3 levels)");
  }
  if (!j.is_object())
    return bad("not a JSON object");
  member_heartbeat out;
  const auto node = j.find("node");
  if (node == j.end() || !node->is_string() || node->get_ref<const std::string&>().empty() ||
      node->get_ref<const std::string&>().size() > max_node_size)
    return bad("\"node\" must be a string of 1..255 bytes");
  out.node = node->get<std::string>();
  const auto start = j.find("start_id");
  if (start == j.end() || !start->is_number_unsigned())
    return bad("\"start_id\" must be an unsigned integer");
  out.start_id = start->get<std::uint64_t>();
  const auto shards = j.find("shards");
  if (shards == j.end() || !shards->is_number_unsigned() || shards->get<std::uint64_t>() < 1 ||
      shards->get<std::uint64_t>() > max_layout)
    return bad("\"shards\" must be an integer in 1..1024");
  out.shards = shards->get<std::uint32_t>();
  const auto held = j.find("held");
  if (held == j.end() || !held->is_array())
    return bad("\"held\" must be a list");
  for (const auto& h : *held) {
    if (!h.is_object())
      return bad("each of \"held\" must be an object");
    const auto shard = h.find("shard");
    if (shard == h.end() || !shard->is_number_unsigned() || shard->get<std::uint64_t>() >= out.shards)
      return bad("a held \"shard\" must be an integer below shards (" + std::to_string(out.shards) + ")");
    const auto state = h.find("state");
    if (state == h.end() || !state->is_string() ||
        std::find(held_states.begin(), held_states.end(), state->get_ref<const std::string&>()) == held_states.end())
      return bad("a held shard's \"state\" must be active, restoring or handing_over");
    const auto s = shard->get<std::uint32_t>();
    if (std::any_of(out.held.begin(), out.held.end(), [s](const held_shard& x) { return x.shard == s; }))
      return bad("shard " + std::to_string(s) + " is held twice");
    out.held.push_back(held_shard{s, state->get<std::string>()});
  }
  return out;
}

} // namespace telluride
