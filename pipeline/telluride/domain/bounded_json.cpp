#include "telluride/domain/bounded_json.hpp"

#include <causeway/utf8.hpp>

#include <cstdio>
#include <string>
#include <unordered_set>
#include <vector>

namespace telluride {

namespace {

using ordered_json = nlohmann::ordered_json;

/// Thrown from the parser callback to stop parsing at the first limit crossed.
struct limit_crossed {
  std::string problem;
};

/// The parser's reason without its `[json.exception...] ` prefix, on one line.
std::string parse_problem(const nlohmann::json::exception& e) {
  std::string_view text = e.what();
  if (const auto end = text.find("] "); text.starts_with("[json.exception") && end != text.npos)
    text.remove_prefix(end + 2);
  return causeway::one_line_utf8(text, 300);
}

std::string quoted_key(const std::string& key) {
  return ordered_json(causeway::one_line_utf8(key, 60)).dump();
}

} // namespace

expected<nlohmann::ordered_json> parse_bounded_json(std::string_view text, const json_limits& limits) {
  if (text.size() > limits.max_bytes)
    return error{"is larger than " + std::to_string(limits.max_bytes) + " bytes (got " +
                 std::to_string(text.size()) + ")"};
  if (const auto bad = causeway::first_invalid_utf8(text); bad != text.npos) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned>(static_cast<unsigned char>(text[bad])));
    return error{"is not valid UTF-8 (byte " + std::string(byte) + " at offset " + std::to_string(bad) + ")"};
  }
  // nlohmann's parser takes a NUL byte for the end of the input, so "{...}\0{...}" would be
  // read as its first object. JSON allows no raw NUL anywhere (inside strings it must be
  // written \u0000), so one is refused here.
  if (const auto nul = text.find('\0'); nul != text.npos)
    return error{"is not valid JSON: a NUL byte at offset " + std::to_string(nul)};
  // The keys of each object still open, innermost last. nlohmann's parser is iterative; the
  // callback sees every container open before it is built, with the number of containers
  // around it as `depth`.
  std::vector<std::unordered_set<std::string>> open_objects;
  const auto check = [&](int depth, ordered_json::parse_event_t event, ordered_json& parsed) {
    using event_t = ordered_json::parse_event_t;
    switch (event) {
      case event_t::object_start:
      case event_t::array_start:
        if (static_cast<std::size_t>(depth) >= limits.max_depth)
          throw limit_crossed{"is nested deeper than " + std::to_string(limits.max_depth) + " levels"};
        if (event == event_t::object_start)
          open_objects.emplace_back();
        break;
      case event_t::object_end: open_objects.pop_back(); break;
      case event_t::key:
        if (!open_objects.back().insert(parsed.get_ref<const std::string&>()).second)
          throw limit_crossed{"gives the key " + quoted_key(parsed.get_ref<const std::string&>()) + " twice"};
        break;
      default: break;
    }
    return true;
  };
  try {
    return ordered_json::parse(text, check);
  } catch (const limit_crossed& crossed) {
    return error{crossed.problem};
  } catch (const nlohmann::json::exception& e) {
    return error{"is not valid JSON: " + parse_problem(e)};
  }
}

} // namespace telluride
