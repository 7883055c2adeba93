// expected.hpp — a value or an error that names what went wrong.
//
// The sensor domain returns `expected<T>` for bad input instead of throwing; the error is one
// line a user can act on (`missing field "sensor_id"`). It is Causeway's header-only type, so
// the daemon handles both libraries' errors the same way; the domain library does not link
// Causeway.
#pragma once

#include <causeway/expected.hpp>

namespace telluride {

using causeway::error;
using causeway::expected;

} // namespace telluride
