// transport.hpp — the byte stream under an AMQP connection: a TCP socket, or TLS over one.
//
// `open_transport` gives a fresh rabbitmq-c connection state its socket, TCP for `amqp://` and
// OpenSSL for `amqps://` set up from the URL's TLS options (CA, client certificate, peer and
// name checks, SNI), and connects it. Each way this can fail is one line naming the problem: an
// unreachable host and why (rabbitmq-c only says "a socket error occurred"), an unreadable or
// unusable file, a certificate that does not verify and why, a name mismatch, a handshake the
// broker refused. OpenSSL's own checks decide the name: rabbitmq-c 0.11's knows no IP addresses.
//
// With TLS, input can wait inside OpenSSL where the socket no longer announces it: rabbitmq-c
// takes one TLS record (at most 16 KiB) per recv, and OpenSSL reads ahead up to 128 KiB, as
// much as rabbitmq-c's own buffer takes from a TCP socket in one recv. A reader that would wait
// for the socket to become readable asks `has_buffered_input` first.
//
// Everything here runs on the thread that owns the connection state (OpenSSL keeps its error
// queue per thread).
#pragma once

#include "causeway/amqp/error.hpp"
#include "causeway/amqp/url.hpp"

#include <amqp.h>

#include <sys/time.h>

#include <chrono>
#include <string>
#include <string_view>

namespace causeway::amqp::detail {

/// Creates the socket `address` asks for on `state` and connects it, TLS handshake and
/// certificate checks included, within `timeout`. A failure is connection-level; its message
/// starts with "connect to HOST:PORT" only when the host could not be reached at all (the one
/// case worth retrying at start-up), with "TLS" when TLS failed.
failure open_transport(amqp_connection_state_t state, const url& address, const timeval& timeout);

/// `why` a login over TLS failed, with what the handshake suggests: with TLS 1.3 a broker that
/// wants a client certificate and got none says so only after the handshake, often by just
/// closing the connection.
failure explain_login_failure(amqp_connection_state_t state, const url& address, failure why);

/// True when OpenSSL holds input of this connection that rabbitmq-c has not taken: bytes the
/// socket's readiness will not announce again. Always false for TCP.
bool has_buffered_input(amqp_connection_state_t state, const url& address) noexcept;

/// Writes `bytes` (whole AMQP frames) to the connection: straight to the socket, or through TLS
/// on an amqps connection, waiting whenever the socket is full. Returns AMQP_STATUS_OK,
/// AMQP_STATUS_TIMEOUT when nothing could be written for `stall_timeout`,
/// AMQP_STATUS_SOCKET_ERROR (errno says why) or AMQP_STATUS_SSL_ERROR (describe says why).
/// After a failure an unknown prefix went out: the connection must be dropped.
int write_raw(amqp_connection_state_t state, const url& address, std::string_view bytes,
              std::chrono::milliseconds stall_timeout);

/// OpenSSL's reason for the latest failure on this thread ("tlsv13 alert certificate
/// required"), and the thread's error queue emptied; "" when it holds nothing.
std::string take_tls_error();

} // namespace causeway::amqp::detail
