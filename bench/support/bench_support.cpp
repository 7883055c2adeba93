#include "support/bench_support.hpp"

#include "causeway/amqp/bytes.hpp"
#include "causeway/amqp/url.hpp"

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

namespace bench {

using namespace std::chrono_literals;
namespace amqp = causeway::amqp;

// --- CPU and memory -------------------------------------------------------------------------

namespace {

// utime and stime of a /proc stat file, in seconds; zeros when it cannot be read.
std::pair<double, double> stat_user_system(const std::string& path) {
  std::ifstream in(path);
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size())
    return {0, 0};
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14)
      utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return {utime / ticks, stime / ticks};
}

} // namespace

double stat_cpu_seconds(const std::string& path) {
  auto [user, system] = stat_user_system(path);
  return user + system;
}

double process_cpu_seconds(long pid) {
  return pid <= 0 ? 0.0 : stat_cpu_seconds("/proc/" + std::to_string(pid) + "/stat");
}

double own_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double peak_rss_mib() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

double process_peak_rss_mib(long pid) {
  if (pid <= 0)
    return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmHWM:"))
      return std::stod(line.substr(6)) / 1024.0;  // "VmHWM:     12345 kB"
  return 0;
}

std::map<std::string, double> thread_cpu_seconds() {
  std::map<std::string, double> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    std::getline(comm, name);
    out[name] += stat_cpu_seconds((entry.path() / "stat").string());
  }
  return out;
}

std::vector<thread_cpu> process_threads(long pid) {
  std::vector<thread_cpu> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    thread_cpu t;
    t.tid = std::stol(entry.path().filename().string());
    std::ifstream comm(entry.path() / "comm");
    std::getline(comm, t.name);
    std::tie(t.user_s, t.system_s) = stat_user_system((entry.path() / "stat").string());
    // schedstat's first field is the time on a CPU in nanoseconds: finer than stat's ticks.
    std::ifstream schedstat(entry.path() / "schedstat");
    unsigned long long ns = 0;
    t.cpu_s = schedstat >> ns ? static_cast<double>(ns) / 1e9 : t.user_s + t.system_s;
    std::ifstream status(entry.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.starts_with("voluntary_ctxt_switches:"))
        t.voluntary_switches = std::stoull(line.substr(24));
      else if (line.starts_with("nonvoluntary_ctxt_switches:"))
        t.involuntary_switches = std::stoull(line.substr(27));
    }
    out.push_back(std::move(t));
  }
  std::sort(out.begin(), out.end(), [](const thread_cpu& a, const thread_cpu& b) { return a.tid < b.tid; });
  return out;
}

context_switches process_context_switches(long pid) {
  context_switches out;
  if (pid <= 0)
    return out;
  for (const auto& t : process_threads(pid)) {
    out.voluntary += t.voluntary_switches;
    out.involuntary += t.involuntary_switches;
  }
  return out;
}

double threads_cpu_seconds(long pid, std::string_view part) {
  double out = 0;
  if (pid <= 0)
    return out;
  for (const auto& t : process_threads(pid))
    if (t.name.find(part) != std::string::npos)
      out += t.cpu_s;
  return out;
}

double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double cpu_pressure_some_avg10() {
  std::ifstream in("/proc/pressure/cpu");
  std::string line;
  while (std::getline(in, line)) {
    constexpr std::string_view key = "some avg10=";
    if (line.starts_with(key))
      return std::strtod(line.c_str() + key.size(), nullptr);
  }
  return -1;
}

std::uint64_t tcp_out_segments() {
  std::ifstream in("/proc/net/snmp");
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (!names.starts_with("Tcp:"))
      continue;
    std::istringstream n(names), v(values);
    std::string name, value;
    while (n >> name && v >> value)
      if (name == "OutSegs")
        return std::stoull(value);
  }
  return 0;
}

void wait_until_broker_idle(long pid) {
  if (pid <= 0) {
    std::this_thread::sleep_for(2s);
    return;
  }
  auto deadline = clock_type::now() + 60s;
  int quiet = 0;
  double last = process_cpu_seconds(pid);
  while (quiet < 8 && clock_type::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    double now = process_cpu_seconds(pid);
    quiet = now - last < 0.0125 ? quiet + 1 : 0;
    last = now;
  }
}

// --- preloading -----------------------------------------------------------------------------

causeway::expected<void> preload(const preload_options& options, const message_maker& make) {
  amqp::publisher_options publishing;
  publishing.connection.url = options.url;
  publishing.connection.name = options.connection_name;
  publishing.confirm_window = options.confirm_window;
  auto pub = amqp::publisher::open(publishing);
  if (!pub)
    return pub.err();
  for (std::size_t i = 0; i < options.messages; ++i) {
    amqp::outgoing_message msg;
    msg.exchange = options.exchange;
    msg.routing_key = options.routing_key;
    make(i, msg);
    (*pub)->publish(std::move(msg));
    if ((*pub)->stats().outstanding > options.max_outstanding)
      std::this_thread::sleep_for(1ms);
  }
  if (!(*pub)->wait_confirmed(options.timeout))
    return causeway::error{"preloading " + options.routing_key + " timed out"};
  return {};
}

// --- the reference: a minimal rabbitmq-c consumer -------------------------------------------

namespace {

struct connection_deleter {
  void operator()(amqp_connection_state_t conn) const noexcept { amqp_destroy_connection(conn); }
};
using connection_ptr = std::unique_ptr<amqp_connection_state_t_, connection_deleter>;

// A blocking rabbitmq-c connection with channel 1 open; errors start with `who`.
causeway::expected<connection_ptr> open_blocking(const amqp::url& address, const std::string& who) {
  connection_ptr owned{amqp_new_connection()};
  amqp_connection_state_t conn = owned.get();
  amqp_socket_t* socket = amqp_tcp_socket_new(conn);
  if (socket == nullptr || amqp_socket_open(socket, address.host.c_str(), address.port) != AMQP_STATUS_OK)
    return causeway::error{who + ": cannot connect"};
  auto login = amqp_login(conn, address.vhost.c_str(), 0, AMQP_DEFAULT_FRAME_SIZE, 30, AMQP_SASL_METHOD_PLAIN,
                          address.user.c_str(), address.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL)
    return causeway::error{who + ": login failed"};
  amqp_channel_open(conn, 1);
  return owned;
}

} // namespace

causeway::expected<drain_result> run_baseline(const baseline_options& options, const std::string& queue) {
  auto address = amqp::parse_url(options.url);
  if (!address)
    return address.err();
  auto opened = open_blocking(*address, "baseline");
  if (!opened)
    return opened.err();
  amqp_connection_state_t conn = opened->get();
  amqp_basic_qos(conn, 1, 0, options.prefetch, 0);
  amqp_bytes_t q = amqp::view(queue);
  const std::size_t ack_every = std::max<std::size_t>(1, options.ack_every);

  double broker_before = process_cpu_seconds(options.broker_pid);
  double broker_gc_before = threads_cpu_seconds(options.broker_pid, broker_gc_threads);
  double client_before = own_cpu_seconds();
  auto started = clock_type::now();
  amqp_basic_consume(conn, 1, q, amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  if (amqp_get_rpc_reply(conn).reply_type != AMQP_RESPONSE_NORMAL)
    return causeway::error{"baseline: basic.consume failed"};
  std::size_t received = 0;
  std::uint64_t acks = 0;
  while (received < options.messages) {
    amqp_envelope_t envelope;
    amqp_maybe_release_buffers(conn);
    timeval timeout{30, 0};
    auto r = amqp_consume_message(conn, &envelope, &timeout, 0);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
      if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        amqp_frame_t frame;
        amqp_simple_wait_frame(conn, &frame);
        continue;
      }
      return causeway::error{"baseline: consume failed after " + std::to_string(received) + " messages"};
    }
    ++received;
    if (received % ack_every == 0) {
      amqp_basic_ack(conn, 1, envelope.delivery_tag, 1);
      ++acks;
    }
    amqp_destroy_envelope(&envelope);
  }
  auto seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  // The broker's work for the last acks is done once it answers an RPC on the channel.
  amqp_queue_declare(conn, 1, q, 1, 0, 0, 0, amqp_empty_table);
  drain_result out;
  out.msgs_per_s = static_cast<double>(options.messages) / seconds;
  out.broker_cpu_s = process_cpu_seconds(options.broker_pid) - broker_before;
  out.broker_gc_cpu_s = threads_cpu_seconds(options.broker_pid, broker_gc_threads) - broker_gc_before;
  out.client_cpu_s = own_cpu_seconds() - client_before;
  out.ack_frames = acks;
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  return out;
}

// --- reading a queue -----------------------------------------------------------------------

causeway::expected<std::vector<std::string>> take_all(const std::string& url, const std::string& queue,
                                                      std::size_t limit) {
  auto address = amqp::parse_url(url);
  if (!address)
    return address.err();
  const std::string who = "basic.get " + queue;
  auto opened = open_blocking(*address, who);
  if (!opened)
    return opened.err();
  amqp_connection_state_t conn = opened->get();
  amqp_bytes_t q = amqp::view(queue);
  std::vector<std::string> bodies;
  while (bodies.size() < limit) {
    amqp_maybe_release_buffers(conn);
    auto reply = amqp_basic_get(conn, 1, q, 1);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL)
      return causeway::error{who + ": failed"};
    if (reply.reply.id == AMQP_BASIC_GET_EMPTY_METHOD)
      break;
    amqp_message_t message;
    if (amqp_read_message(conn, 1, &message, 0).reply_type != AMQP_RESPONSE_NORMAL)
      return causeway::error{who + ": reading a message failed"};
    bodies.emplace_back(static_cast<const char*>(message.body.bytes), message.body.len);
    amqp_destroy_message(&message);
  }
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  return bodies;
}

} // namespace bench
