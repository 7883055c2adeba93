#include "causeway/message.hpp"

#include <algorithm>

namespace causeway {

void metadata::set(std::string key, std::string value) {
  for (auto& [k, v] : entries_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  entries_.emplace_back(std::move(key), std::move(value));
}

std::string_view metadata::get(std::string_view key) const noexcept {
  for (const auto& [k, v] : entries_)
    if (k == key)
      return v;
  return {};
}

bool metadata::contains(std::string_view key) const noexcept {
  return std::any_of(entries_.begin(), entries_.end(),
                     [key](const auto& entry) { return entry.first == key; });
}

} // namespace causeway
