// split_messages.hpp — one vector of messages split into one vector per destination, in order.
#pragma once

#include "causeway/message.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace causeway::detail {

/// Moves `messages[i]` into part `to[i]` (each < `parts`), keeping their order; every part is
/// sized once, before it is filled. `sizes` is scratch space the caller keeps, to spare an
/// allocation per call. `messages` is left with moved-from elements.
std::vector<std::vector<message>> split_messages(std::vector<message>& messages, std::span<const std::uint32_t> to,
                                                 std::size_t parts, std::vector<std::size_t>& sizes);

} // namespace causeway::detail
