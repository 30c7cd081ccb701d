// The session's byte stream: plain TCP, or TLS 1.3 over it once the handshake chose TLS. TLS
// starts only after both sides proved the token, so a stranger never gets a TLS handshake out
// of an agent; its pre-shared key is the session's, derived from the token and both nonces.
#include "device_bridge/session_tls.h"

#include <asio/read.hpp>

#include "device_bridge/log.h"

namespace edgerig::bridge {

namespace {

constexpr char kPskIdentity[] = "edgerig/2";
// TLS_AES_128_GCM_SHA256: AES-NI fast, and SHA-256 is the PSK's hash.
constexpr unsigned char kTls13Aes128GcmSha256[] = {0x13, 0x01};

// Our slot in the SSL object (asio keeps its own verify callback in the "app data" slot and
// deletes whatever is there).
int tlsSlot() {
  static const int slot = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

SessionTls* tlsOf(SSL* ssl) { return static_cast<SessionTls*>(SSL_get_ex_data(ssl, tlsSlot())); }

SSL_SESSION* pskSession(SSL* ssl, SessionTls* tls) {
  if (tls->psk_session == nullptr) {
    const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kTls13Aes128GcmSha256);
    SSL_SESSION* s = SSL_SESSION_new();
    if (cipher == nullptr || s == nullptr ||
        SSL_SESSION_set1_master_key(s, reinterpret_cast<const unsigned char*>(tls->psk.data()),
                                    tls->psk.size()) != 1 ||
        SSL_SESSION_set_cipher(s, cipher) != 1 ||
        SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) != 1) {
      SSL_SESSION_free(s);
      return nullptr;
    }
    tls->psk_session = s;
  }
  SSL_SESSION_up_ref(tls->psk_session);  // OpenSSL frees the reference it is handed
  return tls->psk_session;
}

int usePsk(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* id_len,
           SSL_SESSION** session) {
  SessionTls* tls = tlsOf(ssl);
  SSL_SESSION* s = pskSession(ssl, tls);
  if (s == nullptr) return 0;
  if (md != nullptr && md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(s))) {
    SSL_SESSION_free(s);
    *id = nullptr;
    *id_len = 0;
    *session = nullptr;
    return 1;
  }
  *id = reinterpret_cast<const unsigned char*>(kPskIdentity);
  *id_len = sizeof kPskIdentity - 1;
  *session = s;
  return 1;
}

int findPsk(SSL* ssl, const unsigned char* id, size_t id_len, SSL_SESSION** session) {
  SessionTls* tls = tlsOf(ssl);
  if (std::string_view(reinterpret_cast<const char*>(id), id_len) != kPskIdentity) {
    *session = nullptr;  // unknown identity: the handshake fails
    return 1;
  }
  *session = pskSession(ssl, tls);
  return *session != nullptr ? 1 : 0;
}

}  // namespace

SessionTls::SessionTls(std::string psk_bytes)
    : context(asio::ssl::context::tls), psk(std::move(psk_bytes)) {
  SSL_CTX* ctx = context.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
  SSL_CTX_set_num_tickets(ctx, 0);  // every connection has its own PSK: nothing to resume
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
}

SessionTls::~SessionTls() {
  stream.reset();
  SSL_SESSION_free(psk_session);
}

void Session::startTls(bool server, const std::string& psk) {
  if (closing_) return;
  tls_ = std::make_unique<SessionTls>(psk);
  tls_->stream.emplace(socket_, tls_->context);
  SSL* ssl = tls_->stream->native_handle();
  SSL_set_ex_data(ssl, tlsSlot(), tls_.get());
  if (server) {
    SSL_set_psk_find_session_callback(ssl, findPsk);
  } else {
    SSL_set_psk_use_session_callback(ssl, usePsk);
  }
  tls_->stream->async_handshake(
      server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client,
      [self = shared_from_this()](std::error_code ec) {
        if (self->closing_) return self->forceClose();
        if (ec) {
          return self->fail({StatusCode::kUnauthenticated,
                             "TLS handshake with " + self->who() + " failed: " + ec.message()});
        }
        self->tls_io_ = true;
        self->finishHandshake();
      });
}

void Session::readExactly(asio::mutable_buffer into, IoHandler handler) {
  if (tls_io_) return asio::async_read(*tls_->stream, into, std::move(handler));
  asio::async_read(socket_, into, std::move(handler));
}

void Session::readSomeInto(asio::mutable_buffer into, IoHandler handler) {
  if (tls_io_) return tls_->stream->async_read_some(into, std::move(handler));
  socket_.async_read_some(into, std::move(handler));
}

void Session::writeSomeFrom(const std::array<asio::const_buffer, 3>& from, IoHandler handler) {
  if (tls_io_) {
    // TLS writes one buffer at a time; the caller's loop writes the rest.
    for (const auto& b : from) {
      if (b.size() > 0) return tls_->stream->async_write_some(b, std::move(handler));
    }
  }
  socket_.async_write_some(from, std::move(handler));
}

void Session::whenFlushed(std::function<void()> then) {
  if (!writing_ && urgent_.empty() && data_.empty()) return then();
  after_flush_ = std::move(then);
}

}  // namespace edgerig::bridge
