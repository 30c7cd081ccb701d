// Internal to device_bridge/: the TLS side of a Session (asio's SSL stream over the session's
// own socket), kept out of session.h so that users of sessions never see OpenSSL's headers.
#pragma once

#include <openssl/ssl.h>

#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <optional>
#include <string>

#include "device_bridge/session.h"

namespace edgerig::bridge {

struct SessionTls {
  // TLS 1.3 only, one cipher suite, no certificates: the pre-shared key (from the session's
  // key derivation, so fresh for every connection) authenticates both ends; the key exchange
  // is still (EC)DHE, so recorded traffic stays secret even if the token leaks later.
  explicit SessionTls(std::string psk_bytes);
  ~SessionTls();
  SessionTls(const SessionTls&) = delete;
  SessionTls& operator=(const SessionTls&) = delete;

  asio::ssl::context context;
  std::string psk;
  SSL_SESSION* psk_session = nullptr;  // made on first use, from psk
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> stream;
};

}  // namespace edgerig::bridge
