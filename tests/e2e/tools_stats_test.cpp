// Shared-memory statistics: the seqlock, the writer and reader, and `telluride stats`.
#include "e2e_support.hpp"

#include "telluride/stats/shared_stats.hpp"
#include "telluride/stats/shared_stats_layout.hpp"

#include <doctest/doctest.h>

#include <sys/mman.h>

#include <cstring>

using namespace e2e;
using telluride::shared_stats_record;
using telluride::shared_stats_writer;

namespace {

/// A name prefix of this test alone: no daemon running beside the tests is ever seen.
std::string test_prefix() { return unique_name("telluride-e2e") + "-"; }

shared_stats_record sample_record(std::uint64_t n) {
  shared_stats_record r;
  r.started_ms = 1613092731838;
  r.updated_ms = 1613092731838 + static_cast<std::int64_t>(n);
  r.config_version = n;
  r.consumed = n;
  r.successful = n;
  r.failed = n;
  r.duplicates = n;
  r.in_flight = n;
  r.sensors = n;
  r.alerts = n;
  r.reconnects = n;
  r.messages_per_second = static_cast<double>(n);
  r.ready = 1;
  std::snprintf(r.amqp_url, sizeof r.amqp_url, "amqp://guest:***@127.0.0.1:5672/%%2f");
  std::snprintf(r.http_listen, sizeof r.http_listen, "127.0.0.1:%llu", static_cast<unsigned long long>(n % 65536));
  return r;
}

bool is_consistent(const shared_stats_record& r) {
  const auto n = r.consumed;
  return r.config_version == n && r.successful == n && r.failed == n && r.duplicates == n && r.in_flight == n &&
         r.sensors == n && r.alerts == n && r.reconnects == n && r.messages_per_second == static_cast<double>(n) &&
         r.updated_ms == 1613092731838 + static_cast<std::int64_t>(n) &&
         std::string(r.http_listen) == "127.0.0.1:" + std::to_string(n % 65536);
}

/// Creates /<name> holding a segment written as if by process `pid`, with `version`.
void create_segment(const std::string& name, std::int32_t pid, std::uint32_t version) {
  int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, sizeof(telluride::detail::shared_stats_segment)) == 0);
  void* address = ::mmap(nullptr, sizeof(telluride::detail::shared_stats_segment), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(address != MAP_FAILED);
  auto* segment = static_cast<telluride::detail::shared_stats_segment*>(address);
  telluride::detail::initialise_segment(*segment, pid);
  auto record = sample_record(5);
  record.pid = pid;
  telluride::detail::seqlock_write(*segment, record);
  segment->layout_version = version;
  ::munmap(address, sizeof *segment);
}

bool shm_exists(const std::string& name) { return std::filesystem::exists("/dev/shm/" + name); }

} // namespace

TEST_CASE("the seqlock never hands out a torn record while a writer rewrites it") {
  auto segment = std::make_unique<telluride::detail::shared_stats_segment>();
  telluride::detail::initialise_segment(*segment, 1);
  telluride::detail::seqlock_write(*segment, sample_record(0));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t n = 1; n <= 300000; ++n)
      telluride::detail::seqlock_write(*segment, sample_record(n));
    done = true;
  });
  std::uint64_t reads = 0, torn_attempts = 0, inconsistent = 0, distinct = 0, last = 0;
  while (!done) {
    shared_stats_record r;
    if (!telluride::detail::seqlock_try_read(*segment, r)) {
      ++torn_attempts;
      continue;
    }
    ++reads;
    inconsistent += is_consistent(r) ? 0 : 1;
    distinct += r.consumed != last ? 1 : 0;
    last = r.consumed;
  }
  writer.join();
  MESSAGE(reads << " consistent reads of " << distinct << " distinct records; " << torn_attempts
                << " attempts saw a write in progress and were retried");
  CHECK(inconsistent == 0);
  CHECK(reads > 0);
  shared_stats_record final_record;
  REQUIRE(telluride::detail::seqlock_read(*segment, final_record));
  CHECK(final_record.consumed == 300000);
  CHECK(is_consistent(final_record));
}

TEST_CASE("a read during a write is retried, and a writer stuck mid-write makes the read give up") {
  auto segment = std::make_unique<telluride::detail::shared_stats_segment>();
  telluride::detail::initialise_segment(*segment, 1);
  telluride::detail::seqlock_write(*segment, sample_record(3));
  shared_stats_record r;
  segment->sequence += 1;  // a write in progress
  CHECK_FALSE(telluride::detail::seqlock_try_read(*segment, r));
  CHECK_FALSE(telluride::detail::seqlock_read(*segment, r, 100));
  std::thread finisher([&] {
    std::this_thread::sleep_for(20ms);
    std::atomic_ref<std::uint64_t>(segment->sequence).fetch_add(1);
  });
  CHECK(telluride::detail::seqlock_read(*segment, r, 100000000));
  finisher.join();
  CHECK(r.consumed == 3);
}

TEST_CASE("the writer publishes its record under /<prefix><pid>, the reader finds it, destruction removes it") {
  const auto prefix = test_prefix();
  std::string error;
  auto writer = shared_stats_writer::create(error, prefix);
  REQUIRE_MESSAGE(writer, error);
  const std::string file = prefix + std::to_string(::getpid());
  CHECK(writer->name() == "/" + file);
  CHECK(shm_exists(file));
  CHECK(telluride::read_shared_stats(prefix).empty());  // nothing written yet

  auto record = sample_record(42);
  std::memset(record.http_listen, 'x', sizeof record.http_listen);  // not terminated: the writer cuts it
  writer->write(record);
  auto found = telluride::read_shared_stats(prefix);
  REQUIRE(found.size() == 1);
  CHECK(found[0].pid == ::getpid());
  CHECK(found[0].consumed == 42);
  CHECK(found[0].layout_version == 1);
  CHECK(std::string(found[0].amqp_url) == "amqp://guest:***@127.0.0.1:5672/%2f");
  CHECK(std::strlen(found[0].http_listen) == sizeof record.http_listen - 1);
  writer.reset();
  CHECK_FALSE(shm_exists(file));
  CHECK(telluride::read_shared_stats(prefix).empty());
}

TEST_CASE("the reader removes objects of dead processes and skips other layout versions") {
  const auto prefix = test_prefix();
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0)
    ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);  // reaped: that pid is gone
  const std::string dead = prefix + std::to_string(child);
  create_segment(dead, child, telluride::detail::shared_stats_layout_version);
  const std::string other_version = prefix + std::to_string(::getpid());
  create_segment(other_version, ::getpid(), 99);
  const std::string not_a_pid = prefix + "notes";
  create_segment(not_a_pid, ::getpid(), telluride::detail::shared_stats_layout_version);

  CHECK(telluride::read_shared_stats(prefix).empty());
  CHECK_FALSE(shm_exists(dead));
  CHECK(shm_exists(other_version));  // alive: left alone, just not understood
  CHECK(shm_exists(not_a_pid));
  ::shm_unlink(("/" + other_version).c_str());
  ::shm_unlink(("/" + not_a_pid).c_str());
}

TEST_CASE("telluride stats prints one JSON object per running daemon, or one line and exit 1 when none runs") {
  const auto prefix = test_prefix();
  command none = telluride_command({"stats"}, 10s);
  none.env.emplace_back("TELLURIDE_SHM_PREFIX", prefix);
  auto empty = run(none);
  CHECK(empty.exit_code == 1);
  CHECK(empty.out.empty());
  CHECK(empty.err == "telluride stats: no running telluride daemon\n");

  std::string error;
  auto writer = shared_stats_writer::create(error, prefix);
  REQUIRE_MESSAGE(writer, error);
  auto record = sample_record(7);
  std::snprintf(record.amqp_url, sizeof record.amqp_url, "amqp://guest:hunter2@127.0.0.1:5672/%%2f");
  writer->write(record);
  command one = telluride_command({"stats"}, 10s);
  one.env.emplace_back("TELLURIDE_SHM_PREFIX", prefix);
  auto result = run(one);
  INFO(result.err);
  CHECK(result.exit_code == 0);
  auto lines = split_lines(result.out);
  REQUIRE(lines.size() == 1);
  auto stats = nlohmann::json::parse(lines[0]);
  CHECK(stats["pid"] == ::getpid());
  CHECK(stats["started"] == "2021-02-12T01:18:51.838Z");
  CHECK(stats["updated"] == "2021-02-12T01:18:51.845Z");
  CHECK(stats["ready"] == true);
  for (const char* key : {"config_version", "consumed", "successful", "failed", "duplicates", "in_flight", "sensors",
                          "alerts", "reconnects"})
    CHECK(stats[key] == 7);
  CHECK(stats["messages_per_second"] == 7.0);
  CHECK(stats["http_listen"] == "127.0.0.1:7");
  CHECK(result.out.find("hunter2") == std::string::npos);
  CHECK(stats["amqp_url"].get<std::string>().find("guest:") != std::string::npos);
}
