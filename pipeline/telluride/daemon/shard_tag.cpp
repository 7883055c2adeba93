#include "telluride/daemon/shard_tag.hpp"

namespace telluride {

acknowledge_through_fn tag_with_shard(std::uint32_t shard, acknowledge_through_fn through) {
  return [shard, through = std::move(through)](std::shared_ptr<causeway::acknowledger> inner) {
    auto next = through ? through(std::move(inner)) : std::move(inner);
    return std::make_shared<shard_tagged_acknowledger>(shard, std::move(next));
  };
}

} // namespace telluride
