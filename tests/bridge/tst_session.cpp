// Sessions over real loopback sockets: messages both ways, a 16 MiB tensor, recycled tensor
// buffers, heartbeats and RTT, loss of a paused peer, per-kind traffic counters, shaped delivery,
// closing.
#include <gtest/gtest.h>

#include <asio/post.hpp>

#include <future>

#include "bridge_test_util.h"

namespace edgerig::bridge {
namespace {

using namespace testing;
using Clock = std::chrono::steady_clock;

// A started client session whose messages and close reason are recorded.
struct Client {
  std::shared_ptr<Session> session;
  std::mutex mutex;
  std::vector<wire::Envelope> messages;
  std::vector<Clock::time_point> arrivals;
  std::optional<Status> closed;

  bool open(ListenerFixture& agent, SessionOptions options = testOptions("controller")) {
    auto r = connect(agent.io(), agent.address(), kToken, std::move(options));
    if (!r) {
      ADD_FAILURE() << r.status().message();
      return false;
    }
    session = std::move(r).value();
    session->start(
        [this](wire::Envelope&& env) {
          std::lock_guard lock(mutex);
          messages.push_back(std::move(env));
          arrivals.push_back(Clock::now());
        },
        [this](const Status& st) {
          std::lock_guard lock(mutex);
          closed = st;
        });
    return true;
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
  std::optional<Status> closeStatus() {
    std::lock_guard lock(mutex);
    return closed;
  }
  ~Client() {
    if (session) session->close();
  }
};

// A small control message that carries a number (the bridge does not care what it means).
wire::Envelope step(int64_t iteration) {
  wire::Envelope env;
  env.mutable_metrics()->set_iteration(iteration);
  return env;
}

// An algorithm message of `kind` carrying `bytes` of tensor data.
wire::Envelope tensorMessage(TrafficKind kind, size_t bytes) {
  wire::Envelope env;
  auto* m = env.mutable_algo();
  m->set_kind(static_cast<uint32_t>(kind));
  auto* t = m->add_tensors();
  t->add_shape(static_cast<int64_t>(bytes / 4));
  t->set_dtype(wire::DTYPE_FLOAT32);
  std::string data(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) data[i] = static_cast<char>((i * 131 + 7) & 0xff);
  m->set_data(std::move(data));
  return env;
}

TEST(Session, MessagesFlowBothWaysInOrder) {
  ListenerFixture agent;
  Client controller;
  ASSERT_TRUE(controller.open(agent));
  EXPECT_EQ(controller.session->peerName(), "agent");
  EXPECT_EQ(controller.session->peerRole(), wire::PEER_ROLE_AGENT);
  EXPECT_TRUE(controller.session->isOpen());
  for (int i = 0; i < 50; ++i) controller.session->send(step(i));
  ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == 50; }));
  const auto got = agent.messages(0);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(got[i].metrics().iteration(), i);
  auto server = agent.session(0);
  EXPECT_EQ(server->peerName(), "controller");
  EXPECT_EQ(server->peerRole(), wire::PEER_ROLE_CONTROLLER);
  EXPECT_NE(server->remoteAddress().find("127.0.0.1:"), std::string::npos);
  server->send(step(99));
  ASSERT_TRUE(waitFor([&] { return controller.count() == 1; }));
  EXPECT_EQ(controller.messages[0].metrics().iteration(), 99);
}

TEST(Session, SixteenMiBTensorArrivesIntact) {
  ListenerFixture agent;
  Client controller;
  ASSERT_TRUE(controller.open(agent));
  wire::Envelope payload = tensorMessage(TrafficKind::kWeights, 16u << 20);
  const std::string expected = payload.algo().data();
  controller.session->send(std::move(payload));
  ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == 1; }, std::chrono::seconds(10)));
  EXPECT_EQ(agent.messages(0)[0].algo().data(), expected);
  EXPECT_TRUE(waitFor([&] { return controller.session->queuedBytes() == 0; }));
}

TEST(Session, LargeFramesOfEveryShapeArriveIntact) {
  // Activations with labels (two tensors in one bulk) take the zero-copy path; a large
  // StateReply is probed, found not to be a tensor frame, and parsed whole.
  ListenerFixture agent;
  Client controller;
  ASSERT_TRUE(controller.open(agent));
  wire::Envelope act = tensorMessage(TrafficKind::kActivation, 1u << 20);
  act.mutable_algo()->set_generation(3);
  act.mutable_algo()->add_tensors()->add_shape(512);
  act.mutable_algo()->mutable_data()->append(std::string(4096, 'l'));
  wire::Envelope state;
  auto* named = state.mutable_state_reply()->mutable_state()->add_tensors();
  named->set_name("fc1.weight");
  named->mutable_tensor()->set_data(std::string(700000, 'w'));
  wire::Envelope grad = tensorMessage(TrafficKind::kGradient, 200000);
  std::vector<wire::Envelope> sent = {act, state, grad, act};
  for (const auto& env : sent) controller.session->send(env);
  ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == sent.size(); }));
  const auto got = agent.messages(0);
  for (size_t i = 0; i < sent.size(); ++i) {
    wire::Envelope expected = sent[i];
    expected.set_protocol_version(kProtocolVersion);
    EXPECT_EQ(got[i].SerializeAsString(), expected.SerializeAsString()) << i;
  }
}

TEST(Session, RecycledTensorBuffersNeverLeakOldBytes) {
  // This handler reads the tensor in place and leaves the message to the session, which reuses
  // the buffer for the next tensor frame: each must arrive with exactly its own bytes, whether
  // it is smaller than the reused buffer, the same size, or larger.
  std::mutex mutex;
  std::vector<std::string> got;  // copies: the handler must not move the message
  ListenerFixture agent;
  auto r = connect(agent.io(), agent.address(), kToken, testOptions("controller"));
  ASSERT_TRUE(r) << r.status().message();
  std::shared_ptr<Session> session = std::move(r).value();
  session->start(
      [&](wire::Envelope&& env) {
        std::lock_guard lock(mutex);
        got.push_back(env.algo().data());
      },
      [](const Status&) {});
  ASSERT_TRUE(waitFor([&] { return agent.sessionCount() == 1; }));
  const std::vector<size_t> sizes = {1u << 20, 300000, 1u << 20, 2u << 20, 1500000, 100000};
  std::vector<std::string> sent;
  for (size_t m = 0; m < sizes.size(); ++m) {
    std::string data(sizes[m], '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7 + m * 31) & 0xff);
    wire::Envelope env;
    auto* t = env.mutable_algo()->add_tensors();
    t->add_shape(static_cast<int64_t>(data.size()));
    env.mutable_algo()->set_data(data);
    sent.push_back(std::move(data));
    agent.session(0)->send(std::move(env));
  }
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(mutex);
    return got.size() == sent.size();
  }));
  for (size_t m = 0; m < sent.size(); ++m) {
    EXPECT_EQ(got[m].size(), sent[m].size()) << m;
    EXPECT_TRUE(got[m] == sent[m]) << "tensor " << m << " differs";
  }
  session->close();
}

TEST(Session, HeartbeatsMeasureRttAndStayOutOfTheHandler) {
  SessionOptions fast = testOptions("agent");
  fast.heartbeat_interval = std::chrono::milliseconds(50);
  // Long enough that a loaded 2-core machine (ctest -j4 beside other builds) does not starve a
  // heartbeat that long: this test is about RTT and quiet handlers, not about detection.
  fast.loss_timeout = std::chrono::milliseconds(1000);
  ListenerFixture agent(fast);
  Client controller;
  SessionOptions mine = fast;
  mine.local_name = "controller";
  ASSERT_TRUE(controller.open(agent, mine));
  ASSERT_TRUE(waitFor([&] { return controller.session->rttMs().has_value(); }));
  const double rtt = *controller.session->rttMs();
  EXPECT_GT(rtt, 0.0);
  // In milliseconds, and bounded by the loss timeout: a reply slower than that is a loss.
  EXPECT_LT(rtt, 1000.0);
  // Both sides alive: no loss over twice the loss timeout, and no heartbeat reached a handler.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_FALSE(controller.closeStatus().has_value());
  EXPECT_TRUE(controller.session->isOpen());
  EXPECT_EQ(controller.count(), 0u);
  EXPECT_TRUE(agent.messages(0).empty());
  const auto c = controller.session->counters();
  EXPECT_GT(c.sent[static_cast<size_t>(TrafficKind::kHeartbeat)], 0u);
  EXPECT_GT(c.received[static_cast<size_t>(TrafficKind::kHeartbeat)], 0u);
}

TEST(Session, PausedPeerIsDetectedAsLost) {
  SessionOptions fast = testOptions("agent");
  fast.heartbeat_interval = std::chrono::milliseconds(50);
  fast.loss_timeout = std::chrono::milliseconds(300);
  ListenerFixture agent(fast);
  Client controller;
  SessionOptions mine = fast;
  mine.local_name = "controller";
  ASSERT_TRUE(controller.open(agent, mine));
  ASSERT_TRUE(waitFor([&] { return agent.sessionCount() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  agent.session(0)->setPaused(true);
  const auto t0 = Clock::now();
  ASSERT_TRUE(waitFor([&] { return controller.closeStatus().has_value(); }));
  const auto waited = Clock::now() - t0;
  const Status st = *controller.closeStatus();
  EXPECT_EQ(st.code(), StatusCode::kTimeout);
  EXPECT_NE(st.message().find("no heartbeat from agent (127.0.0.1:"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("for 0.3 s"), std::string::npos) << st.message();
  EXPECT_GE(waited, std::chrono::milliseconds(200));
  // The timeout (0.3 s) plus a check interval, with over a second to spare for a loaded machine;
  // a detector that waited for anything else (a TCP timeout, the next send) takes far longer.
  EXPECT_LT(waited, std::chrono::milliseconds(1500));
  // The frozen side suspended its own check: it has not declared anyone lost.
  EXPECT_FALSE(agent.closeStatus(0).has_value());
}

TEST(Session, PausedSessionHoldsMessagesUntilResumed) {
  ListenerFixture agent;
  Client controller;
  ASSERT_TRUE(controller.open(agent));
  ASSERT_TRUE(waitFor([&] { return agent.sessionCount() == 1; }));
  auto server = agent.session(0);
  server->setPaused(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 5; ++i) controller.session->send(step(i));
  server->send(step(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(agent.messages(0).empty());
  EXPECT_EQ(controller.count(), 0u);
  server->setPaused(false);
  ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == 5 && controller.count() == 1; }));
  EXPECT_EQ(agent.messages(0)[4].metrics().iteration(), 4);
}

TEST(Session, CountersPerKindMatchTheBytesSent) {
  SessionOptions quiet = testOptions("agent");
  quiet.send_heartbeats = false;
  ListenerFixture agent(quiet);
  Client controller;
  SessionOptions mine = quiet;
  mine.local_name = "controller";
  ASSERT_TRUE(controller.open(agent, mine));
  ASSERT_TRUE(waitFor([&] { return agent.sessionCount() == 1; }));
  const TrafficCounters before = controller.session->counters();
  const TrafficCounters server_before = agent.session(0)->counters();
  // The handshake is control traffic on both sides.
  EXPECT_GT(before.sent[static_cast<size_t>(TrafficKind::kControl)], 0u);
  EXPECT_EQ(before.sent[0], server_before.received[0]);

  std::vector<wire::Envelope> sent = {tensorMessage(TrafficKind::kActivation, 4000),
                                      tensorMessage(TrafficKind::kGradient, 3000),
                                      tensorMessage(TrafficKind::kWeights, 100000),
                                      tensorMessage(TrafficKind::kGossip, 70000),
                                      tensorMessage(TrafficKind::kReplica, 5000),
                                      step(1),
                                      step(2)};
  wire::Envelope probe;  // a link probe's burst chunk
  probe.mutable_probe_data()->mutable_payload()->assign(2000, 'p');
  sent.push_back(probe);
  TrafficCounters expected;
  for (const auto& env : sent) {
    // What crosses the link: the frame and its MAC.
    expected.sent[static_cast<size_t>(kindOf(env))] += encodeFrame(env).size() + kFrameMacBytes;
    controller.session->send(env);
  }
  ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == sent.size(); }));
  ASSERT_TRUE(waitFor([&] { return controller.session->queuedBytes() == 0; }));
  const TrafficCounters after = controller.session->counters();
  const TrafficCounters server_after = agent.session(0)->counters();
  for (size_t k = 0; k < kTrafficKindCount; ++k) {
    EXPECT_EQ(after.sent[k] - before.sent[k], expected.sent[k]) << trafficKindName(TrafficKind(k));
    EXPECT_EQ(server_after.received[k] - server_before.received[k], expected.sent[k])
        << trafficKindName(TrafficKind(k));
    if (k != static_cast<size_t>(TrafficKind::kHeartbeat) &&
        k != static_cast<size_t>(TrafficKind::kControl)) {
      EXPECT_GT(expected.sent[k], 0u) << "every data kind is exercised";
    }
  }
  EXPECT_EQ(after.sent[static_cast<size_t>(TrafficKind::kHeartbeat)], 0u);
}

TEST(Session, ShapedLinkDeliversNoFasterThanTheShape) {
  ListenerFixture agent;
  Client controller;
  ASSERT_TRUE(controller.open(agent));
  const LinkShape shape{.delay_ms = 20, .bandwidth_mbps = 8};
  controller.session->setShape(shape);
  EXPECT_EQ(controller.session->shape().bandwidth_mbps, 8);
  constexpr int kFrames = 5;
  wire::Envelope act = tensorMessage(TrafficKind::kActivation, 50000);
  const size_t frame_bytes = encodeFrame(act).size();
  LinkShaper reference;
  reference.setShape(shape);
  const auto t0 = Clock::now();
  Clock::time_point last{};
  for (int i = 0; i < kFrames; ++i) last = reference.schedule(frame_bytes, t0);
  const auto expected = last - t0;  // 5 x 50 ms serialization + 20 ms delay
  for (int i = 0; i < kFrames; ++i) controller.session->send(act);
  ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == kFrames; }));
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, expected);
  // The shape, not the machine, sets the pace: 500 ms over 270 is slack for a loaded machine,
  // and still fails a shaper that waited twice as long as it should.
  EXPECT_LT(took, expected + std::chrono::milliseconds(500));
  EXPECT_GE(expected, std::chrono::milliseconds(270));
}

TEST(Session, LocalCloseAndPeerClose) {
  ListenerFixture agent;
  Client controller;
  ASSERT_TRUE(controller.open(agent));
  ASSERT_TRUE(waitFor([&] { return agent.sessionCount() == 1; }));
  controller.session->send(step(5));  // queued before close: still delivered
  controller.session->close();
  controller.session->close();  // idempotent
  ASSERT_TRUE(waitFor([&] { return controller.closeStatus().has_value(); }));
  EXPECT_EQ(controller.closeStatus()->code(), StatusCode::kAborted);
  EXPECT_EQ(controller.closeStatus()->message(), "closed locally");
  EXPECT_FALSE(controller.session->isOpen());
  ASSERT_TRUE(waitFor([&] { return agent.closeStatus(0).has_value(); }));
  EXPECT_EQ(agent.closeStatus(0)->code(), StatusCode::kUnavailable);
  EXPECT_NE(agent.closeStatus(0)->message().find("closed the connection"), std::string::npos);
  ASSERT_EQ(agent.messages(0).size(), 1u);
  controller.session->send(step(6));  // after close: dropped, no crash
}

TEST(Session, DialingNothingFailsFast) {
  IoThread io;
  // A port nobody listens on: bind one, learn its number, close it.
  uint16_t port = 0;
  {
    asio::ip::tcp::acceptor a(io.context(), {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto r = connect(io.context(), {"127.0.0.1", port}, kToken, testOptions("c"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  // And blocking connect refuses to run on the io thread it would need.
  std::promise<Status> on_io;
  asio::post(io.context(), [&] {
    on_io.set_value(connect(io.context(), {"127.0.0.1", port}, kToken, testOptions("c")).status());
  });
  EXPECT_EQ(on_io.get_future().get().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace edgerig::bridge
