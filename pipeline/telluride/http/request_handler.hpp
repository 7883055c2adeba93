// request_handler.hpp — the owner's callback, where it runs, and the boundary where its
// exceptions stop.
//
// Thread rule: a handler placed on `handler_thread::loop` runs on the server's loop thread, one
// request at a time; while it runs no other request is served, so it must answer at once (copy
// a snapshot, never wait on a broker or an actor). A handler placed on `handler_thread::worker`
// runs on one of the server's worker threads while the loop goes on serving everyone else (the
// threads are joined by `http_server::stop()`, so thread-bound state such as a CAF scoped_actor
// is gone before the owner tears its actor system down); it may wait
// (bounded), and may run concurrently with other handlers. Either may read state shared with
// other threads only under that state's own lock, and must not call `http_server::stop()`.
// Requests of one connection are answered in arrival order wherever their handlers run.
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

/// Calls `handler` for `req`. An exception becomes a 500 naming the failure in one line
/// (logged once with method and path, never the body or headers); an empty handler answers 404.
response answer(const request_handler& handler, const request& req);

} // namespace telluride::http
