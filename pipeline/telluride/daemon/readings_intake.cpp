#include "telluride/daemon/readings_intake.hpp"

namespace telluride {

expected<void> readings_intake::prepare_for(const config& next) {
  auto source = current();
  if (source->options().prefetch_count == next.prefetch_count)
    return {};
  auto options = source->options();
  options.prefetch_count = next.prefetch_count;
  auto opened = causeway::amqp::queue_source::open(options, source->connection());
  if (!opened)
    return error{"cannot apply prefetch_count: " + opened.err().message};
  std::lock_guard guard{mutex_};
  current_ = *opened;
  return {};
}

} // namespace telluride
