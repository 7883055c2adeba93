// tls_broker.hpp — a throwaway PKI made with the openssl CLI, and a private broker with a TLS
// listener that uses it, for tests of amqps://.
//
// `test_pki` makes, in a folder of its own under the build tree (removed with it): a CA, a
// server certificate it signed for localhost and 127.0.0.1, a client certificate it signed,
// and a second CA that signed nothing here (the "wrong CA"). `tls_broker` starts a private
// broker (broker_helpers.hpp) whose TLS listener on 127.0.0.1 requires a client certificate
// signed by the CA (verify_peer, fail_if_no_peer_cert).
#pragma once

#include "broker_helpers.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace amqp_test {

class test_pki {
public:
  test_pki() {
    const char* base = std::getenv("TELLURIDE_BROKER_DIR");
    dir_ = std::string(base ? base : "/tmp/causeway-test-broker") + "-tls-" + std::to_string(::getpid());
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    std::filesystem::create_directories(dir_);
    write("server.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
    write("client.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=clientAuth\n");
    make_ca("ca", "telluride-test-ca");
    make_ca("other-ca", "telluride-other-ca");
    make_signed("server", "localhost");
    make_signed("client", "telluride-test-client");
  }
  ~test_pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  const std::string& dir() const { return dir_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  std::string ca() const { return file("ca.pem"); }
  std::string other_ca() const { return file("other-ca.pem"); }
  std::string client_cert() const { return file("client.pem"); }
  std::string client_key() const { return file("client.key"); }

  /// Writes `text` to the file `name` of the folder; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }

private:
  void openssl(const std::string& args) const {
    std::string command = "cd " + shell_quote(dir_) + " && openssl " + args + " 2>&1";
    std::string output;
    int status = -1;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[4096];
      std::size_t n;
      while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
        output.append(buffer, n);
      status = ::pclose(pipe);
    }
    if (status != 0)
      FAIL("openssl " << args << " failed: " << output);
  }
  // EC P-256 keys: quick to make, and every TLS stack here speaks them.
  void make_ca(const std::string& name, const std::string& common_name) const {
    openssl("req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout " +
            name + ".key -out " + name + ".pem -subj /CN=" + common_name +
            " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
  }
  void make_signed(const std::string& name, const std::string& common_name) const {
    openssl("req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
            ".key -out " + name + ".csr -subj /CN=" + common_name);
    openssl("x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out " +
            name + ".pem -extfile " + name + ".ext");
  }

  std::string dir_;
};

/// A private broker (slot as in private_broker) with the PKI's TLS listener on port() + 1.
class tls_broker {
public:
  explicit tls_broker(int slot) : broker_(slot, tls_conf_lines(slot)) {}

  const test_pki& pki() const { return pki_; }
  private_broker& broker() { return broker_; }
  int tls_port() const { return broker_.port() + 1; }
  /// `amqps://guest:guest@HOST:tls_port/%2f?QUERY`.
  std::string url(const std::string& query, const std::string& host = "127.0.0.1") const {
    return "amqps://guest:guest@" + host + ":" + std::to_string(tls_port()) + "/%2f" +
           (query.empty() ? "" : "?" + query);
  }
  /// The query of a client that trusts the CA and shows its certificate.
  std::string trusted_query() const {
    return "cacertfile=" + pki_.ca() + "&certfile=" + pki_.client_cert() + "&keyfile=" + pki_.client_key();
  }

private:
  std::string tls_conf_lines(int slot) {
    int port = private_broker::port_of(slot) + 1;
    return "listeners.ssl.1 = 127.0.0.1:" + std::to_string(port) + "\n" +
                        "ssl_options.cacertfile = " + pki_.ca() + "\n" +
                        "ssl_options.certfile = " + pki_.file("server.pem") + "\n" +
                        "ssl_options.keyfile = " + pki_.file("server.key") + "\n" +
                        "ssl_options.verify = verify_peer\n"
                        "ssl_options.fail_if_no_peer_cert = true\n";
  }

  test_pki pki_;  // first: the broker reads its files
  private_broker broker_;
};

} // namespace amqp_test
