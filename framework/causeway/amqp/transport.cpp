#include "causeway/amqp/transport.hpp"

#include "causeway/amqp/frame_writer.hpp"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <utility>

namespace causeway::amqp::detail {

namespace {

// OpenSSL reads ahead as much as rabbitmq-c's inbound buffer takes from a TCP socket at once.
constexpr std::size_t read_ahead_bytes = 128 * 1024;

/// What OpenSSL's callbacks of one connection attempt share with us. Owned by the attempt's
/// SSL_CTX (freed with it); `ssl` is cleared when OpenSSL frees the session.
struct tls_link {
  std::string sni;                // the server name to send; empty: none
  SSL* ssl = nullptr;             // the live session, from the start of the handshake
  bool handshake_started = false;
  bool certificate_requested = false;  // by the broker, when we have none to give
  int verify_error = X509_V_OK;   // the first certificate check that failed
};

void free_link(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<tls_link*>(ptr);
}

void forget_session(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  if (ptr != nullptr)
    static_cast<tls_link*>(ptr)->ssl = nullptr;
}

int ctx_slot() {
  static const int slot = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_link);
  return slot;
}

int session_slot() {
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, forget_session);
  return slot;
}

tls_link* link_of(const SSL_CTX* ctx) {
  return ctx ? static_cast<tls_link*>(SSL_CTX_get_ex_data(ctx, ctx_slot())) : nullptr;
}

tls_link* link_of(amqp_connection_state_t state) {
  amqp_socket_t* socket = amqp_get_socket(state);
  return socket ? link_of(static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket))) : nullptr;
}

bool is_ip_address(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), address) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

// The latest alert the broker sent on this thread's connection, until take_tls_error() reads it:
// a broker that refuses us during the first read after the handshake (TLS 1.3 checks the
// client certificate then) says why only in an alert, which leaves OpenSSL's error queue empty.
thread_local int last_alert = -1;

// At the start of the handshake, before the ClientHello is written: remember the session and
// send our server name (rabbitmq-c always sends the host it connects to, even an IP address,
// which SNI does not allow).
void on_tls_event(const SSL* event_ssl, int where, int value) {
  if ((where & SSL_CB_READ_ALERT) != 0 && (value & 0xff) != SSL3_AD_CLOSE_NOTIFY)
    last_alert = value & 0xff;
  if ((where & SSL_CB_HANDSHAKE_START) == 0)
    return;
  tls_link* link = link_of(SSL_get_SSL_CTX(event_ssl));
  if (link == nullptr || link->ssl == event_ssl)
    return;  // renegotiation of the session we know
  // OpenSSL hands the callback its own session as const; it is ours to configure.
  SSL* ssl = const_cast<SSL*>(event_ssl);
  link->ssl = ssl;
  link->handshake_started = true;
  SSL_set_ex_data(ssl, session_slot(), link);
  const char* name = link->sni.empty() ? nullptr : link->sni.c_str();  // null: no SNI
  SSL_set_tlsext_host_name(ssl, name);
}

int on_verify(int ok, X509_STORE_CTX* store) {
  if (ok == 0) {
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    tls_link* link = ssl ? link_of(SSL_get_SSL_CTX(ssl)) : nullptr;
    if (link != nullptr && link->verify_error == X509_V_OK)
      link->verify_error = X509_STORE_CTX_get_error(store);
  }
  return ok;
}

// Called when the broker asks for a client certificate and none is set: we send none, and
// remember it for the broker's verdict, which TLS 1.3 gives only after the handshake.
int on_certificate_request(SSL* ssl, X509**, EVP_PKEY**) {
  if (tls_link* link = link_of(SSL_get_SSL_CTX(ssl)))
    link->certificate_requested = true;
  return 0;
}

// A key protected by a password would make OpenSSL prompt on the terminal: refuse instead.
int refuse_password(char*, int, int, void*) { return -1; }

failure tls_failure(std::string message) {
  return failure{failure_scope::connection, 0, "TLS: " + std::move(message)};
}

// "" when `path` is a readable regular file, else why not.
std::string unreadable(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::strerror(errno);
  struct stat st {};
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  return regular ? std::string{} : "not a regular file";
}

failure check_readable(const char* key, const std::string& path) {
  if (auto why = unreadable(path); !why.empty())
    return tls_failure(std::string("cannot read ") + key + " \"" + path + "\": " + why);
  return {};
}

// Sets up the TLS socket of one connection attempt from `tls`.
failure make_tls_socket(amqp_connection_state_t state, const tls_options& tls) {
  ERR_clear_error();
  amqp_socket_t* socket = amqp_ssl_socket_new(state);
  if (socket == nullptr)
    return tls_failure("cannot create a TLS socket: " + take_tls_error());
  auto* ctx = static_cast<SSL_CTX*>(amqp_ssl_socket_get_context(socket));
  auto link = std::make_unique<tls_link>();
  link->sni = is_ip_address(tls.server_name) ? std::string{} : tls.server_name;
  if (SSL_CTX_set_ex_data(ctx, ctx_slot(), link.get()) != 1)
    return tls_failure("cannot set up OpenSSL: " + take_tls_error());
  link.release();  // the SSL_CTX owns it now
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_default_passwd_cb(ctx, refuse_password);
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, read_ahead_bytes);
  SSL_CTX_set_info_callback(ctx, on_tls_event);

  if (!tls.cacertfile.empty()) {
    if (failure f = check_readable("cacertfile", tls.cacertfile))
      return f;
    if (amqp_ssl_socket_set_cacert(socket, tls.cacertfile.c_str()) != AMQP_STATUS_OK)
      return tls_failure("cacertfile \"" + tls.cacertfile + "\" holds no usable CA certificate: " +
                         take_tls_error());
  } else if (tls.verify_peer && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return tls_failure("cannot load the system's CA certificates: " + take_tls_error());
  }
  if (tls.certfile.empty()) {
    SSL_CTX_set_client_cert_cb(ctx, on_certificate_request);
  } else {
    const std::string& keyfile = tls.keyfile.empty() ? tls.certfile : tls.keyfile;
    if (failure f = check_readable("certfile", tls.certfile))
      return f;
    if (failure f = check_readable("keyfile", keyfile))
      return f;
    if (amqp_ssl_socket_set_key(socket, tls.certfile.c_str(), keyfile.c_str()) != AMQP_STATUS_OK)
      return tls_failure("cannot use certfile \"" + tls.certfile + "\" with keyfile \"" + keyfile +
                         "\": " + take_tls_error());
  }

  amqp_ssl_socket_set_verify_peer(socket, tls.verify_peer ? 1 : 0);
  amqp_ssl_socket_set_verify_hostname(socket, 0);  // OpenSSL checks the name, IP addresses too
  // SSL_VERIFY_PEER: a certificate that fails a check ends the handshake with an alert.
  SSL_CTX_set_verify(ctx, tls.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, on_verify);
  if (tls.verify_peer && !tls.server_name.empty()) {
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    int set = is_ip_address(tls.server_name)
                ? X509_VERIFY_PARAM_set1_ip_asc(param, tls.server_name.c_str())
                : X509_VERIFY_PARAM_set1_host(param, tls.server_name.c_str(), 0);
    if (set != 1)
      return tls_failure("cannot check the broker's certificate against \"" + tls.server_name +
                         "\": " + take_tls_error());
  }
  return {};
}

failure handshake_failure(const url& address, const tls_link& link, int status) {
  std::string step = "TLS handshake with " + address.endpoint() + ": ";
  std::string reason = take_tls_error();
  int e = link.verify_error;
  if (address.tls->verify_peer && (e == X509_V_ERR_HOSTNAME_MISMATCH || e == X509_V_ERR_IP_ADDRESS_MISMATCH))
    return failure{failure_scope::connection, 0,
                   step + "the broker's certificate is not for " + address.tls->server_name + " (" +
                     X509_verify_cert_error_string(e) + ")"};
  if (address.tls->verify_peer && e != X509_V_OK)
    return failure{failure_scope::connection, 0,
                   step + "the broker's certificate does not verify: " +
                     X509_verify_cert_error_string(e)};
  if (status == AMQP_STATUS_TIMEOUT)
    return failure{failure_scope::connection, 0, step + "no answer within the connect timeout"};
  if (reason == "wrong version number")
    reason += " (is this port a TLS listener?)";
  return failure{failure_scope::connection, 0,
                 step + (reason.empty() ? std::string(amqp_error_string2(status)) : reason)};
}

// rabbitmq-c reports every failed connect as "a socket error occurred". One plain connect
// attempt tells which: refused, unreachable, timed out.
std::string diagnose_connect(const url& address, const timeval& timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto port = std::to_string(address.port);
  if (int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return std::string("cannot resolve host: ") + ::gai_strerror(rc);
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  int last_error = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = errno;
      continue;
    }
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    last_error = rc == 0 ? 0 : errno;
    ::close(fd);
    if (rc == 0)
      return {};
  }
  if (last_error == EINPROGRESS || last_error == EAGAIN)
    return "connection timed out";
  return last_error != 0 ? std::string(std::strerror(last_error)) : std::string{};
}

} // namespace

failure open_transport(amqp_connection_state_t state, const url& address, const timeval& timeout) {
  if (address.tls) {
    if (failure f = make_tls_socket(state, *address.tls))
      return f;
  } else if (amqp_tcp_socket_new(state) == nullptr) {
    return failure{failure_scope::connection, 0, "connect: cannot create a socket"};
  }
  amqp_socket_t* socket = amqp_get_socket(state);
  errno = 0;
  (void)take_tls_error();  // nothing of an earlier connection on this thread
  int rc = amqp_socket_open_noblock(socket, address.host.c_str(), address.port, &timeout);
  if (rc == AMQP_STATUS_OK)
    return {};
  if (tls_link* link = address.tls ? link_of(state) : nullptr; link && link->handshake_started)
    return handshake_failure(address, *link, rc);
  ERR_clear_error();
  std::string step = "connect to " + address.endpoint();
  failure f = describe_status(rc, step);
  if (rc == AMQP_STATUS_SOCKET_ERROR || rc == AMQP_STATUS_TCP_ERROR) {
    if (auto why = diagnose_connect(address, timeout); !why.empty())
      f.message = step + ": " + why;
  }
  return f;
}

failure explain_login_failure(amqp_connection_state_t state, const url& address, failure why) {
  if (!address.tls || why.code != 0)
    return why;  // the broker answered in AMQP: it said why itself
  if (tls_link* link = link_of(state); link && link->certificate_requested)
    why.message += "; the broker asked for a client certificate and the URL gives none (certfile, keyfile)";
  return why;
}

bool has_buffered_input(amqp_connection_state_t state, const url& address) noexcept {
  if (!address.tls)
    return false;
  tls_link* link = link_of(state);
  return link != nullptr && link->ssl != nullptr && SSL_has_pending(link->ssl) == 1;
}

int write_raw(amqp_connection_state_t state, const url& address, std::string_view bytes,
              std::chrono::milliseconds stall_timeout) {
  int fd = amqp_get_sockfd(state);
  if (!address.tls)
    return write_all(fd, bytes, stall_timeout);
  tls_link* link = link_of(state);
  if (link == nullptr || link->ssl == nullptr || fd < 0)
    return AMQP_STATUS_SOCKET_CLOSED;
  while (!bytes.empty()) {
    // A retry after WANT_WRITE must pass the same buffer and length, as it does here.
    int length = static_cast<int>(std::min<std::size_t>(bytes.size(), INT_MAX));
    ERR_clear_error();
    int n = SSL_write(link->ssl, bytes.data(), length);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    int why = SSL_get_error(link->ssl, n);
    short wanted = why == SSL_ERROR_WANT_WRITE ? POLLOUT : why == SSL_ERROR_WANT_READ ? POLLIN : 0;
    if (wanted == 0)
      return AMQP_STATUS_SSL_ERROR;
    if (int rc = wait_socket(fd, wanted, stall_timeout); rc != AMQP_STATUS_OK)
      return rc;
  }
  return AMQP_STATUS_OK;
}

std::string take_tls_error() {
  unsigned long first = ERR_get_error();  // the earliest: the cause, the rest is context
  ERR_clear_error();
  int alert = std::exchange(last_alert, -1);
  if (first == 0 && alert >= 0)
    return std::string("the broker sent the alert \"") + SSL_alert_desc_string_long(alert) + "\"";
  if (first == 0)
    return {};
  if (const char* reason = ERR_reason_error_string(first))
    return reason;
  char text[256];
  ERR_error_string_n(first, text, sizeof text);
  return text;
}

} // namespace causeway::amqp::detail
