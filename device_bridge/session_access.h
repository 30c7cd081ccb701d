// Internal: the door through which Listener and the dialer create sessions and run the
// handshake; not for use outside device_bridge/.
#pragma once

#include "device_bridge/session.h"

namespace edgerig::bridge::detail {

struct SessionAccess {
  using HandshakeDone = std::function<void(Result<std::shared_ptr<Session>>)>;
  static std::shared_ptr<Session> make(asio::ip::tcp::socket socket, SessionOptions options,
                                       std::string token) {
    return std::make_shared<Session>(Session::Key{}, std::move(socket), std::move(options),
                                     std::move(token));
  }
  static void serverHandshake(const std::shared_ptr<Session>& s, HandshakeDone done) {
    s->beginServerHandshake(std::move(done));
  }
  static void clientHandshake(const std::shared_ptr<Session>& s, HandshakeDone done) {
    s->beginClientHandshake(std::move(done));
  }
  // io thread only.
  static bool handshaking(const std::shared_ptr<Session>& s) {
    return !s->closing_ && s->handshaking();
  }
  static void refuse(const std::shared_ptr<Session>& s, wire::ErrorCode code,
                     const std::string& detail) {
    s->refuseStranger(code, detail);
  }
};

}  // namespace edgerig::bridge::detail
