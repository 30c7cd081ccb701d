// Every bad input gets a typed Error frame and a close, never a crash, and the listener keeps
// serving: checked before the handshake (raw bytes at a fresh connection) and after it (the
// server session's on_close says what happened).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "bridge_test_util.h"
#include "device_bridge/protocol.h"

// Records the largest single allocation, to show an oversize length is refused before memory
// is reserved for it.
namespace {
std::atomic<size_t> g_largest_allocation{0};
}

void* operator new(size_t n) {
  size_t seen = g_largest_allocation.load();
  while (n > seen && !g_largest_allocation.compare_exchange_weak(seen, n)) {
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t n) { return operator new(n); }
// Out of line, so the compiler does not see new paired with free() and warn.
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace edgerig::bridge {
namespace {

using namespace testing;

std::string header(uint32_t length) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(length >> 24);
  h[1] = static_cast<char>(length >> 16);
  h[2] = static_cast<char>(length >> 8);
  h[3] = static_cast<char>(length);
  return h;
}

std::string rawFrame(const std::string& body) {
  return header(static_cast<uint32_t>(body.size())) + body;
}

wire::Envelope withVersion(wire::Envelope env, uint32_t version) {
  env.set_protocol_version(version);
  return env;
}

wire::Envelope hello() {
  wire::Envelope env;
  env.mutable_hello()->set_name("intruder");
  env.mutable_hello()->set_nonce(std::string(kNonceBytes, 'n'));
  return env;
}

struct BadInput {
  const char* name;
  std::string bytes;
  wire::ErrorCode code;
  StatusCode status;  // what the server session reports when this arrives after the handshake
};

std::vector<BadInput> badInputs() {
  wire::Envelope auth;
  auth.mutable_auth()->set_proof(std::string(32, 'x'));
  return {
      {"garbage body", rawFrame(std::string(24, '\xff')), wire::ERROR_CODE_BAD_FRAME,
       StatusCode::kInvalidArgument},
      {"http request", "GET / HTTP/1.1\r\nHost: agent\r\n\r\n", wire::ERROR_CODE_FRAME_TOO_LARGE,
       StatusCode::kInvalidArgument},
      {"length above max", header(0xffffffffu), wire::ERROR_CODE_FRAME_TOO_LARGE,
       StatusCode::kInvalidArgument},
      {"other major version", encodeFrame(withVersion(hello(), 305)),
       wire::ERROR_CODE_VERSION_MISMATCH, StatusCode::kVersionMismatch},
      {"release before mutual auth", encodeFrame(withVersion(hello(), 100)),
       wire::ERROR_CODE_VERSION_MISMATCH, StatusCode::kVersionMismatch},
      {"empty body", encodeFrame(wire::Envelope{}), wire::ERROR_CODE_UNKNOWN_MESSAGE,
       StatusCode::kInvalidArgument},
      {"auth out of order", encodeFrame(auth), wire::ERROR_CODE_OUT_OF_ORDER,
       StatusCode::kOutOfOrder},
  };
}

// Sends `bytes` and expects an Error frame with `code`, then a close.
void expectRejected(RawClient& client, const std::string& bytes, wire::ErrorCode code,
                    const char* name) {
  ASSERT_TRUE(client.connected()) << name;
  ASSERT_TRUE(client.writeFrame(bytes)) << name;
  auto reply = client.readFrame();
  ASSERT_TRUE(reply) << name << ": " << reply.status().message();
  ASSERT_TRUE(reply->has_error()) << name;
  EXPECT_EQ(reply->error().code(), code) << name << ": " << reply->error().detail();
  EXPECT_FALSE(reply->error().detail().empty()) << name;
  EXPECT_TRUE(client.waitClosed()) << name;
}

TEST(BadInput, BeforeHandshakeEachIsRejectedAndTheListenerSurvives) {
  ListenerFixture agent;
  ASSERT_TRUE(agent.createStatus()) << agent.createStatus().message();
  for (const BadInput& bad : badInputs()) {
    RawClient client(agent.port());
    expectRejected(client, bad.bytes, bad.code, bad.name);
    auto good = agent.connectGood();
    ASSERT_TRUE(good) << bad.name << ": " << good.status().message();
    good.value()->close();
  }
  EXPECT_EQ(agent.sessionCount(), badInputs().size());  // only the good clients got through
}

TEST(BadInput, OversizeLengthIsRefusedBeforeAllocating) {
  SessionOptions options = testOptions("agent");
  options.max_frame_bytes = 1u << 20;
  ListenerFixture agent(options);
  g_largest_allocation = 0;
  RawClient client(agent.port());
  // 200 MiB announced, nothing sent after it: the answer must not wait for the body.
  expectRejected(client, header(200u << 20), wire::ERROR_CODE_FRAME_TOO_LARGE, "oversize");
  EXPECT_LT(g_largest_allocation.load(), size_t{64} << 20);
}

TEST(BadInput, WrongTokenIsAuthFailed) {
  ListenerFixture agent;
  RawClient client(agent.port());
  auto welcome = client.handshake("not-the-token");
  ASSERT_TRUE(welcome) << welcome.status().message();
  ASSERT_TRUE(welcome->has_error());
  EXPECT_EQ(welcome->error().code(), wire::ERROR_CODE_AUTH_FAILED);
  EXPECT_TRUE(client.waitClosed());

  auto dialed = connect(agent.io(), agent.address(), "also-wrong", testOptions("tool"));
  ASSERT_FALSE(dialed);
  EXPECT_EQ(dialed.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(dialed.status().message().find("AUTH_FAILED"), std::string::npos);
  ASSERT_TRUE(agent.connectGood());
}

TEST(BadInput, MissingTokenIsRefused) {
  ListenerFixture agent;
  // A client without a token refuses to dial at all...
  auto dialed = connect(agent.io(), agent.address(), "", testOptions("tool"));
  ASSERT_FALSE(dialed);
  EXPECT_EQ(dialed.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(dialed.status().message().find("token"), std::string::npos);
  // ...and an empty MAC on the wire is AUTH_FAILED.
  RawClient client(agent.port());
  wire::Envelope h = hello();
  ASSERT_TRUE(client.send(h));
  auto challenge = client.readFrame();
  ASSERT_TRUE(challenge && challenge->has_challenge());
  EXPECT_EQ(challenge->challenge().nonce().size(), kNonceBytes);
  wire::Envelope auth;
  auth.mutable_auth();
  ASSERT_TRUE(client.send(auth));
  auto reply = client.readFrame();
  ASSERT_TRUE(reply && reply->has_error());
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_AUTH_FAILED);
  EXPECT_NE(reply->error().detail().find("no token"), std::string::npos);
  EXPECT_TRUE(client.waitClosed());
  // And a listener never runs without one.
  IoThread io;
  auto listener = Listener::create(io.context(), {"127.0.0.1", 0}, "", testOptions("a"), nullptr);
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.status().code(), StatusCode::kUnauthenticated);
  ASSERT_TRUE(agent.connectGood());
}

TEST(BadInput, SilentClientTimesOutInTheHandshake) {
  SessionOptions options = testOptions("agent");
  options.handshake_timeout = std::chrono::milliseconds(200);
  ListenerFixture agent(options);
  RawClient silent(agent.port());
  ASSERT_TRUE(silent.connected());
  const auto t0 = std::chrono::steady_clock::now();
  auto reply = silent.readFrame(std::chrono::milliseconds(2000));
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(reply && reply->has_error()) << reply.status().message();
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_TIMEOUT);
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_TRUE(silent.waitClosed());
  ASSERT_TRUE(agent.connectGood());
}

TEST(BadInput, AfterHandshakeSessionClosesWithWhatHappened) {
  std::vector<BadInput> cases = badInputs();
  // After the handshake a Hello is the out-of-order message.
  cases.back() = {"hello after handshake", encodeFrame(hello()), wire::ERROR_CODE_OUT_OF_ORDER,
                  StatusCode::kOutOfOrder};
  ListenerFixture agent;
  for (size_t i = 0; i < cases.size(); ++i) {
    const BadInput& bad = cases[i];
    RawClient client(agent.port());
    auto welcome = client.handshake(kToken, "raw-" + std::to_string(i));
    ASSERT_TRUE(welcome && welcome->has_welcome()) << bad.name;
    EXPECT_EQ(welcome->welcome().agent_name(), "agent");
    EXPECT_GT(welcome->welcome().cores(), 0);
    expectRejected(client, bad.bytes, bad.code, bad.name);
    ASSERT_TRUE(waitFor([&] { return agent.closeStatus(i).has_value(); })) << bad.name;
    const Status st = *agent.closeStatus(i);
    EXPECT_EQ(st.code(), bad.status) << bad.name << ": " << st.message();
    const std::string code_name = wire::ErrorCode_Name(bad.code).substr(strlen("ERROR_CODE_"));
    EXPECT_NE(st.message().find(code_name), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("raw-" + std::to_string(i)), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("127.0.0.1:"), std::string::npos) << st.message();
  }
  auto good = agent.connectGood();
  ASSERT_TRUE(good) << good.status().message();
}

TEST(BadInput, ErrorFromPeerClosesWithItsDetail) {
  ListenerFixture agent;
  RawClient client(agent.port());
  ASSERT_TRUE(client.handshake(kToken));
  wire::Envelope err;
  err.mutable_error()->set_code(wire::ERROR_CODE_BAD_REQUEST);
  err.mutable_error()->set_detail("stage 7 does not exist");
  ASSERT_TRUE(client.send(err));
  ASSERT_TRUE(waitFor([&] { return agent.closeStatus(0).has_value(); }));
  const Status st = *agent.closeStatus(0);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("stage 7 does not exist"), std::string::npos) << st.message();
  EXPECT_TRUE(client.waitClosed());
}

}  // namespace
}  // namespace edgerig::bridge
