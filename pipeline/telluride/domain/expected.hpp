// expected.hpp — a value or an error that names what went wrong.
//
// The sensor domain returns `expected<T>` for bad input instead of throwing. The error is one
// line a user can act on (`missing field "sensor_id"`). Mirrors `causeway::expected` so the
// daemon can handle both the same way without this library linking Causeway.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace telluride {

/// One line that names the field or key and the reason.
struct error {
  std::string message;
};

/// Holds either a T or an error. `expected<void>` holds nothing or an error.
template <class T>
class expected {
public:
  expected(T value) : state_(std::move(value)) {}
  expected(error err) : state_(std::move(err)) {}

  explicit operator bool() const noexcept { return state_.index() == 0; }
  bool has_value() const noexcept { return state_.index() == 0; }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// Precondition: `!has_value()`.
  const error& err() const { return std::get<1>(state_); }

private:
  std::variant<T, error> state_;
};

template <>
class expected<void> {
public:
  expected() = default;
  expected(error err) : err_(std::move(err)), ok_(false) {}

  explicit operator bool() const noexcept { return ok_; }
  bool has_value() const noexcept { return ok_; }
  const error& err() const { return err_; }

private:
  error err_;
  bool ok_ = true;
};

} // namespace telluride
