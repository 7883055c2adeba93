#include "causeway/detail/declared_names.hpp"

#include "causeway/message.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <vector>

namespace causeway::detail {

namespace {

struct registry {
  std::mutex mutex;
  std::deque<std::string> names{std::string{default_batcher}};  // a deque never moves them
};

registry& the_registry() {
  static registry r;
  return r;
}

const std::string* find_locked(registry& r, std::string_view name) {
  auto it = std::find(r.names.begin(), r.names.end(), name);
  return it == r.names.end() ? nullptr : &*it;
}

} // namespace

void declare_name(std::string_view name) {
  auto& r = the_registry();
  std::lock_guard lock{r.mutex};
  if (find_locked(r, name) == nullptr)
    r.names.emplace_back(name);
}

const std::string* declared_name(std::string_view name) {
  thread_local std::vector<const std::string*> seen;  // declared names this thread looked up
  for (const std::string* known : seen)
    if (*known == name)
      return known;
  auto& r = the_registry();
  const std::string* found = nullptr;
  {
    std::lock_guard lock{r.mutex};
    found = find_locked(r, name);
  }
  if (found != nullptr)
    seen.push_back(found);
  return found;
}

const std::string& default_batcher_name() noexcept {
  return the_registry().names.front();
}

} // namespace causeway::detail
