// declared_names.hpp — the batcher names pipelines declared, kept for the life of the process.
//
// Every message names its batcher. Copying the name into each message costs an allocation
// per message once it is longer than std::string's inline 15 characters ("sensor_batcher_one");
// a message instead points at the one copy here. Only names that a started pipeline declared
// are kept, so the set grows with configuration, never with traffic. Thread-safe: each thread
// looks names up in a small cache of its own and takes the lock only on a miss.
#pragma once

#include <string>
#include <string_view>

namespace causeway::detail {

/// Keeps `name` (idempotent).
void declare_name(std::string_view name);

/// The kept copy of `name`, or nullptr when no pipeline declared it.
const std::string* declared_name(std::string_view name);

/// The kept "default".
const std::string& default_batcher_name() noexcept;

} // namespace causeway::detail
