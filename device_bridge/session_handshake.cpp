// The handshake, both sides (proto/edgerig.proto tells the messages): mutual proofs over a
// transcript of both nonces, roles, names and protection choices; the agent proves first and
// the dialer checks that proof before it reveals its own. The token never crosses the wire.
// Then: a MAC per frame from keys derived from the token and both nonces, or TLS with a PSK.
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
    case 3:
      return "Welcome";
    default:
      return "nothing";
  }
}

}  // namespace

bool Session::handshaking() const {
  return phase_ == Phase::kServerAwaitHello || phase_ == Phase::kServerAwaitAuth ||
         phase_ == Phase::kClientAwaitChallenge || phase_ == Phase::kClientAwaitWelcome ||
         phase_ == Phase::kTlsHandshake;
}

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
  transcript_.dialer_nonce = randomBytes(kNonceBytes);
  transcript_.dialer_role = options_.role;
  transcript_.dialer_name = options_.local_name;
  transcript_.dialer_protection = options_.protection;
  wire::Envelope hello;
  hello.mutable_hello()->set_name(options_.local_name);
  hello.mutable_hello()->set_role(options_.role);
  hello.mutable_hello()->set_nonce(transcript_.dialer_nonce);
  hello.mutable_hello()->set_protection(options_.protection);
  enqueue(encodeFrame(hello), TrafficKind::kControl, /*urgent=*/false);
  readHeader();
}

void Session::armHandshakeTimer() {
  handshake_timer_.expires_after(options_.handshake_timeout);
  handshake_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec == asio::error::operation_aborted || self->closing_) return;
    if (!self->handshaking()) return;
    const std::string detail = "handshake not finished within " +
                               std::to_string(self->options_.handshake_timeout.count()) + " ms";
    // Mid-TLS there is no frame to send an Error in.
    if (self->phase_ == Phase::kTlsHandshake) {
      return self->fail({StatusCode::kTimeout, "TLS with " + self->who() + ": " + detail});
    }
    self->protocolError(wire::ERROR_CODE_TIMEOUT, detail);
  });
}

void Session::refuseStranger(wire::ErrorCode code, const std::string& detail) {
  if (closing_ || !handshaking()) return;
  protocolError(code, detail);
}

void Session::handleHandshake(wire::Envelope&& env) {
  const auto wrongMessage = [&] {
    protocolError(wire::ERROR_CODE_OUT_OF_ORDER, std::string("expected ") +
                                                     expectedIn(static_cast<int>(phase_)) +
                                                     " during the handshake, got message field " +
                                                     std::to_string(env.body_case()));
  };
  const auto nonceTooShort = [&](const std::string& nonce, const char* whose) {
    protocolError(wire::ERROR_CODE_BAD_REQUEST, std::string(whose) + " nonce of " +
                                                    std::to_string(nonce.size()) +
                                                    " bytes is too short to be safe");
  };
  switch (phase_) {
    case Phase::kServerAwaitHello: {
      if (!env.has_hello()) return wrongMessage();
      const wire::Hello& hello = env.hello();
      peer_name_ = hello.name();
      peer_role_ = hello.role();
      if (hello.nonce().size() < kMinNonceBytes) return nonceTooShort(hello.nonce(), "hello");
      transcript_.dialer_nonce = hello.nonce();
      transcript_.dialer_role = hello.role();
      transcript_.dialer_name = hello.name();
      transcript_.dialer_protection = hello.protection();
      transcript_.agent_nonce = randomBytes(kNonceBytes);
      transcript_.agent_name = options_.local_name;
      transcript_.agent_protection = options_.protection;
      wire::Envelope challenge;
      challenge.mutable_challenge()->set_nonce(transcript_.agent_nonce);
      challenge.mutable_challenge()->set_agent_name(options_.local_name);
      challenge.mutable_challenge()->set_protection(options_.protection);
      challenge.mutable_challenge()->set_proof(agentProof(token_, transcript_));
      phase_ = Phase::kServerAwaitAuth;
      return enqueue(encodeFrame(challenge), TrafficKind::kControl, /*urgent=*/false);
    }
    case Phase::kServerAwaitAuth: {
      if (!env.has_auth()) return wrongMessage();
      if (!constantTimeEqual(env.auth().proof(), dialerProof(token_, transcript_))) {
        return protocolError(wire::ERROR_CODE_AUTH_FAILED,
                             env.auth().proof().empty()
                                 ? "no token was given (empty proof); pass the shared token file"
                                 : "wrong token; use the same token file on both sides");
      }
      wire::Envelope welcome;
      wire::Welcome* w = welcome.mutable_welcome();
      w->set_agent_name(options_.local_name);
      w->set_cores(static_cast<int32_t>(std::thread::hardware_concurrency()));
      w->set_hostname(localHostname());
      w->set_proof(welcomeProof(token_, transcript_, *w));
      enqueue(encodeFrame(welcome), TrafficKind::kControl, /*urgent=*/false);
      return authenticated(deriveSessionKeys(token_, transcript_), /*dialer=*/false);
    }
    case Phase::kClientAwaitChallenge: {
      if (!env.has_challenge()) return wrongMessage();
      const wire::Challenge& challenge = env.challenge();
      if (challenge.nonce().size() < kMinNonceBytes) {
        return nonceTooShort(challenge.nonce(), "challenge");
      }
      peer_name_ = challenge.agent_name();
      transcript_.agent_nonce = challenge.nonce();
      transcript_.agent_name = challenge.agent_name();
      transcript_.agent_protection = challenge.protection();
      // The agent proves first; a device that cannot is refused before we prove anything.
      if (!constantTimeEqual(challenge.proof(), agentProof(token_, transcript_))) {
        return protocolError(wire::ERROR_CODE_AUTH_FAILED,
                             "the device at " + remote_address_ +
                                 " could not prove it holds the token (a wrong token on it, or "
                                 "not an edgerig agent of this release); refusing it");
      }
      wire::Envelope auth;
      auth.mutable_auth()->set_proof(dialerProof(token_, transcript_));
      phase_ = Phase::kClientAwaitWelcome;
      return enqueue(encodeFrame(auth), TrafficKind::kControl, /*urgent=*/false);
    }
    case Phase::kClientAwaitWelcome: {
      if (!env.has_welcome()) return wrongMessage();
      const wire::Welcome& w = env.welcome();
      if (!constantTimeEqual(w.proof(), welcomeProof(token_, transcript_, w))) {
        return protocolError(wire::ERROR_CODE_AUTH_FAILED,
                             "the Welcome from " + remote_address_ +
                                 " does not carry a valid proof (altered on the way?)");
      }
      if (!w.agent_name().empty()) peer_name_ = w.agent_name();
      peer_cores_ = w.cores();
      peer_version_ = env.protocol_version();
      logger("edgerig.bridge")
          ->debug("connected to {}: {} cores, host {}", who(), w.cores(), w.hostname());
      return authenticated(deriveSessionKeys(token_, transcript_), /*dialer=*/true);
    }
    default:
      return wrongMessage();
  }
}

void Session::authenticated(const SessionKeys& keys, bool dialer) {
  protection_ = negotiate(transcript_.dialer_protection, transcript_.agent_protection);
  token_.clear();
  if (protection_ == wire::PROTECTION_TLS) {
    phase_ = Phase::kTlsHandshake;
    // TLS takes over the socket once our last plain frame (the Welcome, or the Auth) is out.
    // Nothing more arrives in plain: the peer too sends nothing until TLS is up.
    return whenFlushed([self = shared_from_this(), psk = keys.tls_psk, dialer] {
      self->startTls(/*server=*/!dialer, psk);
    });
  }
  if (protection_ == wire::PROTECTION_MAC) {
    tx_mac_ = std::make_unique<FrameMac>(dialer ? keys.dialer_to_agent : keys.agent_to_dialer);
    rx_mac_ = std::make_unique<FrameMac>(dialer ? keys.agent_to_dialer : keys.dialer_to_agent);
    tx_protect_ = true;
  }
  finishHandshake();
}

void Session::finishHandshake() {
  phase_ = Phase::kReady;
  handshake_timer_.cancel();
  token_.clear();
  transcript_ = HandshakeTranscript{};
  static const char* const kNames[] = {"MAC", "TLS", "no protection"};
  logger("edgerig.bridge")
      ->debug("session with {} authenticated ({})", who(),
              kNames[std::clamp(static_cast<int>(protection_), 0, 2)]);
  if (auto done = std::move(handshake_done_)) {
    handshake_done_ = nullptr;
    done(shared_from_this());
  }
}

}  // namespace edgerig::bridge
