// hello_pipeline.cpp — a small Causeway pipeline: numbers in, sums per parity out.
#include <causeway/in_memory_producer.hpp>
#include <causeway/pipeline.hpp>
#include <causeway/runtime.hpp>
#include <causeway/testing.hpp>

#include <caf/actor_system.hpp>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

// handle_message decodes and routes one message; handle_batch does a batch's work.
class sum_by_parity : public causeway::handler {
public:
  void handle_message(causeway::message& msg, const causeway::context&) override {
    long n = std::stol(msg.data);  // throws on bad input: that message fails, nothing else
    msg.decoded = n;
    msg.put_batcher(n % 2 == 0 ? "even" : "odd");
  }

  void handle_batch(std::span<causeway::message> batch, const causeway::batch_info& info,
                    const causeway::context&) override {
    long sum = 0;
    for (const auto& msg : batch)
      sum += std::any_cast<long>(msg.decoded);
    (info.batcher == "even" ? even : odd) += sum;
  }

  std::atomic<long> even{0};
  std::atomic<long> odd{0};
};

int main() {
  causeway::runtime_config cfg;  // one scheduler thread per core, work sharing: idle workers sleep until work comes
  caf::actor_system system{cfg};
  auto acks = std::make_shared<causeway::testing::counting_acknowledger>();
  auto feed = causeway::in_memory_feed::make(acks);  // or causeway::amqp::queue_source
  auto handler = std::make_shared<sum_by_parity>();

  causeway::pipeline_spec spec;
  spec.handler = handler;
  spec.make_producer = feed->factory();
  spec.options.processors.concurrency = 2;
  for (const char* name : {"even", "odd"}) {
    causeway::batcher_options batcher;
    batcher.name = name;
    batcher.batch_size = 10;
    spec.options.batchers.push_back(batcher);
  }
  auto pipeline = causeway::pipeline::start(system, spec);
  if (!pipeline) {
    std::fprintf(stderr, "hello_pipeline: %s\n", pipeline.err().message.c_str());
    return 1;
  }

  std::vector<std::string> numbers;
  for (int i = 1; i <= 100; ++i)
    numbers.push_back(std::to_string(i));
  numbers.push_back("not a number");
  feed->push_data(std::move(numbers));
  pipeline->drain();  // everything taken is handled and acknowledged

  std::printf("even %ld, odd %ld, acknowledged %llu, failed %llu\n", handler->even.load(),
              handler->odd.load(), static_cast<unsigned long long>(acks->successful()),
              static_cast<unsigned long long>(acks->failed()));
  bool right = handler->even == 2550 && handler->odd == 2500 && acks->successful() == 100 &&
               acks->failed() == 1;
  return right ? 0 : 1;
}
