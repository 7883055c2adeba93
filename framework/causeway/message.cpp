#include "causeway/message.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
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

// A message is at most two cache lines: it is moved whole at every hand-off between stages.
static_assert(sizeof(message) <= 128);

metadata& metadata::operator=(const metadata& other) {
  if (this != &other) {
    size_ = 0;
    grow_to(other.size_, false);
    if (other.size_ != 0)
      std::memcpy(bytes_.get(), other.bytes_.get(), other.size_);
    size_ = other.size_;
  }
  return *this;
}

void metadata::grow_to(std::size_t bytes, bool ahead) {
  if (bytes <= capacity_)
    return;
  if (bytes > UINT32_MAX)
    throw std::length_error("causeway::metadata: more than 4 GiB of keys and values");
  std::size_t capacity = bytes;
  if (ahead)
    capacity = std::min<std::size_t>(UINT32_MAX, std::max(bytes, std::size_t{capacity_} * 2));
  auto grown = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ != 0)
    std::memcpy(grown.get(), bytes_.get(), size_);
  bytes_ = std::move(grown);
  capacity_ = static_cast<std::uint32_t>(capacity);
}

metadata::entry metadata::entry_at(std::size_t at) const noexcept {
  const char* p = bytes_.get() + at;
  std::size_t key_size = size_at(p);
  std::size_t value_size = size_at(p + 4);
  std::size_t key_at = at + entry_header;
  std::size_t value_at = key_at + key_size;
  return entry{std::string_view{bytes_.get() + key_at, key_size}, std::string_view{bytes_.get() + value_at, value_size},
               value_at, value_at + value_size};
}

bool metadata::holds(std::string_view text) const noexcept {
  const std::less<const char*> before;
  const char* first = bytes_.get();
  return !text.empty() && first != nullptr && !before(text.data(), first) && before(text.data(), first + capacity_);
}

void metadata::add(std::string_view key, std::string_view value) {
  if (key.size() > UINT32_MAX || value.size() > UINT32_MAX)
    throw std::length_error("causeway::metadata: key or value longer than 4 GiB");
  const std::size_t at = size_;
  const std::size_t end = at + entry_header + key.size() + value.size();
  if (end > capacity_ && (holds(key) || holds(value))) {  // a view of an entry: growing moves it
    add(std::string{key}, std::string{value});
    return;
  }
  grow_to(end, true);
  char* p = bytes_.get() + at;
  put_size(p, key.size());
  put_size(p + 4, value.size());
  if (!key.empty())
    std::memcpy(p + entry_header, key.data(), key.size());
  if (!value.empty())
    std::memcpy(p + entry_header + key.size(), value.data(), value.size());
  size_ = static_cast<std::uint32_t>(end);
}

void metadata::set(std::string_view key, std::string_view value) {
  if (holds(value)) {  // a view of an entry: moving the entries after it would change it
    set(key, std::string{value});
    return;
  }
  for (std::size_t at = 0; at < size_;) {
    auto e = entry_at(at);
    if (e.key == key) {
      if (value.size() > UINT32_MAX)
        throw std::length_error("causeway::metadata: value longer than 4 GiB");
      const std::size_t old_size = e.value.size();
      const std::size_t new_total = size_ - old_size + value.size();
      if (value.size() != old_size) {
        grow_to(new_total, true);  // e's views are stale from here on
        char* base = bytes_.get();
        std::memmove(base + e.value_at + value.size(), base + e.value_at + old_size, size_ - (e.value_at + old_size));
      }
      if (!value.empty())
        std::memcpy(bytes_.get() + e.value_at, value.data(), value.size());
      put_size(bytes_.get() + at + 4, value.size());
      size_ = static_cast<std::uint32_t>(new_total);
      return;
    }
    at = e.next;
  }
  add(key, value);
}

std::string_view metadata::get(std::string_view key) const noexcept {
  for (std::size_t at = 0; at < size_;) {
    auto e = entry_at(at);
    if (e.key == key)
      return e.value;
    at = e.next;
  }
  return {};
}

bool metadata::contains(std::string_view key) const noexcept {
  for (std::size_t at = 0; at < size_;) {
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
