// Every limit of BridgeLimits and SessionOptions at its edge: exactly at the limit is served,
// one byte over is refused with a typed error (or, for the memory budget, waits).
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "bridge_test_util.h"
#include "device_bridge/log.h"
#include "device_bridge/traffic_kind.h"

namespace edgerig::bridge {
namespace {

using namespace testing;

// A frame whose body (the serialized Envelope, version stamp included) is exactly `body_bytes`,
// made by growing one string field of `make(n)`.
std::string frameWithBody(const std::function<wire::Envelope(size_t)>& make, size_t body_bytes) {
  for (size_t n = body_bytes > 64 ? body_bytes - 64 : 0; n <= body_bytes; ++n) {
    std::string frame = encodeFrame(make(n));
    if (frame.size() - kFrameHeaderBytes == body_bytes) return frame;
  }
  ADD_FAILURE() << "no frame with a body of exactly " << body_bytes << " bytes";
  return {};
}

wire::Envelope helloOf(size_t name_bytes) {
  wire::Envelope env;
  env.mutable_hello()->set_name(std::string(name_bytes, 'n'));
  env.mutable_hello()->set_role(wire::PEER_ROLE_TOOL);
  env.mutable_hello()->set_nonce(randomBytes(kNonceBytes));
  return env;
}

wire::Envelope payloadOf(size_t data_bytes) {
  wire::Envelope env;
  env.mutable_algo()->set_kind(static_cast<uint32_t>(TrafficKind::kWeights));
  env.mutable_algo()->set_data(std::string(data_bytes, 'p'));
  return env;
}

SessionOptions agentOptions() {
  SessionOptions o = testOptions("agent");
  o.send_heartbeats = false;
  return o;
}

// The first reply to a frame of `body_bytes` sent after a good handshake.
void expectServedAfterAuth(ListenerFixture& agent, size_t body_bytes, size_t session) {
  RawClient client(agent.port());
  ASSERT_TRUE(client.handshake(kToken, "c" + std::to_string(session)));
  ASSERT_TRUE(client.writeFrame(frameWithBody(payloadOf, body_bytes)));
  ASSERT_TRUE(waitFor([&] { return agent.messages(session).size() == 1; }, 5s)) << body_bytes;
  EXPECT_FALSE(agent.closeStatus(session).has_value());
}

void expectRefusedAfterAuth(ListenerFixture& agent, size_t body_bytes, size_t session,
                            const std::string& why) {
  RawClient client(agent.port());
  ASSERT_TRUE(client.handshake(kToken, "c" + std::to_string(session)));
  // Only the header: the refusal must not wait for (or store) the body.
  const std::string frame = frameWithBody(payloadOf, body_bytes);
  ASSERT_TRUE(client.write(frame.substr(0, kFrameHeaderBytes)));
  auto reply = client.readFrame();
  ASSERT_TRUE(reply && reply->has_error()) << reply.status().message();
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_FRAME_TOO_LARGE);
  EXPECT_NE(reply->error().detail().find(why), std::string::npos) << reply->error().detail();
  EXPECT_TRUE(client.waitClosed());
  EXPECT_TRUE(agent.messages(session).empty());
}

TEST(Limits, PreauthFrameAtTheLimitIsReadAndOneByteOverIsRefused) {
  SessionOptions o = agentOptions();
  o.limits.preauth_max_frame_bytes = 1000;
  ListenerFixture agent(o);
  {
    RawClient client(agent.port());
    ASSERT_TRUE(client.write(frameWithBody(helloOf, 1000)));
    auto reply = client.readFrame();
    ASSERT_TRUE(reply) << reply.status().message();
    EXPECT_TRUE(reply->has_challenge());
  }
  RawClient client(agent.port());
  ASSERT_TRUE(client.write(frameWithBody(helloOf, 1001).substr(0, kFrameHeaderBytes)));
  auto reply = client.readFrame();
  ASSERT_TRUE(reply && reply->has_error()) << reply.status().message();
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_FRAME_TOO_LARGE);
  EXPECT_NE(reply->error().detail().find("before authentication"), std::string::npos);
  EXPECT_TRUE(client.waitClosed());
}

TEST(Limits, DefaultPreauthLimitIs64KiBAndTheDialerHasItToo) {
  EXPECT_EQ(BridgeLimits{}.preauth_max_frame_bytes, 64u << 10);
  // A dialer does not take a large frame from an agent that has not proved itself either.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  std::thread fake([&] {
    asio::ip::tcp::socket s(io);
    acceptor.accept(s);
    uint8_t header[4];
    asio::read(s, asio::buffer(header));
    std::string hello(decodeLength(header), '\0');
    asio::read(s, asio::buffer(hello));
    const uint32_t huge = (64u << 10) + 1;
    const uint8_t h[4] = {uint8_t(huge >> 24), uint8_t(huge >> 16), uint8_t(huge >> 8),
                          uint8_t(huge)};
    std::error_code ec;
    asio::write(s, asio::buffer(h), ec);
    char c;
    s.read_some(asio::buffer(&c, 1), ec);  // until the dialer closes
  });
  IoThread client_io;
  auto r = connect(client_io.context(), {"127.0.0.1", acceptor.local_endpoint().port()}, kToken,
                   testOptions("controller"));
  fake.join();
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("before authentication"), std::string::npos)
      << r.status().message();
}

TEST(Limits, MaxFrameAfterAuthAtTheLimitAndOneOver) {
  SessionOptions o = agentOptions();
  o.max_frame_bytes = 200000;  // above the bulk probe: the split read path
  ListenerFixture agent(o);
  expectServedAfterAuth(agent, 200000, 0);
  expectRefusedAfterAuth(agent, 200001, 1, "exceeds the limit of 200000");
}

TEST(Limits, ConnectionBudgetAtTheLimitAndOneOver) {
  SessionOptions o = agentOptions();
  o.limits.connection_budget_bytes = 300000;
  ListenerFixture agent(o);
  expectServedAfterAuth(agent, 300000, 0);
  expectRefusedAfterAuth(agent, 300001, 1, "connection's budget of 300000");
}

TEST(Limits, AFrameLargerThanTheWholeMemoryBudgetIsRefused) {
  SessionOptions o = agentOptions();
  o.memory_budget = std::make_shared<MemoryBudget>(250000);
  ListenerFixture agent(o);
  expectServedAfterAuth(agent, 250000, 0);
  expectRefusedAfterAuth(agent, 250001, 1, "whole memory budget of 250000");
  EXPECT_LE(o.memory_budget->peak(), 250000u);
}

TEST(Limits, LargeFramesWaitOnTheMemoryBudgetInsteadOfOverrunningIt) {
  SessionOptions o = agentOptions();
  const size_t limit = 1u << 20;
  o.memory_budget = std::make_shared<MemoryBudget>(limit);
  ListenerFixture agent(o);
  RawClient a(agent.port()), b(agent.port());
  ASSERT_TRUE(a.handshake(kToken, "a"));
  ASSERT_TRUE(b.handshake(kToken, "b"));
  // a declares 700 kB and sends the first 1000 bytes: its frame holds 700 kB of the budget.
  const std::string frame_a = a.protect(frameWithBody(payloadOf, 700000));
  ASSERT_TRUE(a.write(frame_a.substr(0, 1000)));
  ASSERT_TRUE(waitFor([&] { return o.memory_budget->used() >= 700000; }));
  // b's whole 400 kB frame does not fit beside it: b waits, and is not read.
  ASSERT_TRUE(b.writeFrame(frameWithBody(payloadOf, 400000)));
  ASSERT_TRUE(waitFor([&] { return o.memory_budget->waiting() == 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(agent.messages(1).empty());
  EXPECT_LE(o.memory_budget->used(), limit);
  // a finishes: a is delivered, its bytes come back, and then b goes through.
  ASSERT_TRUE(a.write(frame_a.substr(1000)));
  ASSERT_TRUE(
      waitFor([&] { return agent.messages(0).size() == 1 && agent.messages(1).size() == 1; }, 5s));
  EXPECT_LE(o.memory_budget->peak(), limit);
  EXPECT_GE(o.memory_budget->peak(), 700000u);
  EXPECT_FALSE(agent.closeStatus(0).has_value());
  EXPECT_FALSE(agent.closeStatus(1).has_value());
}

// Opens `n` strangers that said Hello and got their Challenge: each is waiting to authenticate.
std::vector<std::unique_ptr<RawClient>> strangers(uint16_t port, int n) {
  std::vector<std::unique_ptr<RawClient>> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(std::make_unique<RawClient>(port));
    EXPECT_TRUE(out.back()->send(helloOf(3)));
    auto challenge = out.back()->readFrame();
    EXPECT_TRUE(challenge && challenge->has_challenge()) << i;
  }
  return out;
}

TEST(Limits, UnauthenticatedConnectionsAtTheCapAllStay) {
  SessionOptions o = agentOptions();
  o.limits.max_unauthenticated = 3;
  ListenerFixture agent(o);
  auto waiting = strangers(agent.port(), 3);
  // None was dropped: each still gets its Welcome... by finishing the handshake afresh on its
  // own connection is not possible, so check that none received an Error and none closed.
  for (auto& c : waiting) {
    auto r = c->readFrame(150ms);
    EXPECT_FALSE(r) << "a stranger within the cap got " << (r ? r->DebugString() : "");
    EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  }
}

TEST(Limits, OneOverTheCapDropsTheOldestStranger) {
  SessionOptions o = agentOptions();
  o.limits.max_unauthenticated = 3;
  ListenerFixture agent(o);
  auto waiting = strangers(agent.port(), 4);
  auto reply = waiting[0]->readFrame();
  ASSERT_TRUE(reply && reply->has_error()) << reply.status().message();
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_BUSY);
  EXPECT_TRUE(waiting[0]->waitClosed());
  for (size_t i = 1; i < waiting.size(); ++i) {
    auto r = waiting[i]->readFrame(150ms);
    EXPECT_EQ(r.status().code(), StatusCode::kTimeout) << i;
  }
  // And the controller always gets in: it pushes out the oldest stranger in turn.
  auto good = agent.connectGood();
  ASSERT_TRUE(good) << good.status().message();
  auto pushed = waiting[1]->readFrame();
  ASSERT_TRUE(pushed && pushed->has_error());
  EXPECT_EQ(pushed->error().code(), wire::ERROR_CODE_BUSY);
}

TEST(Limits, HandshakeFinishedWithinTheDeadlineIsServedAndASilentOneIsNot) {
  SessionOptions o = agentOptions();
  o.handshake_timeout = 600ms;
  ListenerFixture agent(o);
  RawClient slow(agent.port());
  std::this_thread::sleep_for(200ms);  // well inside the deadline
  auto welcome = slow.handshake(kToken);
  ASSERT_TRUE(welcome && welcome->has_welcome());
  RawClient silent(agent.port());
  const auto t0 = std::chrono::steady_clock::now();
  auto reply = silent.readFrame(3s);
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(reply && reply->has_error());
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_TIMEOUT);
  EXPECT_GE(waited, 550ms);
}

TEST(Limits, ARefusedPeerIsLoggedOnceNotOnEveryAttempt) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  sink->set_pattern("%l %v");
  auto log = logger("edgerig.bridge");
  log->sinks().push_back(sink);
  {
    ListenerFixture agent(agentOptions());
    for (int i = 0; i < 5; ++i) {
      RawClient client(agent.port());
      ASSERT_TRUE(client.write("GET / HTTP/1.1\r\n\r\n"));
      ASSERT_TRUE(client.waitClosed());
    }
  }
  log->sinks().pop_back();
  const std::string text = captured.str();
  size_t warnings = 0;
  for (size_t at = text.find("warning refused"); at != std::string::npos;
       at = text.find("warning refused", at + 1)) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << text;
  EXPECT_NE(text.find("127.0.0.1"), std::string::npos);
}

}  // namespace
}  // namespace edgerig::bridge
