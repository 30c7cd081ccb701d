// A Session is one mutually authenticated TCP connection to a peer: framed Envelopes both ways,
// each frame MAC'd (or the whole stream in TLS), a write queue paced by a LinkShaper,
// heartbeats with RTT, loss detection, per-kind byte counts, and bounded receive memory.
// Sessions come from Listener (server side) or asyncConnect/connect (client side).
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "device_bridge/address.h"
#include "device_bridge/link_shaper.h"
#include "device_bridge/memory_budget.h"
#include "device_bridge/protocol.h"
#include "device_bridge/session_crypto.h"
#include "device_bridge/status.h"
#include "device_bridge/traffic.h"
#include "edgerig.pb.h"

namespace edgerig::bridge {

// What an agent spends on peers, before and after they authenticate (README: "Limits").
struct BridgeLimits {
  // Before the handshake is done a peer is a stranger: its frames are tiny (Hello, Auth) and
  // anything larger is refused before a byte of it is stored.
  uint32_t preauth_max_frame_bytes = kDefaultPreauthMaxFrameBytes;
  // Per listener: handshakes in progress at once; a new connection beyond it drops the oldest
  // (a slow stranger cannot lock the door for the controller).
  size_t max_unauthenticated = 64;
  // Per connection, after the handshake: received bytes one connection may hold at once (the
  // frame being read plus buffers kept for reuse). A frame above it is refused.
  size_t connection_budget_bytes = size_t{kDefaultMaxFrameBytes};
  // Agent-wide: used by Listener::create when SessionOptions::memory_budget is unset.
  size_t memory_budget_bytes = size_t{1} << 30;
};

struct SessionOptions {
  std::string local_name = "edgerig";
  wire::PeerRole role = wire::PEER_ROLE_CONTROLLER;  // what we say in Hello when dialing
  // handshake_timeout bounds the whole handshake (TLS included), from the first byte.
  std::chrono::milliseconds connect_timeout{5000}, handshake_timeout{5000};
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds loss_timeout{3500};  // 0: no liveness check
  bool send_heartbeats = true;
  uint32_t max_frame_bytes = kDefaultMaxFrameBytes;  // after the handshake
  BridgeLimits limits;
  // What we ask for; the stronger of the two sides' choices is used (TLS > MAC > NONE).
  wire::Protection protection = wire::PROTECTION_MAC;
  // Shared by every session of a process that must bound its memory (an agent). Null: frames
  // are bounded only by max_frame_bytes and the connection budget.
  std::shared_ptr<MemoryBudget> memory_budget;
  // Set by a Listener for its sessions: refusals are logged once per peer address.
  std::shared_ptr<RefusalLog> refusals;
};

// A write that makes no progress for this long means the peer stopped reading.
inline constexpr std::chrono::seconds kWriteStallTimeout{15};
// How long a closing session may spend flushing its queue or its Error frame.
inline constexpr std::chrono::milliseconds kCloseLinger{2000};

namespace detail {
struct SessionAccess;
}
struct SessionTls;  // session_tls.h: kept out of this header, with OpenSSL's

class Session : public std::enable_shared_from_this<Session> {
  struct Key {
    explicit Key() = default;
  };

 public:
  using Clock = std::chrono::steady_clock;
  using MessageHandler = std::function<void(wire::Envelope&&)>;  // runs on the io thread
  using CloseHandler = std::function<void(const Status&)>;       // once, with the reason

  Session(Key, asio::ip::tcp::socket socket, SessionOptions options, std::string token);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start(MessageHandler on_message, CloseHandler on_close);  // begins reading
  void send(wire::Envelope env);  // thread-safe; queued; exactly one write in flight; shaped
  void close();                   // thread-safe, idempotent; on_close gets kAborted
  void setShape(const LinkShape& shape);  // thread-safe
  LinkShape shape() const;
  // Thread-safe. A frozen device stops reading, answering and sending (heartbeats included);
  // its own loss check is suspended.
  void setPaused(bool paused);

  const std::string& peerName() const { return peer_name_; }
  wire::PeerRole peerRole() const { return peer_role_; }
  int peerCores() const { return peer_cores_; }  // from the agent's Welcome; 0 if unknown
  // The protocol version the agent stamped on its Welcome (dialer side; 0 if unknown).
  uint32_t peerProtocolVersion() const { return peer_version_; }
  wire::Protection protection() const { return protection_; }    // negotiated in the handshake
  std::string remoteAddress() const { return remote_address_; }  // "host:port"
  TrafficCounters counters() const;                              // thread-safe snapshot
  std::optional<double> rttMs() const;                           // smoothed heartbeat RTT
  bool isOpen() const { return open_.load(); }
  size_t queuedBytes() const { return queued_bytes_.load(); }

 private:
  friend struct detail::SessionAccess;
  using HandshakeDone = std::function<void(Result<std::shared_ptr<Session>>)>;
  using IoHandler = std::function<void(std::error_code, size_t)>;

  enum class Phase {
    kServerAwaitHello,
    kServerAwaitAuth,
    kClientAwaitChallenge,
    kClientAwaitWelcome,
    kTlsHandshake,
    kReady,  // handshake done, not started: nothing is read
    kRunning,
    kClosed,
  };

  struct Outgoing {
    std::string frame;
    std::string bulk;  // tensor bytes written after `frame`, never copied (bulk_frame.h)
    TrafficKind kind = TrafficKind::kControl;
    Clock::time_point due{};
    bool protect = false;  // gets a MAC when it is written (the MAC's sequence is write order)
    FrameMac::Tag tag{};
    size_t tag_bytes = 0;
    size_t size() const { return frame.size() + bulk.size(); }  // as counted in queuedBytes()
    size_t wireSize() const { return size() + tag_bytes; }
  };
  enum class ReadMode { kPlain, kProbe, kBulk };

  // session_handshake.cpp
  void beginServerHandshake(HandshakeDone done);
  void beginClientHandshake(HandshakeDone done);
  void armHandshakeTimer();
  void handleHandshake(wire::Envelope&& env);
  void finishHandshake();
  void authenticated(const SessionKeys& keys, bool dialer);  // MAC or TLS from here on
  bool handshaking() const;
  void refuseStranger(wire::ErrorCode code, const std::string& detail);  // Listener: BUSY

  // session_tls.cpp: the byte stream, plain TCP or TLS over it.
  void startTls(bool server, const std::string& psk);
  void readExactly(asio::mutable_buffer into, IoHandler handler);
  void readSomeInto(asio::mutable_buffer into, IoHandler handler);
  void writeSomeFrom(const std::array<asio::const_buffer, 3>& from, IoHandler handler);
  void whenFlushed(std::function<void()> then);

  // session.cpp: reading
  void readHeader();
  void onHeader(std::error_code ec);
  void readBody();
  void onProbe();
  void bodyDone();
  bool macVerified();
  void onFrame();
  void finishFrameMemory();
  void reserveFrame(uint32_t length);  // then readFrameBody()
  void readFrameBody();
  void settleKeptBuffers();
  void dropKeptBuffers();
  size_t keptBytes() const;
  void releaseBudget();
  void dispatch(wire::Envelope&& env);    // after handshake
  void recycleBulk(wire::Envelope& env);  // keeps tensor bytes the handler left behind
  void readFailed(std::error_code ec, const char* what);
  // session.cpp: writing
  void enqueue(std::string frame, TrafficKind kind, bool urgent, bool counted = false,
               std::string bulk = {});
  void pumpWrites();
  void writeSome();
  // session.cpp: closing
  void fail(Status status, wire::ErrorCode send_code = wire::ERROR_CODE_UNSPECIFIED);
  void protocolError(wire::ErrorCode code, const std::string& detail);
  void closeFromPeer(const wire::Error& error);
  void beginClose(Status status, bool flush, wire::ErrorCode send_code);
  void finishSocket();
  void drain();
  void forceClose();
  std::string who() const;  // "peer-name (host:port)"

  // session_liveness.cpp
  void startLiveness();
  void armHeartbeat();
  void armWatchdog();
  void onHeartbeat(const wire::Heartbeat& hb);
  void onHeartbeatAck(const wire::HeartbeatAck& ack);
  void sendUrgent(const wire::Envelope& env);
  void applyPaused(bool paused);

  asio::ip::tcp::socket socket_;
  SessionOptions options_;
  std::string token_;  // handshake only; cleared once it is done
  HandshakeTranscript transcript_;
  wire::Protection protection_ = wire::PROTECTION_MAC;
  Phase phase_;
  HandshakeDone handshake_done_;
  MessageHandler on_message_;
  CloseHandler on_close_;
  bool started_ = false;
  bool closing_ = false;
  Status close_status_;
  std::string peer_name_;
  int peer_cores_ = 0;
  uint32_t peer_version_ = 0;
  wire::PeerRole peer_role_ = wire::PEER_ROLE_UNSPECIFIED;
  std::string remote_address_;

  // Reading (io thread). The body buffer is reused and never zero-filled; a large tensor is
  // read straight into the string the delivered message will own (bulk_), so it costs one
  // copy out of the kernel, not two.
  uint8_t header_[4] = {};
  FrameMac::Tag tag_in_{};
  std::unique_ptr<FrameMac> rx_mac_, tx_mac_;  // set once authenticated (PROTECTION_MAC)
  bool tx_protect_ = false;
  std::unique_ptr<SessionTls> tls_;  // set once TLS starts; tls_io_ once it is up
  bool tls_io_ = false;
  std::function<void()> after_flush_;
  // Memory: bytes of the frame being read reserved from options_.memory_budget, bytes of kept
  // buffers reserved likewise, and a pending wait for the budget.
  size_t frame_reserved_ = 0, kept_reserved_ = 0;
  uint64_t budget_wait_ = 0, reclaimer_ = 0;
  uint32_t pending_length_ = 0;
  std::unique_ptr<char[]> body_;
  size_t body_capacity_ = 0, body_size_ = 0, body_got_ = 0;
  size_t read_limit_ = 0;  // body_got_ target of the current phase
  ReadMode read_mode_ = ReadMode::kPlain;
  std::string bulk_;
  size_t bulk_offset_ = 0;
  // Tensor bytes of a delivered message that its handler left in place, reused for the next
  // tensor frame: a fresh buffer must be zero-filled (std::string cannot grow uninitialized)
  // and that fill costs about half as much as the read itself.
  std::string spare_bulk_;
  bool reading_ = false, read_parked_ = false;
  std::optional<wire::Envelope> parked_;  // arrived while paused
  Clock::time_point last_received_{};

  // Writing (io thread). Heartbeats and Error frames go in urgent_ so that a long shaped
  // transfer is not mistaken for a lost peer; data keeps its order in data_.
  std::deque<Outgoing> data_, urgent_;
  Outgoing current_;
  bool writing_ = false;
  size_t written_ = 0;
  Clock::time_point write_progress_{};
  asio::steady_timer write_timer_;
  std::optional<Clock::time_point> write_timer_due_;
  std::atomic<size_t> queued_bytes_{0};

  // Liveness (io thread).
  asio::steady_timer handshake_timer_, heartbeat_timer_, watchdog_timer_, linger_timer_;
  uint64_t heartbeat_seq_ = 0;
  bool paused_ = false;

  std::atomic<bool> open_{true};
  mutable std::mutex mutex_;  // guards the three below
  LinkShaper shaper_;
  TrafficCounters counters_;
  std::optional<double> rtt_ms_;
};

class Listener {
 public:
  // Binds and listens; each accepted socket runs the server side of the handshake (agent name
  // = options.local_name); on success on_session runs (io thread) with a Session not yet
  // started. Failures get a typed Error frame, a close, and one log line with the peer's
  // address; the listener keeps serving others.
  static Result<std::unique_ptr<Listener>> create(
      asio::io_context& io, const HostPort& at, std::string token, SessionOptions options,
      std::function<void(std::shared_ptr<Session>)> on_session);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  uint16_t port() const { return port_; }
  void close();  // thread-safe, idempotent; sessions already accepted live on

  struct State;  // shared with pending accepts, so closing never races a handler

 private:
  Listener(std::shared_ptr<State> state, uint16_t port);
  std::shared_ptr<State> state_;
  uint16_t port_;
};

// Dial + client side of the handshake. `done` runs on the io thread.
void asyncConnect(asio::io_context& io, const HostPort& to, std::string token,
                  SessionOptions options,
                  std::function<void(Result<std::shared_ptr<Session>>)> done);
// Blocking wrapper for threads other than the io thread (returns an error if called on it).
Result<std::shared_ptr<Session>> connect(asio::io_context& io, const HostPort& to,
                                         const std::string& token, SessionOptions options);

}  // namespace edgerig::bridge
