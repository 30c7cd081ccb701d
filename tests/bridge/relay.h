// An on-path host for tests: a TCP relay between a dialer and an agent on loopback that
// records every byte both ways and can flip one byte of the dialer's stream on request.
#pragma once

#include <sys/socket.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace edgerig::bridge::testing {

class Relay {
 public:
  explicit Relay(uint16_t agent_port)
      : agent_port_(agent_port),
        acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Relay() {
    // shutdown() wakes the blocked accept and reads on Linux; the sockets close afterwards.
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    std::error_code ec;
    for (auto* s : {&down_, &up_}) s->shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    if (thread_.joinable()) thread_.join();
    if (back_.joinable()) back_.join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  // The byte the dialer sends `skip` bytes after this call arrives at the agent inverted.
  void flipByteAfter(size_t skip) {
    flip_skip_ = skip;
    flip_ = true;
  }
  bool flipped() const { return flipped_; }
  std::string dialerBytes() {
    std::lock_guard lock(mu_);
    return from_dialer_;
  }
  std::string agentBytes() {
    std::lock_guard lock(mu_);
    return from_agent_;
  }

 private:
  void run() {
    std::error_code ec;
    acceptor_.accept(down_, ec);
    if (ec) return;
    up_.connect({asio::ip::make_address("127.0.0.1"), agent_port_}, ec);
    if (ec) return;
    back_ = std::thread([this] { copy(up_, down_, from_agent_, false); });
    copy(down_, up_, from_dialer_, true);
  }

  void copy(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to, std::string& record,
            bool may_flip) {
    char buf[65536];
    for (;;) {
      std::error_code ec;
      const size_t n = from.read_some(asio::buffer(buf), ec);
      if (ec || n == 0) break;
      if (may_flip && flip_) {
        if (flip_skip_ < n) {
          buf[flip_skip_] = static_cast<char>(~buf[flip_skip_]);
          flip_ = false;
          flipped_ = true;
        } else {
          flip_skip_ -= n;
        }
      }
      {
        std::lock_guard lock(mu_);
        record.append(buf, n);
      }
      asio::write(to, asio::buffer(buf, n), ec);
      if (ec) break;
    }
    std::error_code ignored;
    to.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }

  uint16_t agent_port_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket down_{io_}, up_{io_};
  std::thread thread_, back_;
  std::mutex mu_;
  std::string from_dialer_, from_agent_;
  std::atomic<bool> flip_{false}, flipped_{false};
  std::atomic<size_t> flip_skip_{0};
};

}  // namespace edgerig::bridge::testing
