// The far ends tst_peer_links dials, on loopback: a Refuser (accepts every connection and closes
// it at once, noting when: the backoff schedule seen from outside), a Receiver (a real agent-side
// listener with InboundLinks, recording what arrives and what is delivered, in order) and a
// Cutter (a relay that can swallow bytes in flight and reset the connections it carries).
#pragma once

#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <vector>

#include "bridge_test_util.h"  // tests/bridge
#include "core/agent/inbound_links.h"
#include "device_bridge/io_thread.h"
#include "device_bridge/traffic_kind.h"

namespace edgerig::peer_link_fakes {

using namespace std::chrono_literals;
using bridge::testing::kToken;
using bridge::testing::testOptions;
using bridge::testing::waitFor;
using Clock = std::chrono::steady_clock;

// Accepts every connection on a loopback port and closes it at once, noting when.
class Refuser {
 public:
  explicit Refuser(asio::io_context& io) : acceptor_(io) {
    const asio::ip::tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
  }
  uint16_t port() const { return port_; }
  std::vector<Clock::time_point> attempts() const {
    std::lock_guard lock(mu_);
    return attempts_;
  }
  // Stops listening (on the io thread), so the port is free for a real listener.
  void close() {
    std::promise<void> done;
    asio::post(acceptor_.get_executor(), [&] {
      acceptor_.close();
      done.set_value();
    });
    done.get_future().wait();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      {
        std::lock_guard lock(mu_);
        attempts_.push_back(Clock::now());
      }
      socket.close();
      accept();
    });
  }
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::vector<Clock::time_point> attempts_;
};

// A real agent-side listener on `port` with the agent's receiving end of data links
// (InboundLinks): records what every frame carried (the AlgoMessage's generation, used as a tag)
// as it arrived, and what was delivered, in order; can close the sessions it accepted.
class Receiver {
 public:
  Receiver(asio::io_context& io, uint16_t port, AckPolicy acks = {})
      : shared_(std::make_shared<Shared>(io, acks)) {
    auto l = bridge::Listener::create(
        io, bridge::HostPort{"127.0.0.1", port}, kToken, testOptions("receiver"),
        [shared = shared_](std::shared_ptr<bridge::Session> s) {
          {
            std::lock_guard lock(shared->mu);
            shared->sessions.push_back(s);
          }
          std::weak_ptr<bridge::Session> weak = s;
          s->start(
              [shared, weak](wire::Envelope&& env) {
                auto session = weak.lock();
                if (!session) return;
                {
                  std::lock_guard lock(shared->mu);
                  shared->arrived.push_back(env.algo().generation());
                }
                auto admitted = shared->inbox.admit(session, env);
                std::lock_guard lock(shared->mu);
                if (!admitted) {
                  shared->errors.push_back(admitted.status().message());
                  session->close();
                } else if (*admitted) {
                  shared->delivered.push_back(env.algo().generation());
                }
              },
              [shared, weak](const Status&) {
                if (auto session = weak.lock()) shared->inbox.closed(session.get());
                std::lock_guard lock(shared->mu);
                ++shared->closed;
              });
        });
    EXPECT_TRUE(l.isOk()) << l.status().message();
    if (l) listener_ = std::move(l).value();
  }
  ~Receiver() {
    if (listener_) listener_->close();
    for (auto& s : sessionsCopy()) s->close();
    // Each session's handlers hold `shared_`: if the io_context ends before a close runs (and
    // clears them), the sessions kept here would hold each other up (LeakSanitizer found it).
    std::lock_guard lock(shared_->mu);
    shared_->sessions.clear();
  }
  uint16_t port() const { return listener_ ? listener_->port() : 0; }
  std::vector<uint32_t> seqs() const {  // delivered, in order
    std::lock_guard lock(shared_->mu);
    return shared_->delivered;
  }
  std::vector<uint32_t> arrived() const {  // every frame, duplicates too
    std::lock_guard lock(shared_->mu);
    return shared_->arrived;
  }
  std::vector<std::string> errors() const {
    std::lock_guard lock(shared_->mu);
    return shared_->errors;
  }
  int closed() const {
    std::lock_guard lock(shared_->mu);
    return shared_->closed;
  }
  std::vector<std::shared_ptr<bridge::Session>> sessionsCopy() const {
    std::lock_guard lock(shared_->mu);
    return shared_->sessions;
  }

 private:
  struct Shared {
    Shared(asio::io_context& io, AckPolicy acks) : inbox(io, acks) {}
    InboundLinks inbox;
    std::mutex mu;
    std::vector<uint32_t> arrived, delivered;
    std::vector<std::string> errors;
    int closed = 0;
    std::vector<std::shared_ptr<bridge::Session>> sessions;
  };
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<bridge::Listener> listener_;
};

// A TCP relay on loopback between a sender and `to_port`, standing for the network: it can
// swallow what the sender writes on the connections it carries now (bytes the sender's kernel
// handed on, lost on the way), and cut them all with a reset, both ends (SO_LINGER 0).
// Connections made after a cut are relayed faithfully.
class Cutter {
 public:
  Cutter(asio::io_context& io, uint16_t to_port) : io_(io), acceptor_(io), to_port_(to_port) {
    const asio::ip::tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
  }
  ~Cutter() {
    onIo([this] {
      acceptor_.close();
      for (auto& p : pipes_) p->close(false);
      pipes_.clear();
    });
  }
  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }
  void swallow() {
    onIo([this] {
      for (auto& p : pipes_) p->swallow = true;
    });
  }
  void cut() {
    onIo([this] {
      for (auto& p : pipes_) p->close(/*reset=*/true);
      pipes_.clear();
    });
  }

 private:
  struct Pipe : std::enable_shared_from_this<Pipe> {
    explicit Pipe(asio::io_context& io) : from(io), to(io) {}
    void pump(asio::ip::tcp::socket& in, asio::ip::tcp::socket& out, std::vector<char>& buf,
              bool forward) {
      in.async_read_some(asio::buffer(buf), [self = shared_from_this(), &in, &out, &buf, forward](
                                                std::error_code ec, size_t n) {
        if (ec) return self->close(false);
        if (forward && self->swallow) return self->pump(in, out, buf, forward);
        asio::async_write(out, asio::buffer(buf.data(), n),
                          [self, &in, &out, &buf, forward](std::error_code ec, size_t) {
                            if (ec) return self->close(false);
                            self->pump(in, out, buf, forward);
                          });
      });
    }
    void close(bool reset) {
      std::error_code ec;
      for (auto* s : {&from, &to}) {
        if (reset) s->set_option(asio::socket_base::linger(true, 0), ec);
        s->close(ec);
      }
    }
    asio::ip::tcp::socket from, to;
    std::vector<char> up = std::vector<char>(64 << 10), down = std::vector<char>(64 << 10);
    bool swallow = false;
  };
  void accept() {
    acceptor_.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      auto p = std::make_shared<Pipe>(io_);
      p->from = std::move(socket);
      p->to.connect({asio::ip::make_address("127.0.0.1"), to_port_}, ec);
      if (!ec) {
        ++connections_;
        pipes_.push_back(p);
        p->pump(p->from, p->to, p->up, /*forward=*/true);
        p->pump(p->to, p->from, p->down, /*forward=*/false);
      }
      accept();
    });
  }
  void onIo(std::function<void()> f) {
    std::promise<void> done;
    asio::post(io_, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t to_port_ = 0, port_ = 0;
  std::atomic<int> connections_{0};
  std::vector<std::shared_ptr<Pipe>> pipes_;  // io thread
};

}  // namespace edgerig::peer_link_fakes
