#include "telluride/stats/shared_stats.hpp"

#include "telluride/stats/shared_stats_layout.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

namespace telluride {

namespace detail {

namespace {

template <class T>
std::atomic_ref<T> shared(const T& value) noexcept {
  // Readers map the segment read-only; atomic loads never write.
  return std::atomic_ref<T>(const_cast<T&>(value));
}

} // namespace

void initialise_segment(shared_stats_segment& segment, std::int32_t pid) noexcept {
  shared(segment.layout_version).store(shared_stats_layout_version, std::memory_order_relaxed);
  shared(segment.pid).store(pid, std::memory_order_relaxed);
  shared(segment.record_size).store(static_cast<std::uint32_t>(sizeof(shared_stats_record)), std::memory_order_relaxed);
  shared(segment.sequence).store(0, std::memory_order_relaxed);
  for (auto& word : segment.words)
    shared(word).store(0, std::memory_order_relaxed);
  shared(segment.magic).store(shared_stats_magic, std::memory_order_release);
}

void seqlock_write(shared_stats_segment& segment, const shared_stats_record& record) noexcept {
  std::uint64_t words[shared_stats_words] = {};
  std::memcpy(words, &record, sizeof record);
  auto sequence = shared(segment.sequence);
  const std::uint64_t start = sequence.load(std::memory_order_relaxed);
  sequence.store(start + 1, std::memory_order_relaxed);
  // The odd sequence is visible before any word changes.
  std::atomic_thread_fence(std::memory_order_release);
  for (std::size_t i = 0; i < shared_stats_words; ++i)
    shared(segment.words[i]).store(words[i], std::memory_order_relaxed);
  // Every word is visible before the even sequence.
  sequence.store(start + 2, std::memory_order_release);
}

bool seqlock_try_read(const shared_stats_segment& segment, shared_stats_record& out) noexcept {
  auto sequence = shared(segment.sequence);
  const std::uint64_t before = sequence.load(std::memory_order_acquire);
  if (before % 2 != 0)
    return false;
  std::uint64_t words[shared_stats_words];
  for (std::size_t i = 0; i < shared_stats_words; ++i)
    words[i] = shared(segment.words[i]).load(std::memory_order_relaxed);
  // The words are read before the sequence is checked again.
  std::atomic_thread_fence(std::memory_order_acquire);
  if (sequence.load(std::memory_order_relaxed) != before)
    return false;
  std::memcpy(&out, words, sizeof out);
  return true;
}

bool seqlock_read(const shared_stats_segment& segment, shared_stats_record& out, int attempts) noexcept {
  for (int i = 0; i < attempts; ++i) {
    if (seqlock_try_read(segment, out))
      return true;
    std::this_thread::yield();
  }
  return false;
}

bool is_readable_segment(const shared_stats_segment& segment) noexcept {
  return shared(segment.magic).load(std::memory_order_acquire) == shared_stats_magic &&
         shared(segment.layout_version).load(std::memory_order_relaxed) == shared_stats_layout_version &&
         shared(segment.record_size).load(std::memory_order_relaxed) == sizeof(shared_stats_record);
}

} // namespace detail

namespace {

constexpr std::string_view default_prefix = "telluride-";

bool is_valid_prefix(std::string_view prefix) {
  return !prefix.empty() && prefix.size() <= 200 && std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

bool is_process_gone(std::int32_t pid) {
  return pid <= 0 || (::kill(pid, 0) == -1 && errno == ESRCH);
}

template <std::size_t N>
void terminate_text(char (&text)[N]) {
  text[N - 1] = '\0';
}

// A read-only mapping of one object, unmapped on scope exit.
struct mapping {
  void* address = MAP_FAILED;
  std::size_t size = 0;
  ~mapping() {
    if (address != MAP_FAILED)
      ::munmap(address, size);
  }
};

} // namespace

std::string shared_stats_prefix() {
  if (const char* env = std::getenv("TELLURIDE_SHM_PREFIX"); env != nullptr && is_valid_prefix(env))
    return env;
  return std::string(default_prefix);
}

struct shared_stats_writer::impl {
  std::string name;
  detail::shared_stats_segment* segment = nullptr;
  std::int32_t pid = 0;

  ~impl() {
    if (segment != nullptr)
      ::munmap(segment, sizeof *segment);
    if (!name.empty())
      ::shm_unlink(name.c_str());
  }
};

shared_stats_writer::shared_stats_writer(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

shared_stats_writer::~shared_stats_writer() = default;

std::unique_ptr<shared_stats_writer> shared_stats_writer::create(std::string& error) {
  return create(error, shared_stats_prefix());
}

std::unique_ptr<shared_stats_writer> shared_stats_writer::create(std::string& error, std::string_view prefix) {
  if (!is_valid_prefix(prefix)) {
    error = "shared memory name prefix \"" + std::string(prefix) + "\" is not valid (letters, digits, . _ -)";
    return nullptr;
  }
  auto state = std::make_unique<impl>();
  state->pid = static_cast<std::int32_t>(::getpid());
  std::string name(1, '/');
  name.append(prefix).append(std::to_string(state->pid));
  // O_TRUNC: an object left by a crashed process that had our pid is stale.
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
  if (fd < 0) {
    error = "shm_open " + name + ": " + std::strerror(errno);
    return nullptr;
  }
  state->name = name;  // from here on the object is removed on failure
  if (::ftruncate(fd, sizeof(detail::shared_stats_segment)) != 0) {
    error = "ftruncate " + name + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  void* address = ::mmap(nullptr, sizeof(detail::shared_stats_segment), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (address == MAP_FAILED) {
    error = "mmap " + name + ": " + std::strerror(errno);
    return nullptr;
  }
  state->segment = static_cast<detail::shared_stats_segment*>(address);
  detail::initialise_segment(*state->segment, state->pid);
  return std::make_unique<shared_stats_writer>(std::move(state));
}

void shared_stats_writer::write(const shared_stats_record& record) {
  shared_stats_record copy = record;
  copy.layout_version = detail::shared_stats_layout_version;
  copy.pid = impl_->pid;
  terminate_text(copy.amqp_url);
  terminate_text(copy.http_listen);
  detail::seqlock_write(*impl_->segment, copy);
}

const std::string& shared_stats_writer::name() const noexcept { return impl_->name; }

std::vector<shared_stats_record> read_shared_stats() { return read_shared_stats(shared_stats_prefix()); }

std::vector<shared_stats_record> read_shared_stats(std::string_view prefix) {
  std::vector<shared_stats_record> out;
  std::error_code ec;
  // POSIX shared memory objects are the files of /dev/shm on Linux.
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string file = entry.path().filename().string();
    if (!file.starts_with(prefix))
      continue;
    const std::string_view digits = std::string_view(file).substr(prefix.size());
    std::int32_t pid = 0;
    const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (digits.empty() || status != std::errc{} || end != digits.data() + digits.size())
      continue;
    const std::string name = "/" + file;
    if (is_process_gone(pid)) {
      ::shm_unlink(name.c_str());
      continue;
    }
    const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
    if (fd < 0)
      continue;
    struct stat info {};
    mapping map;
    if (::fstat(fd, &info) == 0 && static_cast<std::size_t>(info.st_size) >= sizeof(detail::shared_stats_segment)) {
      map.size = sizeof(detail::shared_stats_segment);
      map.address = ::mmap(nullptr, map.size, PROT_READ, MAP_SHARED, fd, 0);
    }
    ::close(fd);
    if (map.address == MAP_FAILED)
      continue;  // being created (no size yet), or another layout
    const auto& segment = *static_cast<const detail::shared_stats_segment*>(map.address);
    shared_stats_record record;
    if (!detail::is_readable_segment(segment) || !detail::seqlock_read(segment, record))
      continue;
    if (record.pid != pid || record.layout_version != detail::shared_stats_layout_version)
      continue;
    terminate_text(record.amqp_url);
    terminate_text(record.http_listen);
    out.push_back(record);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

} // namespace telluride
