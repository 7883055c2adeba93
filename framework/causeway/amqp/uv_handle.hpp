// uv_handle.hpp — libuv handles owned by unique_ptr.
//
// A libuv handle may only be freed after its close callback ran, on the loop thread. The
// deleter calls uv_close and frees the handle in the callback, so destroying the pointer on
// the loop thread is always correct. Handles must be initialised right after allocation.
#pragma once

#include <uv.h>

#include <memory>

namespace causeway::amqp::detail {

template <class Handle>
struct uv_close_deleter {
  void operator()(Handle* handle) const noexcept {
    uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* raw) {
      std::unique_ptr<Handle> owned(reinterpret_cast<Handle*>(raw));
    });
  }
};

template <class Handle>
using uv_handle_ptr = std::unique_ptr<Handle, uv_close_deleter<Handle>>;

/// A zeroed, not yet initialised handle; call uv_*_init on it before anything can destroy it.
template <class Handle>
uv_handle_ptr<Handle> allocate_handle() {
  return uv_handle_ptr<Handle>(std::make_unique<Handle>().release());
}

} // namespace causeway::amqp::detail
