#include "telluride/tools/stop_signal.hpp"

#include <csignal>

namespace telluride::tools {

namespace {

volatile std::sig_atomic_t stop_count = 0;
volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int signal_number) {
  stop_signal = signal_number;
  stop_count = stop_count + 1;
}

} // namespace

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

bool stop_requested() noexcept { return stop_count > 0; }

int stop_signal_count() noexcept { return stop_count; }

int last_stop_signal() noexcept { return stop_signal; }

} // namespace telluride::tools
