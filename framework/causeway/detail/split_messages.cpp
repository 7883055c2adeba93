#include "causeway/detail/split_messages.hpp"

namespace causeway::detail {

std::vector<std::vector<message>> split_messages(std::vector<message>& messages, std::span<const std::uint32_t> to,
                                                 std::size_t parts, std::vector<std::size_t>& sizes) {
  sizes.assign(parts, 0);
  for (auto part : to)
    ++sizes[part];
  std::vector<std::vector<message>> out(parts);
  for (std::size_t p = 0; p < parts; ++p)
    out[p].reserve(sizes[p]);
  for (std::size_t i = 0; i < messages.size(); ++i)
    out[to[i]].push_back(std::move(messages[i]));
  return out;
}

} // namespace causeway::detail
