// The handshake, both sides: Hello -> Challenge(nonce) -> Auth(HMAC-SHA256(token, nonce)) ->
// Welcome. The token never crosses the wire; a fresh nonce per connection defeats replay.
#include <unistd.h>

#include <thread>

#include "device_bridge/auth.h"
#include "device_bridge/frame.h"
#include "device_bridge/log.h"
#include "device_bridge/session.h"
#include "device_bridge/wire_error.h"

namespace edgerig::bridge {

namespace {

std::string localHostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

const char* expectedIn(int phase) {
  switch (phase) {
    case 0:
      return "Hello";
    case 1:
      return "Auth";
    case 2:
      return "Challenge";
    default:
      return "Welcome";
  }
}

}  // namespace

void Session::beginServerHandshake(HandshakeDone done) {
  handshake_done_ = std::move(done);
  phase_ = Phase::kServerAwaitHello;
  armHandshakeTimer();
  readHeader();
}

void Session::beginClientHandshake(HandshakeDone done) {
  handshake_done_ = std::move(done);
  phase_ = Phase::kClientAwaitChallenge;
  peer_role_ = wire::PEER_ROLE_AGENT;  // whoever listens is an agent
  armHandshakeTimer();
  wire::Envelope hello;
  hello.mutable_hello()->set_name(options_.local_name);
  hello.mutable_hello()->set_role(options_.role);
  enqueue(encodeFrame(hello), MessageKind::kControl, /*urgent=*/false);
  readHeader();
}

void Session::armHandshakeTimer() {
  handshake_timer_.expires_after(options_.handshake_timeout);
  handshake_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec == asio::error::operation_aborted || self->closing_) return;
    if (self->phase_ == Phase::kReady || self->phase_ == Phase::kRunning) return;
    self->protocolError(wire::ERROR_CODE_TIMEOUT,
                        "handshake not finished within " +
                            std::to_string(self->options_.handshake_timeout.count()) + " ms");
  });
}

void Session::handleHandshake(wire::Envelope&& env) {
  const auto wrongMessage = [&] {
    protocolError(wire::ERROR_CODE_OUT_OF_ORDER, std::string("expected ") +
                                                     expectedIn(static_cast<int>(phase_)) +
                                                     " during the handshake, got message field " +
                                                     std::to_string(env.body_case()));
  };
  switch (phase_) {
    case Phase::kServerAwaitHello: {
      if (!env.has_hello()) return wrongMessage();
      peer_name_ = env.hello().name();
      peer_role_ = env.hello().role();
      nonce_ = randomBytes(kNonceBytes);
      wire::Envelope challenge;
      challenge.mutable_challenge()->set_nonce(nonce_);
      challenge.mutable_challenge()->set_agent_name(options_.local_name);
      phase_ = Phase::kServerAwaitAuth;
      return enqueue(encodeFrame(challenge), MessageKind::kControl, /*urgent=*/false);
    }
    case Phase::kServerAwaitAuth: {
      if (!env.has_auth()) return wrongMessage();
      const std::string expected = hmacSha256(token_, nonce_);
      if (!constantTimeEqual(env.auth().mac(), expected)) {
        return protocolError(wire::ERROR_CODE_AUTH_FAILED,
                             env.auth().mac().empty()
                                 ? "no token was given (empty MAC); pass the shared token file"
                                 : "wrong token; use the same token file on both sides");
      }
      wire::Envelope welcome;
      welcome.mutable_welcome()->set_agent_name(options_.local_name);
      welcome.mutable_welcome()->set_cores(
          static_cast<int32_t>(std::thread::hardware_concurrency()));
      welcome.mutable_welcome()->set_hostname(localHostname());
      enqueue(encodeFrame(welcome), MessageKind::kControl, /*urgent=*/false);
      return finishHandshake();
    }
    case Phase::kClientAwaitChallenge: {
      if (!env.has_challenge()) return wrongMessage();
      if (env.challenge().nonce().size() < 16) {
        return protocolError(wire::ERROR_CODE_BAD_REQUEST,
                             "challenge nonce of " +
                                 std::to_string(env.challenge().nonce().size()) +
                                 " bytes is too short to be safe");
      }
      peer_name_ = env.challenge().agent_name();
      wire::Envelope auth;
      auth.mutable_auth()->set_mac(hmacSha256(token_, env.challenge().nonce()));
      phase_ = Phase::kClientAwaitWelcome;
      return enqueue(encodeFrame(auth), MessageKind::kControl, /*urgent=*/false);
    }
    case Phase::kClientAwaitWelcome: {
      if (!env.has_welcome()) return wrongMessage();
      if (!env.welcome().agent_name().empty()) peer_name_ = env.welcome().agent_name();
      peer_cores_ = env.welcome().cores();
      logger("edgerig.bridge")
          ->debug("connected to {}: {} cores, host {}", who(), env.welcome().cores(),
                  env.welcome().hostname());
      return finishHandshake();
    }
    default:
      return wrongMessage();
  }
}

void Session::finishHandshake() {
  phase_ = Phase::kReady;
  handshake_timer_.cancel();
  token_.clear();
  nonce_.clear();
  logger("edgerig.bridge")->debug("session with {} authenticated", who());
  if (auto done = std::move(handshake_done_)) {
    handshake_done_ = nullptr;
    done(shared_from_this());
  }
}

}  // namespace edgerig::bridge
