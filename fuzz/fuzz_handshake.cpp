// The handshake state machine of both sides, fed arbitrary message sequences over a real
// loopback connection: the input's first byte picks the side the fuzzer plays (a dialer
// against a Listener's session, or an agent against a dialing session), the rest is a
// program of steps: raw frames, well-formed handshake messages with right or wrong proofs,
// MAC'd frames once keys exist, bare bytes. Everything runs on this thread (io_context::poll),
// so a run is deterministic but for the nonces.
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "device_bridge/auth.h"
#include "device_bridge/frame.h"
#include "device_bridge/session.h"
#include "device_bridge/session_crypto.h"
#include "fuzz_quiet.h"

using namespace edgerig;
using namespace edgerig::bridge;

namespace {

const std::string kToken = "fuzz-token-0123456789abcdef0123456789";

struct Input {
  const uint8_t* p;
  size_t n;
  bool empty() const { return n == 0; }
  uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::string bytes(size_t k) {
    k = std::min(k, n);
    std::string s(reinterpret_cast<const char*>(p), k);
    p += k;
    n -= k;
    return s;
  }
};

SessionOptions options(const char* name) {
  SessionOptions o;
  o.local_name = name;
  o.handshake_timeout = std::chrono::milliseconds(50);
  o.loss_timeout = std::chrono::milliseconds(0);
  o.send_heartbeats = false;
  o.limits.preauth_max_frame_bytes = 4096;
  o.max_frame_bytes = 1 << 16;
  return o;
}

struct World {
  asio::io_context io;
  std::unique_ptr<Listener> listener;
  asio::ip::tcp::acceptor acceptor{io};
  std::vector<std::shared_ptr<Session>> sessions;  // of this run, closed at its end

  World() {
    auto l = Listener::create(io, {"127.0.0.1", 0}, kToken, options("agent"),
                              [this](std::shared_ptr<Session> s) {
                                s->start([](wire::Envelope&&) {}, [](const Status&) {});
                                sessions.push_back(std::move(s));
                              });
    if (!l) std::abort();
    listener = std::move(l).value();
    acceptor.open(asio::ip::tcp::v4());
    acceptor.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor.listen();
  }
  void settle() {
    for (int i = 0; i < 64 && io.poll() > 0; ++i) {
    }
  }
};

World& world() {
  static World* w = new World();  // lives for the process; the fuzzer exits without tearing down
  return *w;
}

// The fuzzer's end of the connection: plain blocking socket, non-blocking reads.
struct Peer {
  asio::ip::tcp::socket socket;
  std::string inbox;
  HandshakeTranscript t;
  std::unique_ptr<FrameMac> tx, rx;
  explicit Peer(asio::io_context& io) : socket(io) {}

  void send(const std::string& bytes) {
    std::error_code ec;
    asio::write(socket, asio::buffer(bytes), ec);
  }
  void sendFrame(const std::string& frame) {
    if (!tx) return send(frame);
    const auto tag = tx->next({frame});
    send(frame + std::string(tag.data(), tag.size()));
  }
  void sendEnvelope(const wire::Envelope& env) { sendFrame(encodeFrame(env)); }
  // Frames that arrived so far (plain ones: handshake replies).
  std::vector<wire::Envelope> drain() {
    std::error_code ec;
    socket.non_blocking(true, ec);
    char buf[8192];
    for (;;) {
      const size_t n = socket.read_some(asio::buffer(buf), ec);
      if (ec || n == 0) break;
      inbox.append(buf, n);
    }
    std::vector<wire::Envelope> out;
    while (inbox.size() >= 4) {
      const uint32_t len = decodeLength(reinterpret_cast<const uint8_t*>(inbox.data()));
      if (inbox.size() < 4 + len) break;
      if (auto env = decodeBody(std::string_view(inbox).substr(4, len))) out.push_back(*env);
      inbox.erase(0, 4 + len);
    }
    return out;
  }
};

void keys(Peer& peer, bool dialer) {
  const SessionKeys k = deriveSessionKeys(kToken, peer.t);
  peer.tx = std::make_unique<FrameMac>(dialer ? k.dialer_to_agent : k.agent_to_dialer);
  peer.rx = std::make_unique<FrameMac>(dialer ? k.agent_to_dialer : k.dialer_to_agent);
}

void runSteps(World& w, Peer& peer, Input& in, bool dialer) {
  for (int step = 0; step < 24 && !in.empty(); ++step) {
    const uint8_t op = in.byte() % 8;
    const std::string arg = in.bytes(in.byte());
    for (const auto& env : peer.drain()) {
      if (env.has_hello()) {
        peer.t.dialer_nonce = env.hello().nonce();
        peer.t.dialer_role = env.hello().role();
        peer.t.dialer_name = env.hello().name();
        peer.t.dialer_protection = env.hello().protection();
      } else if (env.has_challenge()) {
        peer.t.agent_nonce = env.challenge().nonce();
        peer.t.agent_name = env.challenge().agent_name();
        peer.t.agent_protection = env.challenge().protection();
      }
    }
    wire::Envelope env;
    switch (op) {
      case 0: {  // a raw frame: arbitrary body
        const auto n = static_cast<uint32_t>(arg.size());
        peer.sendFrame(std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                   static_cast<char>(n >> 8), static_cast<char>(n)} +
                       arg);
        break;
      }
      case 1:  // bare bytes, unframed
        peer.send(arg);
        break;
      case 2:  // the message this side would send next, well formed
        if (dialer) {
          peer.t.dialer_nonce = randomBytes(kNonceBytes);
          peer.t.dialer_name = arg;
          peer.t.dialer_role = wire::PEER_ROLE_TOOL;
          peer.t.dialer_protection = static_cast<wire::Protection>(arg.empty() ? 0 : arg[0] % 3);
          env.mutable_hello()->set_name(arg);
          env.mutable_hello()->set_role(wire::PEER_ROLE_TOOL);
          env.mutable_hello()->set_nonce(peer.t.dialer_nonce);
          env.mutable_hello()->set_protection(peer.t.dialer_protection);
        } else {
          peer.t.agent_nonce = randomBytes(kNonceBytes);
          peer.t.agent_name = arg;
          env.mutable_challenge()->set_nonce(peer.t.agent_nonce);
          env.mutable_challenge()->set_agent_name(arg);
          env.mutable_challenge()->set_proof(agentProof(kToken, peer.t));
        }
        peer.sendEnvelope(env);
        break;
      case 3:  // the proof step, right
        if (dialer) {
          env.mutable_auth()->set_proof(dialerProof(kToken, peer.t));
        } else {
          env.mutable_welcome()->set_agent_name(peer.t.agent_name);
          env.mutable_welcome()->set_proof(welcomeProof(kToken, peer.t, env.welcome()));
        }
        peer.sendEnvelope(env);
        if (negotiate(peer.t.dialer_protection, peer.t.agent_protection) == wire::PROTECTION_MAC) {
          keys(peer, dialer);
        }
        break;
      case 4:  // the proof step, with the input's bytes as proof
        if (dialer) {
          env.mutable_auth()->set_proof(arg);
        } else {
          env.mutable_challenge()->set_nonce(arg);
          env.mutable_challenge()->set_proof(arg);
        }
        peer.sendEnvelope(env);
        break;
      case 5:  // an envelope parsed from the input (any message, any field)
        if (env.ParseFromString(arg)) peer.sendEnvelope(env);
        break;
      case 6:  // an oversize or odd length header
        peer.send(std::string{'\x7f', arg.empty() ? '\0' : arg[0], '\0', '\0'});
        break;
      default:  // let time pass for the io side
        break;
    }
    w.settle();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  Input in{data, size};
  const bool fuzzer_dials = (in.byte() & 1) == 0;
  Peer peer(w.io);
  std::shared_ptr<Session> dialed;
  if (fuzzer_dials) {
    std::error_code ec;
    peer.socket.connect({asio::ip::make_address("127.0.0.1"), w.listener->port()}, ec);
    if (ec) return 0;
    w.settle();
    runSteps(w, peer, in, /*dialer=*/true);
  } else {
    asyncConnect(w.io, {"127.0.0.1", w.acceptor.local_endpoint().port()}, kToken,
                 options("controller"), [&dialed](Result<std::shared_ptr<Session>> r) {
                   if (r) dialed = std::move(r).value();
                 });
    // The dial resolves on asio's resolver thread first: run the loop until it connects.
    std::error_code ec;
    w.acceptor.non_blocking(true, ec);
    for (int i = 0; i < 2000; ++i) {
      w.acceptor.accept(peer.socket, ec);
      if (!ec) break;
      w.io.run_one_for(std::chrono::milliseconds(1));
    }
    if (ec) return 0;
    peer.socket.non_blocking(false, ec);
    w.settle();
    runSteps(w, peer, in, /*dialer=*/false);
  }
  std::error_code ec;
  peer.socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  peer.socket.close(ec);
  if (dialed) dialed->close();
  for (auto& s : w.sessions) s->close();
  w.settle();
  w.sessions.clear();
  return 0;
}
