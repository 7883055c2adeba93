#include "support/neighbour_process.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

namespace bench {

causeway::expected<neighbour_process> neighbour_process::start(const std::string& program, double fraction,
                                                               const std::string& log_path) {
  if (fraction <= 0)
    return neighbour_process{0, std::nullopt, log_path};
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", fraction);
  std::error_code ec;
  std::filesystem::remove(log_path, ec);
  auto spawned = child_process::spawn({program, "--fraction", text}, log_path);
  if (!spawned)
    return spawned.err();
  neighbour_process out{fraction, std::move(*spawned), log_path};
  // It fills its buffer first (a few hundred MiB at most): let it reach its rhythm.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  if (!out.child_->is_running())
    return causeway::error{"the noisy neighbour " + program + " ended at once: " + out.child_->log_tail(3)};
  return out;
}

causeway::expected<neighbour_summary> neighbour_process::stop() {
  if (!child_)
    return neighbour_summary{};
  if (!child_->is_running())
    return causeway::error{"the noisy neighbour ended before it was stopped: " + child_->log_tail(3)};
  child_->signal(SIGTERM);
  auto status = child_->wait(std::chrono::seconds(10));
  std::string tail = child_->log_tail(1);
  child_.reset();
  if (!status)
    return causeway::error{"the noisy neighbour did not end within 10 s of SIGTERM"};
  auto j = nlohmann::json::parse(tail, nullptr, false);
  if (!j.is_object() || !j.contains("busy_fraction"))
    return causeway::error{"the noisy neighbour printed no summary (" + describe_status(*status) + "): " + tail};
  neighbour_summary s;
  s.fraction = j.value("fraction", 0.0);
  s.busy_fraction = j.value("busy_fraction", 0.0);
  s.cpu_fraction = j.value("cpu_fraction", 0.0);
  s.gib_streamed = j.value("gib_streamed", 0.0);
  s.buffer_mib = j.value("buffer_mib", 0.0);
  s.seconds = j.value("seconds", 0.0);
  return s;
}

} // namespace bench
