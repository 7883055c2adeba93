// reconfiguration_fuzz.cpp — the control message validator (docs/wire-format.md,
// Reconfiguration) on arbitrary bodies.
//
// Invariants: an error is one line of valid UTF-8; an accepted body is valid UTF-8, at most
// 64 KiB, gives no key twice, and its change is a non-empty object that validates again,
// applies to the default config (which then holds exactly those values) and round-trips
// through its JSON text.
#include "fuzz_check.hpp"

#include "telluride/domain/config_schema.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t max_body_size = 64 * 1024;

/// How often `"key"` occurs in `body`, spelled as written (escaped spellings are not found).
std::size_t occurrences(std::string_view body, const std::string& key) {
  const std::string quoted = '"' + key + '"';
  std::size_t count = 0;
  for (auto at = body.find(quoted); at != std::string_view::npos; at = body.find(quoted, at + 1))
    ++count;
  return count;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = telluride::parse_reconfiguration(body);
  if (!parsed) {
    fuzz::check_error_text(parsed.err().message, "parse_reconfiguration");
    return 0;
  }

  const nlohmann::json& change = *parsed;
  fuzz::check(body.size() <= max_body_size, "a reconfiguration over 64 KiB is refused");
  fuzz::check(fuzz::is_valid_utf8(body), "a reconfiguration that is not UTF-8 is refused", body);
  fuzz::check(change.is_object() && !change.empty(),
              "an accepted reconfiguration is a non-empty object", [&] { return change.dump(); });
  for (const auto& [key, value] : change.items())
    fuzz::check(occurrences(body, key) <= 1, "a reconfiguration giving a key twice is refused",
                body);
  fuzz::check(telluride::validate_reconfiguration(change).has_value(),
              "an accepted reconfiguration validates again", [&] { return change.dump(); });

  const auto applied = telluride::apply_reconfiguration(telluride::config{}, change);
  fuzz::check(applied.has_value(), "an accepted reconfiguration applies", [&] { return change.dump(); });
  const nlohmann::json now = telluride::reconfiguration_to_json(*applied);
  for (const auto& item : change.items())
    fuzz::check(now.contains(item.key()) && now[item.key()] == item.value(),
                "the applied config holds the reconfiguration's values",
                [&] { return item.key() + ": " + item.value().dump() + " -> " + now.dump(); });

  const std::string text = change.dump();
  const auto again = telluride::parse_reconfiguration(text);
  fuzz::check(again.has_value() && *again == change,
              "an accepted reconfiguration round-trips through its JSON text", text);
  return 0;
}
