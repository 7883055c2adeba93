// request_handler.hpp — the owner's callback, and the boundary where its exceptions stop.
//
// Thread rule: the server calls the handler on its own loop thread, one request at a time, in
// the order requests arrive on each connection. While it runs no other request is served, so
// it must answer quickly (copy a snapshot, don't wait on a broker). It may read state shared
// with other threads only under that state's own lock. It must not call `http_server::stop()`
// and then expect the server to be gone on return.
#pragma once

#include "telluride/http/request.hpp"
#include "telluride/http/response.hpp"

#include <functional>

namespace telluride::http {

/// Turns one request into one response. May throw: the client then gets a 500 and the
/// server carries on.
using request_handler = std::function<response(const request&)>;

/// Where a request's handler runs.
enum class handler_thread {
  loop,    ///< on the server's loop thread: answers at once
  worker,  ///< on a worker thread: may wait (on actors); bounded by max_worker_handlers
};

/// Says where the handler for a request runs; called on the loop thread. Empty: the loop.
using handler_placement = std::function<handler_thread(const request&)>;

/// Calls `handler` for `req`. An exception becomes a 500 (logged once with method and path,
/// never the body or headers); an empty handler answers 404.
response answer(const request_handler& handler, const request& req);

} // namespace telluride::http
