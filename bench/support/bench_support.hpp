// bench_support.hpp — what the broker benchmarks share: CPU and memory readings from /proc,
// waiting for the broker to settle, preloading a queue, and the reference every broker
// benchmark is compared with: a minimal rabbitmq-c consumer.
//
// Functions that can fail return causeway::expected; the benchmark's main turns an error
// into its one-line JSON error report (bench/run.sh contract).
#pragma once

#include "causeway/amqp/publisher.hpp"
#include "causeway/expected.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using clock_type = std::chrono::steady_clock;

// --- CPU and memory -------------------------------------------------------------------------

/// utime + stime from a /proc stat file (process or thread), in seconds; 0 when it cannot be
/// read (the process is gone).
double stat_cpu_seconds(const std::string& path);

/// CPU seconds of process `pid` so far; 0 for pid <= 0 or a process that is gone.
double process_cpu_seconds(long pid);

/// CPU seconds of this process (getrusage).
double own_cpu_seconds();

/// Peak resident set size of this process, in MiB.
double peak_rss_mib();

/// Peak resident set size (VmHWM of /proc/PID/status) of process `pid`, in MiB; 0 when it
/// cannot be read.
double process_peak_rss_mib(long pid);

/// CPU seconds per thread name of this process (connection threads, CAF workers...).
std::map<std::string, double> thread_cpu_seconds();

/// One thread of a process, as /proc/PID/task shows it.
struct thread_cpu {
  long tid = 0;
  std::string name;  ///< comm: at most 15 characters
  double cpu_s = 0;
  double user_s = 0;    ///< utime (clock ticks: coarse)
  double system_s = 0;  ///< stime (clock ticks: coarse)
  std::uint64_t voluntary_switches = 0;    ///< the thread blocked (waits, sleeps)
  std::uint64_t involuntary_switches = 0;  ///< the thread was preempted
};

/// Every live thread of process `pid`, by thread id (creation order). CPU time comes from
/// /proc/PID/task/TID/schedstat (nanoseconds) where the kernel has it, else from stat (ticks);
/// the user/system split from stat, context switches from status.
std::vector<thread_cpu> process_threads(long pid);

/// Context switches of every live thread of a process so far.
struct context_switches {
  std::uint64_t voluntary = 0;    ///< waits: the thread had nothing to do
  std::uint64_t involuntary = 0;  ///< preemptions: another thread took the core
};
context_switches process_context_switches(long pid);

/// The thread names (a part of them) of the Erlang VM's dirty CPU schedulers.
inline constexpr std::string_view broker_gc_threads = "dirty_cpu";

/// CPU seconds so far of the threads of a process whose name contains `part` (with
/// broker_gc_threads: how much of the broker's CPU went to collecting large heaps). 0 for pid 0.
double threads_cpu_seconds(long pid, std::string_view part);

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
double median(std::vector<double> values);

/// The host's CPU pressure: `some avg10` of /proc/pressure/cpu (% of the last 10 s in which
/// some runnable task waited for a core); -1 when the kernel does not report it.
double cpu_pressure_some_avg10();

/// TCP segments sent by this machine so far (Tcp OutSegs of /proc/net/snmp, every socket of
/// the network namespace, pure ACKs included); 0 when unreadable. A drain's delta per message
/// shows how finely the broker cut its deliveries.
std::uint64_t tcp_out_segments();

/// Waits until the broker has digested what it was given (persisting the preload, queue
/// index and message store work): under 5 % of a core for 2 s, or 60 s at most. A drain
/// that starts while the broker is still busy is slowed by it, which would skew the
/// comparison. Without a pid it sleeps 2 s.
void wait_until_broker_idle(long pid);

// --- preloading -----------------------------------------------------------------------------

struct preload_options {
  std::string url;
  std::string connection_name{"bench-preload"};
  std::string exchange;     ///< "" = the default exchange: routing_key names the queue
  std::string routing_key;
  std::size_t messages = 0;
  std::size_t confirm_window = 2000;
  /// Above this many unconfirmed messages the preload pauses 1 ms between publishes.
  std::uint64_t max_outstanding = 20000;
  std::chrono::seconds timeout{300};
};

/// Fills the body and properties of message `index` (exchange and routing key are set).
using message_maker = std::function<void(std::size_t index, causeway::amqp::outgoing_message& msg)>;

/// Publishes `options.messages` messages with confirms and waits until the broker confirmed
/// them all. Errors: the publisher's own (cannot connect...) or "preloading KEY timed out".
causeway::expected<void> preload(const preload_options& options, const message_maker& make);

// --- the reference: a minimal rabbitmq-c consumer -------------------------------------------

struct baseline_options {
  std::string url;
  long broker_pid = 0;  ///< for the broker's CPU; 0: not measured
  std::size_t messages = 0;
  std::uint16_t prefetch = 1000;
  std::size_t ack_every = 100;  ///< one basic.ack(multiple) per this many deliveries
};

/// What one drain of a queue cost.
struct drain_result {
  double msgs_per_s = 0;
  double broker_cpu_s = 0;  ///< for the whole drain
  double broker_gc_cpu_s = 0;  ///< of it, the broker's dirty CPU schedulers (threads_cpu_seconds)
  double client_cpu_s = 0;
  std::uint64_t ack_frames = 0;
};

/// Drains `messages` messages of `queue` with one blocking rabbitmq-c consumer on one channel
/// (basic.qos prefetch, a multiple-ack every `ack_every` messages, no work per message). The
/// time runs from basic.consume to the last delivery; the broker's CPU until it answered an
/// RPC after the last ack. Errors: a bad URL, or "baseline: STEP failed...".
causeway::expected<drain_result> run_baseline(const baseline_options& options, const std::string& queue);

// --- reading a queue -----------------------------------------------------------------------

/// Takes (basic.get, acknowledged) every message ready in `queue`, at most `limit`, and
/// returns their bodies in queue order.
causeway::expected<std::vector<std::string>> take_all(const std::string& url, const std::string& queue,
                                                      std::size_t limit = 100000);

} // namespace bench
