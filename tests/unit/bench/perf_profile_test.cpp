// How `bench/run.sh daemon --profile` tells how the kernel's samples were entered, from the
// call chains `perf script` prints (bench/daemon/perf_profile.hpp).
#include "daemon/perf_profile.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

using daemon_bench::kernel_entry_of;
using daemon_bench::parse_script_samples;
using daemon_bench::stack_frame;

namespace {

stack_frame k(std::string_view symbol) { return {true, symbol}; }
stack_frame u(std::string_view symbol) { return {false, symbol}; }

} // namespace

TEST_CASE("a sample in user space has no kernel entry") {
  CHECK(kernel_entry_of({u("telluride::reading_parser::state::parse"), u("telluride::decode_reading")}) == "");
  CHECK(kernel_entry_of({}) == "");
}

TEST_CASE("a sample in a system call counts for that call, wherever in the kernel it landed") {
  CHECK(kernel_entry_of({k("pvm_write_msr"), k("x2apic_send_IPI"), k("tcp_recvmsg_locked"), k("tcp_recvmsg"),
                         k("__sys_recvfrom"), k("__x64_sys_recvfrom"), k("do_syscall_64"),
                         k("entry_SYSCALL_64_after_hwframe"), u("__libc_recv")}) == "recvfrom");
  CHECK(kernel_entry_of({k("_raw_spin_unlock"), k("futex_wake"), k("do_futex"), k("__x64_sys_futex"),
                         k("do_syscall_64"), u("__lll_lock_wake")}) == "futex");
}

TEST_CASE("a page fault and an interrupt count as such, also when they came during a system call") {
  CHECK(kernel_entry_of({k("pvm_irq_enable"), k("__raw_callee_save_pvm_irq_enable"), k("exc_page_fault"),
                         k("asm_exc_page_fault"), u("telluride::shard_state::note_recorded")}) == "page fault");
  CHECK(kernel_entry_of({k("native_apic_msr_eoi"), k("sysvec_apic_timer_interrupt"),
                         k("asm_sysvec_apic_timer_interrupt"), k("tcp_sendmsg_locked"), k("__x64_sys_sendto"),
                         k("do_syscall_64"), u("__send")}) == "interrupt");
}

TEST_CASE("a kernel sample with no entry in its chain is other: a system call's return, a chain perf cut") {
  CHECK(kernel_entry_of({k("pvm_irq_enable"), k("syscall_exit_to_user_mode"), k("do_syscall_64"),
                         k("entry_SYSCALL_64_after_hwframe"), u("__libc_recv")}) == "other");
  CHECK(kernel_entry_of({k("pvm_irq_enable")}) == "other");
  // Kernel-looking names below the user-space frames are not the sample's entry.
  CHECK(kernel_entry_of({k("schedule"), u("epoll_wait"), u("__x64_sys_read")}) == "other");
}

TEST_CASE("perf script's samples are counted by thread, with the kernel's by entry") {
  const std::string text =
    "  10818 \n"
    "\t          1cc345 causeway::amqp::detail::queue_channel::accept\n"
    "\t               0 [unknown]\n"
    "\n"
    "  10818 \n"
    "\tffffffff8133c639 pvm_write_msr\n"
    "\tffffffff8206775f tcp_recvmsg\n"
    "\tffffffff81e779a0 __x64_sys_recvfrom\n"
    "\tffffffff8223c951 do_syscall_64\n"
    "\t          10a974 __libc_recv\n"
    "\n"
    "  10824 \n"
    "\tffffffff82242009 pvm_irq_enable\n"
    "\tffffffff81000c82 asm_exc_page_fault\n"
    "\t          200989 telluride::shard_state::note_recorded\n"
    "\n"
    "  10824 \n"
    "\tffffffff82242009 pvm_irq_enable\n"
    "\tffffffff81000c82 asm_exc_page_fault\n"
    "\t          200989 telluride::shard_state::note_recorded\n";
  const auto threads = parse_script_samples(text);
  REQUIRE(threads.size() == 2);
  const auto& consumer = threads.at("10818");
  CHECK(consumer.samples == 2);
  CHECK(consumer.kernel == 1);
  CHECK(consumer.entries == std::map<std::string, std::size_t>{{"recvfrom", 1}});
  const auto& checkpoint = threads.at("10824");
  CHECK(checkpoint.samples == 2);
  CHECK(checkpoint.kernel == 2);
  CHECK(checkpoint.entries == std::map<std::string, std::size_t>{{"page fault", 2}});
  CHECK(parse_script_samples("").empty());
}
