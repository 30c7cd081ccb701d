// Mutual authentication and what the session key protects: a fake agent without the token is
// refused before the dialer proves anything; a reflected proof is refused; a frame altered on
// the way is refused; TLS round-trips; the token never crosses the wire.
#include <gtest/gtest.h>

#include <future>

#include "bridge_test_util.h"
#include "device_bridge/traffic_kind.h"
#include "relay.h"

namespace edgerig::bridge {
namespace {

using namespace testing;

// An agent impostor: answers a Hello with a Challenge whose proof uses `its_token`, then
// records what the dialer sends next.
class FakeAgent {
 public:
  // What it answers an Auth with: nothing, a Welcome as an agent would, or one whose fields
  // were changed after its proof was made (an on-path host raising `cores`).
  enum class Welcome { kNone, kHonest, kTampered };
  explicit FakeAgent(std::string its_token, Welcome welcome = Welcome::kNone)
      : token_(std::move(its_token)),
        welcome_(welcome),
        acceptor_(io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeAgent() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    std::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  HostPort address() const { return {"127.0.0.1", port()}; }
  // What the dialer sent after our Challenge (an Error, an Auth, or nothing at all).
  std::future<std::optional<wire::Envelope>> afterChallenge() { return after_.get_future(); }

 private:
  std::optional<wire::Envelope> readEnvelope() {
    uint8_t header[4];
    std::error_code ec;
    asio::read(socket_, asio::buffer(header), ec);
    if (ec) return std::nullopt;
    std::string body(decodeLength(header), '\0');
    asio::read(socket_, asio::buffer(body), ec);
    if (ec) return std::nullopt;
    auto env = decodeBody(body);
    if (!env) return std::nullopt;
    return std::move(env).value();
  }
  void serve() {
    std::error_code ec;
    acceptor_.accept(socket_, ec);
    if (ec) return after_.set_value(std::nullopt);
    auto hello = readEnvelope();
    if (!hello || !hello->has_hello()) return after_.set_value(std::nullopt);
    HandshakeTranscript t;
    t.dialer_nonce = hello->hello().nonce();
    t.dialer_role = hello->hello().role();
    t.dialer_name = hello->hello().name();
    t.dialer_protection = hello->hello().protection();
    t.agent_nonce = randomBytes(kNonceBytes);
    t.agent_name = "impostor";
    wire::Envelope challenge;
    challenge.mutable_challenge()->set_nonce(t.agent_nonce);
    challenge.mutable_challenge()->set_agent_name(t.agent_name);
    challenge.mutable_challenge()->set_proof(agentProof(token_, t));
    const std::string frame = encodeFrame(challenge);
    asio::write(socket_, asio::buffer(frame), ec);
    auto after = readEnvelope();
    const bool authed = after.has_value() && after->has_auth();
    after_.set_value(std::move(after));
    if (!authed || welcome_ == Welcome::kNone) return;
    wire::Envelope welcome;
    welcome.mutable_welcome()->set_agent_name(t.agent_name);
    welcome.mutable_welcome()->set_cores(2);
    welcome.mutable_welcome()->set_proof(welcomeProof(token_, t, welcome.welcome()));
    if (welcome_ == Welcome::kTampered) welcome.mutable_welcome()->set_cores(64);
    const std::string w = encodeFrame(welcome);
    asio::write(socket_, asio::buffer(w), ec);
    char c;
    socket_.read_some(asio::buffer(&c, 1), ec);  // until the dialer closes
  }

  std::string token_;
  Welcome welcome_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::socket socket_{io_};
  std::promise<std::optional<wire::Envelope>> after_;
  std::thread thread_;
};

TEST(MutualAuth, FakeAgentWithoutTheTokenIsRefusedNamingItsAddress) {
  FakeAgent fake("a-token-the-impostor-guessed");
  auto what_it_got = fake.afterChallenge();
  IoThread io;
  auto dialed = connect(io.context(), fake.address(), kToken, testOptions("controller"));
  ASSERT_FALSE(dialed);
  EXPECT_EQ(dialed.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(dialed.status().message().find(fake.address().str()), std::string::npos)
      << dialed.status().message();
  EXPECT_NE(dialed.status().message().find("could not prove"), std::string::npos)
      << dialed.status().message();
  // The dialer checked the impostor's proof before revealing its own: no Auth, an Error.
  ASSERT_EQ(what_it_got.wait_for(3s), std::future_status::ready);
  const std::optional<wire::Envelope> got = what_it_got.get();
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->has_auth());
  ASSERT_TRUE(got->has_error());
  EXPECT_EQ(got->error().code(), wire::ERROR_CODE_AUTH_FAILED);
}

TEST(MutualAuth, FakeAgentWithTheTokenIsAccepted) {
  // The control: the same impostor with the right token passes the proof check, so the test
  // above fails for the reason it names. (It then sends Auth, which the impostor records.)
  FakeAgent fake(kToken);
  auto what_it_got = fake.afterChallenge();
  IoThread io;
  SessionOptions o = testOptions("controller");
  o.handshake_timeout = 300ms;
  auto dialed = connect(io.context(), fake.address(), kToken, o);
  ASSERT_EQ(what_it_got.wait_for(3s), std::future_status::ready);
  const std::optional<wire::Envelope> got = what_it_got.get();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->has_auth());
  EXPECT_FALSE(dialed);  // no Welcome ever comes
}

TEST(MutualAuth, AWelcomeAlteredOnTheWayIsRefused) {
  IoThread io;
  {
    FakeAgent honest(kToken, FakeAgent::Welcome::kHonest);
    auto dialed = connect(io.context(), honest.address(), kToken, testOptions("controller"));
    ASSERT_TRUE(dialed) << dialed.status().message();
    EXPECT_EQ((*dialed)->peerCores(), 2);
    (*dialed)->close();
  }
  FakeAgent tampered(kToken, FakeAgent::Welcome::kTampered);
  auto dialed = connect(io.context(), tampered.address(), kToken, testOptions("controller"));
  ASSERT_FALSE(dialed);
  EXPECT_EQ(dialed.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(dialed.status().message().find("Welcome"), std::string::npos)
      << dialed.status().message();
}

TEST(MutualAuth, TheAgentProvesTheToken) {
  ListenerFixture agent;
  RawClient client(agent.port());
  auto welcome = client.handshake(kToken);
  ASSERT_TRUE(welcome && welcome->has_welcome()) << welcome.status().message();
  EXPECT_TRUE(client.agentProofOk());
  RawClient other(agent.port());
  ASSERT_TRUE(other.handshake("not-the-token"));
  EXPECT_FALSE(other.agentProofOk());
}

TEST(MutualAuth, ReflectedProofIsRefused) {
  ListenerFixture agent;
  RawClient client(agent.port());
  wire::Envelope hello;
  hello.mutable_hello()->set_name("mirror");
  hello.mutable_hello()->set_nonce(randomBytes(kNonceBytes));
  ASSERT_TRUE(client.send(hello));
  auto challenge = client.readFrame();
  ASSERT_TRUE(challenge && challenge->has_challenge());
  // Send the agent's own proof back as ours: same token, same nonces, same transcript.
  wire::Envelope auth;
  auth.mutable_auth()->set_proof(challenge->challenge().proof());
  ASSERT_TRUE(client.send(auth));
  auto reply = client.readFrame();
  ASSERT_TRUE(reply && reply->has_error()) << reply.status().message();
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_AUTH_FAILED);
  EXPECT_TRUE(client.waitClosed());
  EXPECT_EQ(agent.sessionCount(), 0u);
}

TEST(MutualAuth, ProofFromAnotherConnectionIsRefused) {
  // Replay: a proof is bound to both nonces, so one seen on connection A is worthless on B.
  ListenerFixture agent;
  RawClient a(agent.port());
  ASSERT_TRUE(a.handshake(kToken));
  const std::string seen = dialerProof(kToken, a.transcript());
  RawClient b(agent.port());
  wire::Envelope hello;
  hello.mutable_hello()->set_name("raw");
  hello.mutable_hello()->set_role(wire::PEER_ROLE_TOOL);
  hello.mutable_hello()->set_nonce(a.transcript().dialer_nonce);  // even the same nonce
  ASSERT_TRUE(b.send(hello));
  ASSERT_TRUE(b.readFrame());
  wire::Envelope auth;
  auth.mutable_auth()->set_proof(seen);
  ASSERT_TRUE(b.send(auth));
  auto reply = b.readFrame();
  ASSERT_TRUE(reply && reply->has_error());
  EXPECT_EQ(reply->error().code(), wire::ERROR_CODE_AUTH_FAILED);
}

struct Received {
  std::mutex mu;
  std::vector<wire::Envelope> messages;
  std::optional<Status> closed;
};

std::shared_ptr<Session> dialAndStart(IoThread& io, uint16_t port, SessionOptions o,
                                      const std::shared_ptr<Received>& into,
                                      const std::string& token = kToken) {
  auto r = connect(io.context(), {"127.0.0.1", port}, token, std::move(o));
  if (!r) {
    ADD_FAILURE() << r.status().message();
    return nullptr;
  }
  auto s = std::move(r).value();
  s->start(
      [into](wire::Envelope&& env) {
        std::lock_guard lock(into->mu);
        into->messages.push_back(std::move(env));
      },
      [into](const Status& st) {
        std::lock_guard lock(into->mu);
        into->closed = st;
      });
  return s;
}

wire::Envelope payload(size_t bytes, char fill) {
  wire::Envelope env;
  env.mutable_algo()->set_kind(static_cast<uint32_t>(TrafficKind::kWeights));
  env.mutable_algo()->set_data(std::string(bytes, fill));
  return env;
}

SessionOptions quiet(const std::string& name) {
  SessionOptions o = testOptions(name);
  o.send_heartbeats = false;
  return o;
}

TEST(FrameIntegrity, AlteredFrameIsRefused) {
  for (const size_t bytes : {size_t{100}, size_t{1} << 20}) {  // plain and bulk read paths
    ListenerFixture agent(quiet("agent"));
    Relay relay(agent.port());
    IoThread io;
    auto got = std::make_shared<Received>();
    auto s = dialAndStart(io, relay.port(), quiet("controller"), got);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->protection(), wire::PROTECTION_MAC);
    // First an intact frame arrives...
    s->send(payload(bytes, 'a'));
    ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == 1; }));
    // ...then one with a byte flipped on the way does not: the agent closes with BAD_MAC.
    relay.flipByteAfter(10);  // inside the body, past the 4-byte length
    s->send(payload(bytes, 'b'));
    ASSERT_TRUE(waitFor([&] { return agent.closeStatus(0).has_value(); })) << bytes;
    EXPECT_TRUE(relay.flipped());
    EXPECT_EQ(agent.closeStatus(0)->code(), StatusCode::kUnauthenticated);
    EXPECT_NE(agent.closeStatus(0)->message().find("BAD_MAC"), std::string::npos)
        << agent.closeStatus(0)->message();
    EXPECT_EQ(agent.messages(0).size(), 1u);
    // The dialer hears why.
    ASSERT_TRUE(waitFor([&] {
      std::lock_guard lock(got->mu);
      return got->closed.has_value();
    }));
    std::lock_guard lock(got->mu);
    EXPECT_NE(got->closed->message().find("BAD_MAC"), std::string::npos) << got->closed->message();
  }
}

TEST(FrameIntegrity, UnprotectedFramesAreRefusedAfterTheHandshake) {
  // A peer (or an injector) that skips the MAC: the next 16 bytes it sends are taken as the
  // MAC and fail.
  ListenerFixture agent(quiet("agent"));
  RawClient client(agent.port());
  ASSERT_TRUE(client.handshake(kToken));
  wire::Envelope step;
  step.mutable_stop_run()->set_reason("unprotected");
  ASSERT_TRUE(client.write(encodeFrame(step) + std::string(16, '\0')));
  ASSERT_TRUE(waitFor([&] { return agent.closeStatus(0).has_value(); }));
  EXPECT_NE(agent.closeStatus(0)->message().find("BAD_MAC"), std::string::npos);
  EXPECT_TRUE(agent.messages(0).empty());
}

TEST(Tls, RoundTripBothWaysAndNothingReadableOnTheWire) {
  SessionOptions agent_options = quiet("agent");
  agent_options.protection = wire::PROTECTION_TLS;  // the agent asks; the dialer follows
  ListenerFixture agent(agent_options);
  Relay relay(agent.port());
  IoThread io;
  auto got = std::make_shared<Received>();
  auto s = dialAndStart(io, relay.port(), quiet("controller"), got);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->protection(), wire::PROTECTION_TLS);
  ASSERT_TRUE(waitFor([&] { return agent.sessionCount() == 1; }));
  EXPECT_EQ(agent.session(0)->protection(), wire::PROTECTION_TLS);
  const std::string marker = "edgerig-tls-marker-";
  wire::Envelope small = payload(0, 0);
  small.mutable_algo()->set_data(marker + "small");
  wire::Envelope big = payload(3u << 20, 'z');
  big.mutable_algo()->mutable_data()->replace(1000, marker.size(), marker);
  s->send(small);
  s->send(big);
  ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == 2; }, 10s));
  EXPECT_EQ(agent.messages(0)[0].algo().data(), marker + "small");
  EXPECT_EQ(agent.messages(0)[1].algo().data(), big.algo().data());
  agent.session(0)->send(small);  // and back
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(got->mu);
    return got->messages.size() == 1;
  }));
  EXPECT_EQ(got->messages[0].algo().data(), marker + "small");
  EXPECT_EQ(relay.dialerBytes().find(marker), std::string::npos);
  EXPECT_EQ(relay.agentBytes().find(marker), std::string::npos);
  EXPECT_EQ(relay.dialerBytes().find(std::string(4096, 'z')), std::string::npos);
  EXPECT_GT(relay.dialerBytes().size(), 3u << 20);
}

TEST(Tls, DialerAskingForTlsGetsItFromAnyAgent) {
  ListenerFixture agent(quiet("agent"));
  IoThread io;
  SessionOptions o = quiet("controller");
  o.protection = wire::PROTECTION_TLS;
  auto got = std::make_shared<Received>();
  auto s = dialAndStart(io, agent.port(), o, got);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->protection(), wire::PROTECTION_TLS);
  s->send(payload(10, 'q'));
  ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == 1; }));
}

TEST(Tls, NoProtectionOnlyWhenBothSidesAskForIt) {
  SessionOptions none = quiet("agent");
  none.protection = wire::PROTECTION_NONE;
  {
    ListenerFixture agent(quiet("agent"));  // the agent keeps its MAC
    IoThread io;
    auto s = dialAndStart(io, agent.port(), none, std::make_shared<Received>());
    ASSERT_TRUE(s);
    EXPECT_EQ(s->protection(), wire::PROTECTION_MAC);
  }
  ListenerFixture agent(none);
  IoThread io;
  auto s = dialAndStart(io, agent.port(), none, std::make_shared<Received>());
  ASSERT_TRUE(s);
  EXPECT_EQ(s->protection(), wire::PROTECTION_NONE);
}

TEST(Tls, DowngradeOnTheWayBreaksTheProofs) {
  // An on-path host rewriting the dialer's TLS request to MAC would change the transcript the
  // agent proves: the dialer refuses the agent. Simulated by proving over a rewritten Hello.
  HandshakeTranscript asked;
  asked.dialer_nonce = std::string(32, 'd');
  asked.agent_nonce = std::string(32, 'a');
  asked.dialer_protection = wire::PROTECTION_TLS;
  HandshakeTranscript rewritten = asked;
  rewritten.dialer_protection = wire::PROTECTION_MAC;
  EXPECT_NE(agentProof(kToken, asked), agentProof(kToken, rewritten));
  EXPECT_NE(dialerProof(kToken, asked), dialerProof(kToken, rewritten));
  EXPECT_NE(agentProof(kToken, asked), dialerProof(kToken, asked));
}

TEST(TokenSecrecy, TheTokenNeverCrossesTheWire) {
  for (const auto protection : {wire::PROTECTION_MAC, wire::PROTECTION_TLS}) {
    SessionOptions o = quiet("agent");
    o.protection = protection;
    ListenerFixture agent(o);
    Relay relay(agent.port());
    IoThread io;
    auto s = dialAndStart(io, relay.port(), quiet("controller"), std::make_shared<Received>());
    ASSERT_TRUE(s);
    s->send(payload(1000, 'x'));
    ASSERT_TRUE(waitFor([&] { return agent.messages(0).size() == 1; }));
    s->close();
    ASSERT_TRUE(waitFor([&] { return agent.closeStatus(0).has_value(); }));
    const std::string wire_bytes = relay.dialerBytes() + relay.agentBytes();
    EXPECT_GT(wire_bytes.size(), 1000u);
    EXPECT_EQ(wire_bytes.find(kToken), std::string::npos);
    EXPECT_EQ(wire_bytes.find(kToken.substr(0, 12)), std::string::npos);
  }
}

}  // namespace
}  // namespace edgerig::bridge
