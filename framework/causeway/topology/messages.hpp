// messages.hpp — the demand protocol between stages (internal).
//
//   consumer -> upstream  (demand_atom, uint32 consumer_index, uint64 n) n more messages
//                                                                       (batches, from a
//                                                                       batch processor)
//   upstream -> consumer  (msgs_atom, uint32 upstream_index, vector<message>)
//   batcher  -> batch processor (batch_atom, batch)
//   upstream -> consumer  (done_atom, uint32 upstream_index)            nothing more comes
//   supervisor -> stage   (subscribe_atom, vector<actor> upstream)      start asking
//   sink -> producer stage (deliver_atom, vector<message>) / (drained_atom) / (stalled_atom)
//   upstream -> consumer  (stalled_atom, uint32 upstream_index)         after all it sent so
//                                                                       far: the producer is
//                                                                       stalled (producer_sink)
//
// An upstream never sends more than was asked; consumers ask again as they finish (the whole
// protocol: docs/architecture.md, Demand).
#pragma once

#include "causeway/atoms.hpp"
#include "causeway/detail/batch_accumulator.hpp"
#include "causeway/message.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <vector>

namespace causeway::topology {

using demand_atom = caf::atom_constant<caf::atom("cw_demand")>;
using msgs_atom = caf::atom_constant<caf::atom("cw_msgs")>;
using batch_atom = caf::atom_constant<caf::atom("cw_batch")>;
using done_atom = caf::atom_constant<caf::atom("cw_done")>;
using subscribe_atom = caf::atom_constant<caf::atom("cw_sub")>;
using causeway::deliver_atom;
using causeway::drained_atom;
using causeway::stalled_atom;
using timer_atom = caf::atom_constant<caf::atom("cw_timer")>;

} // namespace causeway::topology

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(causeway::detail::batch)
