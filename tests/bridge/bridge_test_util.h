// Test helpers for the bridge: a raw TCP client that can speak (or break) the protocol by hand,
// a listener fixture that records what its sessions saw, and waiting with a deadline.
#pragma once

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "device_bridge/auth.h"
#include "device_bridge/frame.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/session.h"
#include "device_bridge/session_crypto.h"
#include "device_bridge/status.h"

namespace edgerig::bridge::testing {

using namespace std::chrono_literals;

inline const std::string kToken = "0123456789abcdef0123456789abcdef";

// Polls `pred` until it holds or `timeout` passes.
inline bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 3s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

// Fast options for tests: short timeouts, quiet heartbeats unless a test wants them.
inline SessionOptions testOptions(const std::string& name) {
  SessionOptions o;
  o.local_name = name;
  o.connect_timeout = 2s;
  o.handshake_timeout = 2s;
  o.heartbeat_interval = 1000ms;
  o.loss_timeout = 0ms;
  return o;
}

// A blocking client on its own io_context; every operation has a deadline.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : socket_(io_) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
    socket_.connect(ep, connect_ec_);
  }
  bool connected() const { return !connect_ec_; }

  bool write(const std::string& bytes) {
    std::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
    return !ec;
  }
  // A whole frame (header and body) as it goes on the wire: with its MAC once the handshake
  // chose MACs (advances the MAC's sequence; write the result exactly once, in order).
  std::string protect(const std::string& frame) {
    if (!tx_) return frame;
    const FrameMac::Tag tag = tx_->next({frame});
    return frame + std::string(tag.data(), tag.size());
  }
  bool writeFrame(const std::string& frame) { return write(protect(frame)); }
  bool send(const wire::Envelope& env) { return writeFrame(encodeFrame(env)); }

  // Reads one frame (and checks its MAC once there are MACs). Errors: kTimeout, kUnavailable
  // (closed), kUnauthenticated (bad MAC), or the decode error.
  Result<wire::Envelope> readFrame(std::chrono::milliseconds timeout = 2s) {
    auto header = readExact(4, timeout);
    if (!header) return header.status();
    const uint32_t len = decodeLength(reinterpret_cast<const uint8_t*>(header->data()));
    auto body = readExact(len, timeout);
    if (!body) return body.status();
    if (rx_) {
      auto tag = readExact(kFrameMacBytes, timeout);
      if (!tag) return tag.status();
      const FrameMac::Tag expected = rx_->next({*header, *body});
      if (std::string(expected.data(), expected.size()) != *tag) {
        return Status(StatusCode::kUnauthenticated, "bad MAC from the agent");
      }
    }
    return decodeBody(*body);
  }

  // True once the server has closed the connection (EOF or reset) within the timeout.
  bool waitClosed(std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = readExact(1, std::chrono::duration_cast<std::chrono::milliseconds>(
                                deadline - std::chrono::steady_clock::now()));
      if (!r && r.status().code() == StatusCode::kUnavailable) return true;
      if (!r) return false;
    }
    return false;
  }

  // Runs the dialer's side of the handshake by hand, as the protocol says (an independent
  // implementation of it); returns the Welcome, or the agent's Error, or what went wrong. After
  // a Welcome, send() and readFrame() use the session's MACs.
  Result<wire::Envelope> handshake(const std::string& token, const std::string& name = "raw",
                                   wire::Protection protection = wire::PROTECTION_MAC) {
    transcript_ = {};
    transcript_.dialer_nonce = randomBytes(kNonceBytes);
    transcript_.dialer_role = wire::PEER_ROLE_TOOL;
    transcript_.dialer_name = name;
    transcript_.dialer_protection = protection;
    wire::Envelope hello;
    hello.mutable_hello()->set_name(name);
    hello.mutable_hello()->set_role(wire::PEER_ROLE_TOOL);
    hello.mutable_hello()->set_nonce(transcript_.dialer_nonce);
    hello.mutable_hello()->set_protection(protection);
    if (!send(hello)) return unavailable("write hello");
    auto challenge = readFrame();
    if (!challenge) return challenge.status();
    if (!challenge->has_challenge()) return *challenge;  // an Error, most likely
    transcript_.agent_nonce = challenge->challenge().nonce();
    transcript_.agent_name = challenge->challenge().agent_name();
    transcript_.agent_protection = challenge->challenge().protection();
    agent_proof_ok_ = challenge->challenge().proof() == agentProof(token, transcript_);
    wire::Envelope auth;
    auth.mutable_auth()->set_proof(dialerProof(token, transcript_));
    if (!send(auth)) return unavailable("write auth");
    auto welcome = readFrame();
    if (welcome && welcome->has_welcome() &&
        negotiate(protection, transcript_.agent_protection) == wire::PROTECTION_MAC) {
      const SessionKeys keys = deriveSessionKeys(token, transcript_);
      tx_ = std::make_unique<FrameMac>(keys.dialer_to_agent);
      rx_ = std::make_unique<FrameMac>(keys.agent_to_dialer);
    }
    return welcome;
  }
  bool agentProofOk() const { return agent_proof_ok_; }
  const HandshakeTranscript& transcript() const { return transcript_; }

  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  Result<std::string> readExact(size_t n, std::chrono::milliseconds timeout) {
    std::string buf(n, '\0');
    bool done = false;
    std::error_code result;
    asio::async_read(socket_, asio::buffer(buf), [&](std::error_code ec, size_t) {
      result = ec;
      done = true;
    });
    io_.restart();
    io_.run_for(timeout);
    if (!done) {
      socket_.cancel();
      io_.restart();
      io_.run();
      if (!result || result == asio::error::operation_aborted) {
        return Status(StatusCode::kTimeout, "read timed out");
      }
    }
    if (result) return unavailable("closed: " + result.message());
    return buf;
  }

  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::error_code connect_ec_;
  HandshakeTranscript transcript_;
  bool agent_proof_ok_ = false;
  std::unique_ptr<FrameMac> tx_, rx_;
};

// A listener on 127.0.0.1:0 whose sessions are started at once and record what they see.
class ListenerFixture {
 public:
  explicit ListenerFixture(SessionOptions options = testOptions("agent"),
                           std::string token = kToken) {
    auto created = Listener::create(io_.context(), {"127.0.0.1", 0}, std::move(token),
                                    std::move(options), [this](std::shared_ptr<Session> s) {
                                      std::lock_guard lock(mutex_);
                                      const size_t index = sessions_.size();
                                      sessions_.push_back(s);
                                      closes_.emplace_back();
                                      messages_.emplace_back();
                                      s->start(
                                          [this, index](wire::Envelope&& env) {
                                            std::lock_guard lock(mutex_);
                                            messages_[index].push_back(std::move(env));
                                          },
                                          [this, index](const Status& st) {
                                            std::lock_guard lock(mutex_);
                                            closes_[index] = st;
                                          });
                                    });
    if (created) listener_ = std::move(created).value();
    create_status_ = created.status();
  }
  ~ListenerFixture() {
    if (listener_) listener_->close();
    std::vector<std::shared_ptr<Session>> sessions;
    {
      std::lock_guard lock(mutex_);
      sessions = sessions_;
    }
    for (auto& s : sessions) s->close();
    io_.stop();
  }

  const Status& createStatus() const { return create_status_; }
  uint16_t port() const { return listener_ ? listener_->port() : 0; }
  asio::io_context& io() { return io_.context(); }
  HostPort address() const { return {"127.0.0.1", port()}; }

  size_t sessionCount() {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }
  std::shared_ptr<Session> session(size_t i) {
    std::lock_guard lock(mutex_);
    return i < sessions_.size() ? sessions_[i] : nullptr;
  }
  std::optional<Status> closeStatus(size_t i) {
    std::lock_guard lock(mutex_);
    return i < closes_.size() ? closes_[i] : std::nullopt;
  }
  std::vector<wire::Envelope> messages(size_t i) {
    std::lock_guard lock(mutex_);
    return i < messages_.size() ? messages_[i] : std::vector<wire::Envelope>{};
  }

  // A well-behaved client must still get in: the listener survived whatever came before.
  Result<std::shared_ptr<Session>> connectGood(SessionOptions options = testOptions("good")) {
    return connect(io_.context(), address(), kToken, std::move(options));
  }

 private:
  IoThread io_;
  std::unique_ptr<Listener> listener_;
  Status create_status_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::vector<std::optional<Status>> closes_;
  std::vector<std::vector<wire::Envelope>> messages_;
};

}  // namespace edgerig::bridge::testing
