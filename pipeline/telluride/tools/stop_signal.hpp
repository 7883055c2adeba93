// stop_signal.hpp — SIGINT/SIGTERM as a flag the tools' main loops poll.
//
// Tools run a loop on the main thread that waits in short slices (at most ~100 ms) and checks
// `stop_requested()` between them, so Ctrl-C ends them cleanly: confirms are awaited, queues
// closed, a summary printed. SIGPIPE is ignored: a write to a closed pipe (`telluride tail
// events | head -1`) fails with EPIPE, which the tool treats as "the reader is done".
#pragma once

namespace telluride::tools {

/// Installs the handlers (idempotent). Call once before the main loop.
void install_stop_signals();

/// True once SIGINT or SIGTERM arrived.
bool stop_requested() noexcept;

/// How many stop signals arrived: a second Ctrl-C abandons what the first one waits for.
int stop_signal_count() noexcept;

/// The last stop signal's number (SIGINT, SIGTERM), 0 if none.
int last_stop_signal() noexcept;

} // namespace telluride::tools
