// e2e_support.hpp — what end-to-end tests need: run `telluride` as users do, and look at the
// private test broker.
//
// Processes: `run` starts a command (argv, extra environment, working folder), feeds it no
// stdin, captures stdout and stderr and waits for it with a timeout (SIGKILL after it);
// `child_process` does the same for a command that runs while the test acts (tail, the daemon):
// wait for output, send signals, then wait. Broker: `broker_admin` (one AMQP connection:
// declare, purge, delete, count, publish, drain), `broker_ctl` (rabbitmqctl of the fixture's
// broker), and `test_routes`, a config file whose route names no other test uses.
//
// Time: each test case has a budget of 55 s (`case_budget`); every wait and every process
// timeout here is cut to what is left of it, so a hanging tool fails its test in time.
//
// The ctest fixture "broker" sets TELLURIDE_TEST_AMQP_URL, TELLURIDE_BIN,
// TELLURIDE_BROKER_SCRIPT and TELLURIDE_SOURCE_DIR. Only 127.0.0.1 is ever contacted.
#pragma once

#include "e2e_base.hpp"
#include "e2e_process.hpp"
#include "e2e_broker.hpp"
