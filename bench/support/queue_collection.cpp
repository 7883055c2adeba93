#include "support/queue_collection.hpp"

#include "support/child_process.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace bench {

causeway::expected<void> collect_queue_processes(const std::string& broker_ctl, const std::string& log_path,
                                                 const std::vector<std::string>& queues) {
  using namespace std::chrono_literals;
  // One Erlang expression for all of them: a `ctl eval` costs about a second of start-up.
  std::string expr = "lists:foreach(fun(Name) -> {ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r(<<\"/\">>, queue, Name)), "
                     "true = erlang:garbage_collect(amqqueue:get_pid(Q)) end, [";
  for (std::size_t i = 0; i < queues.size(); ++i) {
    const auto& queue = queues[i];
    const bool is_plain = !queue.empty() && std::all_of(queue.begin(), queue.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
    });
    if (!is_plain)
      return causeway::error{"the name of " + queue + " is more than letters, digits, '_', '.' and '-'"};
    expr += (i == 0 ? "<<\"" : ", <<\"") + queue + "\">>";
  }
  expr += "]), ok.";
  auto spawned = child_process::spawn({broker_ctl, "ctl", "eval", expr}, log_path);
  if (!spawned)
    return spawned.err();
  auto status = spawned->wait(60s);
  if (!status)
    return causeway::error{"no answer within 60 s (see " + log_path + ")"};
  if (*status != 0)
    return causeway::error{describe_status(*status) + " (see " + log_path + ")"};
  return {};
}

void add_queue_collection_flags(CLI::App& app, std::string& broker_ctl, bool& collect, const std::string& queues) {
  app.add_option("--broker-ctl", broker_ctl,
                 "the private broker's deploy/rabbitmq-local.sh: the broker garbage-collects the processes of " +
                   queues + " before each drain, so that every drain starts from the same broker state")
    ->check(CLI::ExistingFile);
  app.add_flag("--no-queue-gc", [&collect](std::int64_t) { collect = false; },
               "leave the processes of " + queues + " as the broker left them (drains then run fast or slow at "
               "random: docs/architecture.md)");
}

} // namespace bench
