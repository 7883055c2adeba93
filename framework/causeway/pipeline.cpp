#include "causeway/pipeline.hpp"

#include "causeway/atoms.hpp"
#include "causeway/topology/supervisor.hpp"

#include <caf/scoped_actor.hpp>

namespace causeway {

expected<pipeline> pipeline::start(caf::actor_system& system, pipeline_spec spec) {
  if (auto valid = validate(spec.options); !valid)
    return valid.err();
  if (!spec.handler)
    return error{"handler must be set"};
  if (!spec.make_producer)
    return error{"make_producer must be set"};
  auto supervisor = system.spawn<topology::supervisor>(std::move(spec));
  return pipeline{system, std::move(supervisor)};
}

pipeline::pipeline(caf::actor_system& system, caf::actor supervisor)
  : system_(&system), supervisor_(std::move(supervisor)) {}

pipeline::~pipeline() {
  if (supervisor_)
    stop();
}

drain_report pipeline::drain() {
  drain_report report;
  caf::scoped_actor self{*system_};
  self->request(supervisor_, caf::infinite, drain_atom::value)
    .receive([&](drain_report& r) { report = r; }, [](caf::error&) {});
  return report;
}

expected<drain_report> pipeline::restart(pipeline_options options) {
  restart_result result;
  caf::scoped_actor self{*system_};
  self->request(supervisor_, caf::infinite, restart_atom::value, std::move(options))
    .receive([&](restart_result& r) { result = std::move(r); },
             [&](caf::error& e) { result.error = "supervisor is gone: " + to_string(e); });
  if (!result.ok)
    return error{result.error};
  return result.drained;
}

void pipeline::set_rate_limit(rate_limit_options limit) {
  caf::anon_send(supervisor_, rate_atom::value, limit);
}

std::vector<stage_info> pipeline::topology() const {
  std::vector<stage_info> stages;
  caf::scoped_actor self{*system_};
  self->request(supervisor_, caf::infinite, topology_atom::value)
    .receive([&](std::vector<stage_info>& s) { stages = std::move(s); }, [](caf::error&) {});
  return stages;
}

void pipeline::stop() {
  if (!supervisor_)
    return;
  caf::scoped_actor self{*system_};
  self->request(supervisor_, caf::infinite, stop_atom::value)
    .receive([](drain_report&) {}, [](caf::error&) {});
  supervisor_ = nullptr;
}

} // namespace causeway
