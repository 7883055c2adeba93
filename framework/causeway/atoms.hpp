// atoms.hpp — the messages a supervisor understands, for actors that drive a pipeline.
//
//   (drain_atom)                      -> drain_report      drain the running topology
//   (restart_atom, pipeline_options)  -> restart_result    drain if running, start with options
//   (rate_atom, rate_limit_options)   -> (nothing)         change the shared rate limit
//   (topology_atom)                   -> std::vector<stage_info>
//   (stop_atom)                       -> drain_report      drain and end the supervisor
//
// and the messages of a producer_sink (deliver_atom, drained_atom, stalled_atom).
#pragma once

#include "causeway/options.hpp"
#include "causeway/pipeline.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <string>
#include <vector>

namespace causeway {

using drain_atom = caf::atom_constant<caf::atom("cw_drain")>;
using restart_atom = caf::atom_constant<caf::atom("cw_restart")>;
using rate_atom = caf::atom_constant<caf::atom("cw_rate")>;
using topology_atom = caf::atom_constant<caf::atom("cw_topo")>;
using stop_atom = caf::atom_constant<caf::atom("cw_stop")>;

/// What a producer_sink sends to the actor behind it (see producer.hpp).
using deliver_atom = caf::atom_constant<caf::atom("cw_deliver")>;
using drained_atom = caf::atom_constant<caf::atom("cw_drained")>;
using stalled_atom = caf::atom_constant<caf::atom("cw_stalled")>;

/// The reply to restart_atom: the drain it did (if any), or why nothing changed.
struct restart_result {
  bool ok = false;
  std::string error;   ///< when !ok: the option that was refused and why
  drain_report drained;
};

} // namespace causeway

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(causeway::message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<causeway::message>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(causeway::pipeline_options)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(causeway::rate_limit_options)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(causeway::drain_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(causeway::restart_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<causeway::stage_info>)
