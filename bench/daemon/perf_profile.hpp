// perf_profile.hpp — where the daemon's time goes, from a `perf record -g` of one drain:
// the top symbols, and the shares of the groups issue P2.4 names (Telluride's own code,
// libc's malloc/free, the rest of libc, the kernel, CAF, rabbitmq-c, libuv, ...) and of
// the threads, and how the kernel's share was entered (which system calls, page faults,
// interrupts), in all and per thread. On a VM the kernel's samples pile up on a few symbols
// that say nothing of their cause (a paravirtualised `pvm_irq_enable` took 13 % of them here,
// where a syscall or a fault returns): each sample's call chain tells which entry it came by.
// The parsing is pure (text in, figures out); profile() runs `perf report` and `perf script`.
#pragma once

#include "causeway/expected.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace daemon_bench {

/// One line of `perf report --stdio --no-children --sort dso,sym`: a symbol's share of the
/// samples (self time).
struct profile_line {
  double percent = 0;
  std::string dso;
  std::string symbol;
};

/// The lines of such a report, in its order (largest first); headers and blanks skipped.
std::vector<profile_line> parse_symbol_report(std::string_view text);

/// The lines of `perf report --stdio --no-children --sort pid` as ("TID:name", percent): one per
/// thread (the name is ":TID" when perf missed it).
std::vector<std::pair<std::string, double>> parse_thread_report(std::string_view text);

/// "# Samples: 3K of event 'cpu-clock'" → "3K"; "" when absent.
std::string sample_count(std::string_view text);

/// The group a symbol belongs to: "telluride" (the program, simdjson), "libc malloc/free",
/// "libc other", "kernel", "CAF", "rabbitmq-c", "libuv", "libstdc++", "vdso" or "other".
/// `program` is the daemon's file name (its dso name in the report).
std::string group_of(const profile_line& line, std::string_view program);

/// The groups' shares, largest first (every group listed, zeros included).
std::vector<std::pair<std::string, double>> group_shares(const std::vector<profile_line>& lines,
                                                         std::string_view program);

/// How a sample of `perf script` entered the kernel, from its frames, innermost first (each
/// the symbol perf gave, `kernel` whether its address is the kernel's): "" for a sample in
/// user space; the system call's name ("recvfrom", "futex", ...); "page fault"; "interrupt";
/// or "other" (a chain with none of those: a system call's return path, a kernel thread).
/// The innermost entry counts: an interrupt taken during a system call is the interrupt's.
struct stack_frame {
  bool kernel = false;
  std::string_view symbol;
};
std::string kernel_entry_of(const std::vector<stack_frame>& frames);

/// One thread's samples in `perf script -F tid,ip,sym` output: how many, how many in the
/// kernel, and those by entry (kernel_entry_of).
struct thread_kernel {
  std::size_t samples = 0;
  std::size_t kernel = 0;
  std::map<std::string, std::size_t> entries;
};
/// `perf script -F tid,ip,sym` output (blocks separated by blank lines: a line with the thread
/// id, then one line per frame, "ADDRESS SYMBOL", innermost first), by thread id.
std::map<std::string, thread_kernel> parse_script_samples(std::string_view text);

struct profile_thread {
  std::string tid;
  std::string name;      ///< as perf named it ("TID:comm"), or the benchmark's label
  double percent = 0;    ///< of all samples
  thread_kernel kernel;  ///< its samples by entry
};

struct profile_summary {
  std::string samples;
  std::vector<profile_line> top;  ///< the largest symbols
  std::vector<std::pair<std::string, double>> groups;
  std::vector<profile_thread> threads;
  std::vector<std::pair<std::string, double>> kernel_entries;  ///< share of all samples, largest first
};

/// Runs `perf report` on `perf_data` (by symbol and by thread) and `perf script` (the call
/// chains, for the kernel's entries), and summarises them.
causeway::expected<profile_summary> profile(const std::string& perf, const std::string& perf_data,
                                            std::string_view program, std::size_t top = 25);

/// Prints the summary (stdout) and returns it as JSON.
nlohmann::json print_profile(const profile_summary& summary);

} // namespace daemon_bench
