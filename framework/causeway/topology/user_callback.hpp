// user_callback.hpp — a user's callback called at the stage boundary, where what it throws
// becomes the failure reason of the messages it was handling (internal).
//
// Stages call every user callback (prepare_messages, handle_message, handle_batch,
// partition_by) through `call_user`, so an exception is caught once, described the same way
// everywhere, and never leaves the stage.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace causeway::topology {

/// "<step> threw: <what()>", or "<step> threw: unknown exception" for anything that is not a
/// std::exception. Call it only inside a catch block.
std::string current_exception_reason(std::string_view step);

/// Calls `callback`; returns the reason (above) when it threw, nothing when it returned.
template <class Callback>
std::optional<std::string> call_user(std::string_view step, Callback&& callback) {
  try {
    std::forward<Callback>(callback)();
    return std::nullopt;
  } catch (...) {
    return current_exception_reason(step);
  }
}

} // namespace causeway::topology
