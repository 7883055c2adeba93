#include "causeway/message.hpp"

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace causeway {

namespace {

void put_size(char* out, std::size_t n) noexcept {
  auto v = static_cast<std::uint32_t>(n);
  std::memcpy(out, &v, sizeof v);
}

std::uint32_t size_at(const char* in) noexcept {
  std::uint32_t v = 0;
  std::memcpy(&v, in, sizeof v);
  return v;
}

} // namespace

metadata::entry metadata::entry_at(std::size_t at) const noexcept {
  const char* p = buffer_.data() + at;
  std::size_t key_size = size_at(p);
  std::size_t value_size = size_at(p + 4);
  std::size_t key_at = at + entry_header;
  std::size_t value_at = key_at + key_size;
  return entry{std::string_view{buffer_.data() + key_at, key_size},
               std::string_view{buffer_.data() + value_at, value_size}, value_at,
               value_at + value_size};
}

void metadata::add(std::string_view key, std::string_view value) {
  if (key.size() > UINT32_MAX || value.size() > UINT32_MAX)
    throw std::length_error("causeway::metadata: key or value longer than 4 GiB");
  char header[entry_header];
  put_size(header, key.size());
  put_size(header + 4, value.size());
  buffer_.append(header, entry_header);
  buffer_.append(key);
  buffer_.append(value);
}

void metadata::set(std::string_view key, std::string_view value) {
  for (std::size_t at = 0; at < buffer_.size();) {
    auto e = entry_at(at);
    if (e.key == key) {
      if (value.size() > UINT32_MAX)
        throw std::length_error("causeway::metadata: value longer than 4 GiB");
      buffer_.replace(e.value_at, e.value.size(), value);
      put_size(buffer_.data() + at + 4, value.size());
      return;
    }
    at = e.next;
  }
  add(key, value);
}

std::string_view metadata::get(std::string_view key) const noexcept {
  for (std::size_t at = 0; at < buffer_.size();) {
    auto e = entry_at(at);
    if (e.key == key)
      return e.value;
    at = e.next;
  }
  return {};
}

bool metadata::contains(std::string_view key) const noexcept {
  for (std::size_t at = 0; at < buffer_.size();) {
    auto e = entry_at(at);
    if (e.key == key)
      return true;
    at = e.next;
  }
  return false;
}

std::vector<std::pair<std::string, std::string>> metadata::entries() const {
  std::vector<std::pair<std::string, std::string>> out;
  for_each([&](std::string_view k, std::string_view v) { out.emplace_back(k, v); });
  return out;
}

} // namespace causeway
