// PeerLinks reconnecting, seen from the other end of the wire on loopback: a port where every
// connection is accepted and closed at once (a dial there fails its handshake) records when
// each dial came — the backoff schedule measured from outside — and then a real bridge Listener
// on the same port records what arrives, in what order.
#include "core/agent/peer_links.h"

#include <gtest/gtest.h>

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <vector>

#include "bridge_test_util.h"  // tests/bridge
#include "device_bridge/io_thread.h"

namespace edgerig {
namespace {

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

// A real agent-side listener on `port`: records the seq of every probe_data message received,
// in arrival order; can close the sessions it accepted (a broken link).
class Receiver {
 public:
  Receiver(asio::io_context& io, uint16_t port) {
    auto l = bridge::Listener::create(io, bridge::HostPort{"127.0.0.1", port}, kToken,
                                      testOptions("receiver"),
                                      [this](std::shared_ptr<bridge::Session> s) {
                                        {
                                          std::lock_guard lock(mu_);
                                          sessions_.push_back(s);
                                        }
                                        s->start(
                                            [this](wire::Envelope&& env) {
                                              std::lock_guard lock(mu_);
                                              seqs_.push_back(env.probe_data().seq());
                                            },
                                            [](const Status&) {});
                                      });
    EXPECT_TRUE(l.isOk()) << l.status().message();
    if (l) listener_ = std::move(l).value();
  }
  ~Receiver() {
    if (listener_) listener_->close();
    for (auto& s : sessionsCopy()) s->close();
  }
  std::vector<uint32_t> seqs() const {
    std::lock_guard lock(mu_);
    return seqs_;
  }
  std::vector<std::shared_ptr<bridge::Session>> sessionsCopy() const {
    std::lock_guard lock(mu_);
    return sessions_;
  }

 private:
  std::unique_ptr<bridge::Listener> listener_;
  mutable std::mutex mu_;
  std::vector<uint32_t> seqs_;
  std::vector<std::shared_ptr<bridge::Session>> sessions_;
};

wire::Envelope message(uint32_t seq, size_t payload = 16) {
  wire::Envelope env;
  env.mutable_probe_data()->set_seq(seq);
  env.mutable_probe_data()->mutable_payload()->assign(payload, 'x');
  return env;
}

class PeerLinksTest : public testing::Test {
 protected:
  std::unique_ptr<PeerLinks> makeLinks(ReconnectPolicy policy) {
    auto options = testOptions("sender");
    options.role = wire::PEER_ROLE_AGENT;
    auto links = std::make_unique<PeerLinks>(
        io_.context(), kToken, options,
        [](const std::shared_ptr<bridge::Session>& s) {
          s->start([](wire::Envelope&&) {}, [](const Status&) {});
        },
        policy);
    return links;
  }
  static double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  }

  bridge::IoThread io_;
};

TEST(ReconnectPolicy, DoublesFromTheFirstRetryUpToTheCap) {
  const ReconnectPolicy p;  // the documented defaults
  const std::vector<int64_t> expected{50, 100, 200, 400, 800, 1000, 1000};
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(p.retryDelay(static_cast<int>(k)).count(), expected[k]) << "retry " << k;
  }
  EXPECT_EQ(p.give_up.count(), 3500);
}

TEST_F(PeerLinksTest, DialsAgainWithBackoffAndDeliversWhatWaitedInOrder) {
  ReconnectPolicy policy;
  policy.first_retry = 50ms;
  policy.max_retry = 400ms;
  policy.give_up = 10s;
  Refuser refuser(io_.context());
  auto links = makeLinks(policy);
  links->setPeers({"127.0.0.1:" + std::to_string(refuser.port())});
  for (uint32_t k = 0; k < 5; ++k) links->send(0, message(k));
  // 0, 50, 150, 350, 750, 1150 ms: six dials, each refused.
  ASSERT_TRUE(waitFor([&] { return refuser.attempts().size() >= 6; }, 8s))
      << refuser.attempts().size() << " dial(s) seen";
  refuser.close();
  const auto attempts = refuser.attempts();
  Receiver receiver(io_.context(), refuser.port());
  for (uint32_t k = 5; k < 10; ++k) links->send(0, message(k));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() >= 10; }, 8s))
      << receiver.seqs().size() << " message(s) arrived";
  const std::vector<uint32_t> in_order{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(receiver.seqs(), in_order);
  // The gaps between dials follow the schedule: never early (a timer does not fire early), and
  // late by at most a failed handshake plus scheduling on a loaded machine.
  for (size_t k = 1; k < std::min<size_t>(attempts.size(), 6); ++k) {
    const double gap = ms(attempts[k] - attempts[k - 1]);
    const double nominal = static_cast<double>(policy.retryDelay(static_cast<int>(k - 1)).count());
    std::printf("dial %zu: %.0f ms after the one before (schedule: %.0f ms)\n", k, gap, nominal);
    EXPECT_GE(gap, nominal - 2) << "dial " << k;
    EXPECT_LE(gap, nominal + 300) << "dial " << k;
  }
}

TEST_F(PeerLinksTest, GivesUpAfterTheLossTimeoutDroppingWhatWaitedAndStartsOverOnTheNextSend) {
  ReconnectPolicy policy;
  policy.first_retry = 50ms;
  policy.max_retry = 200ms;
  policy.give_up = 600ms;
  Refuser refuser(io_.context());
  auto links = makeLinks(policy);
  links->setPeers({"127.0.0.1:" + std::to_string(refuser.port())});
  const auto t0 = Clock::now();
  links->send(0, message(0));
  std::this_thread::sleep_for(1500ms);
  const auto given_up = refuser.attempts();
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(refuser.attempts().size(), given_up.size()) << "still dialling after giving up";
  ASSERT_GE(given_up.size(), 3u);
  // The last dial came about give_up after the first failure: 0, 50, 150, 350, 550, (750).
  EXPECT_GE(ms(given_up.back() - t0), 500);
  EXPECT_LE(ms(given_up.back() - t0), 600 + 200 + 300);
  std::printf("%zu dials, the last %.0f ms after the first send\n", given_up.size(),
              ms(given_up.back() - t0));
  refuser.close();
  Receiver receiver(io_.context(), refuser.port());
  links->send(0, message(1));
  ASSERT_TRUE(waitFor([&] { return !receiver.seqs().empty(); }, 5s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.seqs(), std::vector<uint32_t>{1}) << "message 0 was given up";
}

TEST_F(PeerLinksTest, WaitingMessagesAreBoundedInBytes) {
  ReconnectPolicy policy;
  policy.first_retry = 50ms;
  policy.give_up = 10s;
  policy.max_waiting_bytes = 1000;
  Refuser refuser(io_.context());
  auto links = makeLinks(policy);
  links->setPeers({"127.0.0.1:" + std::to_string(refuser.port())});
  for (uint32_t k = 0; k < 3; ++k) links->send(0, message(k, 400));  // the third does not fit
  ASSERT_TRUE(waitFor([&] { return refuser.attempts().size() >= 2; }, 5s));
  refuser.close();
  Receiver receiver(io_.context(), refuser.port());
  links->send(0, message(3, 100));  // fits again? 800 + ~110 ≤ 1000
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() >= 3; }, 5s));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.seqs(), (std::vector<uint32_t>{0, 1, 3}));
}

TEST_F(PeerLinksTest, ALinkTheReceiverClosedIsDialledAgainOnTheNextSend) {
  Refuser refuser(io_.context());  // for a free port
  refuser.close();
  Receiver receiver(io_.context(), refuser.port());
  auto links = makeLinks({});
  links->setPeers({"127.0.0.1:" + std::to_string(refuser.port())});
  links->send(0, message(0));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 1; }));
  for (auto& s : receiver.sessionsCopy()) s->close();
  ASSERT_TRUE(waitFor([&] { return links->sessions().empty(); }));
  links->send(0, message(1));
  links->send(0, message(2));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 3; }));
  EXPECT_EQ(receiver.seqs(), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(receiver.sessionsCopy().size(), 2u);
}

}  // namespace
}  // namespace edgerig
