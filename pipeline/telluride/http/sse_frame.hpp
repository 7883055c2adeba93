// sse_frame.hpp — the bytes of a server-sent-event stream (text/event-stream).
//
// A stream is a response head without Content-Length (the body ends when the connection does)
// followed by events. An event is one or more `data:` lines and an empty line; a browser's
// EventSource joins the data lines of one event with "\n". Pure.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace telluride::http {

/// The head of a stream response: 200, `Content-Type: text/event-stream`, no caching, kept
/// alive, then a `retry:` field asking a browser to reconnect `retry` after a lost connection.
std::string sse_stream_head(std::chrono::milliseconds retry);

/// One event carrying `data`: a `data: ` line for every line of `data` (split at "\n", "\r\n"
/// or "\r", so a payload can never end an event early or inject a field), then an empty line.
/// `sse_event("{\"a\":1}")` is `data: {"a":1}\n\n`; empty data is `data: \n\n`.
std::string sse_event(std::string_view data);

} // namespace telluride::http
