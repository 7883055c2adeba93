// queue_collection.hpp — has the benchmark's private broker garbage-collect the processes of
// queues just preloaded, so that every drain starts from the same broker state.
//
// A queue's process holds every preloaded message in its heap, and how large that heap happened
// to be when a drain started decided whether nearly every collection during the drain was a
// full sweep of the whole queue: the broker then spent about twice its CPU per message and the
// drain ran at about half speed, at random, for the bare consumer as for the daemon
// (docs/architecture.md, "Why two drains of one build differ"). One full sweep first, and
// every drain starts alike.
#pragma once

#include "causeway/expected.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace bench {

/// Runs `broker_ctl ctl eval` (deploy/rabbitmq-local.sh of the private broker) once, collecting
/// the process of each queue of `queues` (vhost "/"); its output goes to `log_path`. The error
/// says why not, in one line: a name other than letters, digits, '_', '.' and '-', a queue
/// the broker does not know, no answer within 60 s.
causeway::expected<void> collect_queue_processes(const std::string& broker_ctl, const std::string& log_path,
                                                 const std::vector<std::string>& queues);

/// The two flags of every benchmark that collects the queues it preloaded: --broker-ctl PATH
/// (sets `broker_ctl`) and --no-queue-gc (clears `collect`). `queues` names them in the help:
/// "the preloaded queues", "the shard queues".
void add_queue_collection_flags(CLI::App& app, std::string& broker_ctl, bool& collect, const std::string& queues);

} // namespace bench
