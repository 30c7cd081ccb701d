// PeerLinks reconnecting, seen from the other end of the wire on loopback: a port where every
// connection is accepted and closed at once (a dial there fails its handshake) records when
// each dial came — the backoff schedule measured from outside — and then a real bridge Listener
// on the same port records what arrives, in what order.
#include "core/agent/peer_links.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

#include "bridge_test_util.h"  // tests/bridge
#include "device_bridge/io_thread.h"
#include "device_bridge/traffic_kind.h"
#include "peer_link_fakes.h"  // tests/core/agent

namespace edgerig {
namespace {

using namespace std::chrono_literals;
using bridge::testing::kToken;
using bridge::testing::testOptions;
using bridge::testing::waitFor;
using Clock = std::chrono::steady_clock;

using peer_link_fakes::Cutter;
using peer_link_fakes::Receiver;
using peer_link_fakes::Refuser;

// An algorithm message tagged `tag` (its generation) with `payload` bytes of tensor data (from
// 64 KiB on, the bridge's zero-copy bulk path).
wire::Envelope message(uint32_t tag, size_t payload = 16) {
  wire::Envelope env;
  auto* a = env.mutable_algo();
  a->set_kind(static_cast<uint32_t>(bridge::TrafficKind::kGossip));
  a->set_generation(tag);
  a->mutable_data()->assign(payload, static_cast<char>('a' + tag % 26));
  return env;
}

std::vector<uint32_t> range(uint32_t from, uint32_t to) {  // [from, to)
  std::vector<uint32_t> out;
  for (uint32_t k = from; k < to; ++k) out.push_back(k);
  return out;
}

// No acknowledgement before `every` (a minute): everything sent stays unacknowledged.
AckPolicy noAcks() {
  AckPolicy p;
  p.every_frames = 1u << 30;
  p.every_bytes = size_t{1} << 40;
  p.every = std::chrono::minutes(1);
  return p;
}

class PeerLinksTest : public testing::Test {
 protected:
  std::unique_ptr<PeerLinks> makeLinks(ReconnectPolicy policy) {
    auto options = testOptions("sender");
    options.role = wire::PEER_ROLE_AGENT;
    return std::make_unique<PeerLinks>(io_.context(), kToken, options, PeerLinkHooks{}, policy);
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

// Closed by the receiver: dialled again (at once while message 0 is not acknowledged, else by
// the next send), and nothing is delivered twice.
TEST_F(PeerLinksTest, ALinkTheReceiverClosedIsDialledAgain) {
  Refuser refuser(io_.context());  // for a free port
  refuser.close();
  Receiver receiver(io_.context(), refuser.port());
  auto links = makeLinks({});
  links->setPeers({"127.0.0.1:" + std::to_string(refuser.port())});
  links->send(0, message(0));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 1; }));
  for (auto& s : receiver.sessionsCopy()) s->close();
  ASSERT_TRUE(waitFor([&] { return receiver.closed() == 1; }));
  links->send(0, message(1));
  links->send(0, message(2));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 3; }));
  EXPECT_EQ(receiver.seqs(), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(receiver.sessionsCopy().size(), 2u);
}

// The resume protocol. A break with frames handed to the session and never acknowledged: 0..99
// arrive; then 100..149 are written into a network that swallows them; then the connection is
// reset under both ends. The link is dialled again at once (nothing else is sent meanwhile),
// re-sends 0..149 (none was acknowledged), and the receiver delivers 100..149 once, dropping
// 0..99 as duplicates; what is sent after goes out behind them. Every tenth frame is a bulk one
// (80 KiB: the bridge's zero-copy path, whose numbering must survive too).
TEST_F(PeerLinksTest, ASessionResetLosesNothingAndDuplicatesNothing) {
  Receiver receiver(io_.context(), 0, noAcks());
  Cutter network(io_.context(), receiver.port());
  auto links = makeLinks({});
  links->setPeers({"127.0.0.1:" + std::to_string(network.port())});
  const auto size = [](uint32_t k) -> size_t { return k % 10 == 0 ? 80u << 10 : 2u << 10; };
  for (uint32_t k = 0; k < 100; ++k) links->send(0, message(k, size(k)));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 100; }, 10s));
  network.swallow();
  for (uint32_t k = 100; k < 150; ++k) links->send(0, message(k, size(k)));
  // Handed on: the session's queue is empty (written to the kernel, read by the "network").
  ASSERT_TRUE(waitFor([&] {
    const auto open = links->sessions();
    return open.size() == 1 && open[0]->queuedBytes() == 0;
  }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.seqs().size(), 100u) << "the network did not swallow";
  EXPECT_EQ(links->unacknowledged(0).frames, 150u);
  network.cut();
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 150; }, 10s))
      << receiver.seqs().size() << " delivered: the link was not resumed by itself";
  for (uint32_t k = 150; k < 200; ++k) links->send(0, message(k, size(k)));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() >= 200; }, 10s));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(receiver.seqs(), range(0, 200)) << "each exactly once, in order";
  // From outside: 0..99, then 0..149 again, then 150..199 crossed the wire.
  std::vector<uint32_t> wire = range(0, 100);
  for (uint32_t k : range(0, 150)) wire.push_back(k);
  for (uint32_t k : range(150, 200)) wire.push_back(k);
  EXPECT_EQ(receiver.arrived(), wire);
  EXPECT_EQ(network.connections(), 2);
  EXPECT_TRUE(receiver.errors().empty()) << receiver.errors().front();
}

// Acknowledgements trim what the sender keeps: after a burst is acknowledged nothing is kept,
// and a reset after it re-sends nothing (counted on the wire).
TEST_F(PeerLinksTest, AcknowledgementsTrimTheReplayBuffer) {
  AckPolicy acks;
  acks.every_frames = 16;
  acks.every = 50ms;
  Receiver receiver(io_.context(), 0, acks);
  Cutter network(io_.context(), receiver.port());
  auto links = makeLinks({});
  links->setPeers({"127.0.0.1:" + std::to_string(network.port())});
  for (uint32_t k = 0; k < 100; ++k) links->send(0, message(k, 1000));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 100; }));
  EXPECT_TRUE(waitFor([&] { return links->unacknowledged(0).frames == 0; }, 2s))
      << links->unacknowledged(0).frames << " frame(s) still kept";
  EXPECT_EQ(links->unacknowledged(0).bytes, 0u);
  network.cut();
  ASSERT_TRUE(waitFor([&] { return links->sessions().empty(); }));
  links->send(0, message(100, 1000));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 101; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(receiver.arrived(), range(0, 101)) << "acknowledged frames were sent again";
  EXPECT_EQ(receiver.seqs(), range(0, 101));
}

// Waiting plus unacknowledged bytes are bounded together: a receiver that acknowledges nothing
// gets what fits in max_waiting_bytes, and the rest is dropped.
TEST_F(PeerLinksTest, UnacknowledgedFramesCountInTheBound) {
  Receiver receiver(io_.context(), 0, noAcks());
  ReconnectPolicy policy;
  policy.max_waiting_bytes = 20000;
  auto links = makeLinks(policy);
  links->setPeers({"127.0.0.1:" + std::to_string(receiver.port())});
  links->send(0, message(0, 1000));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 1; }));
  for (uint32_t k = 1; k < 40; ++k) links->send(0, message(k, 1000));
  std::this_thread::sleep_for(300ms);
  const auto kept = links->unacknowledged(0);
  EXPECT_LE(kept.bytes, policy.max_waiting_bytes);
  EXPECT_GE(kept.bytes, policy.max_waiting_bytes - 1100);
  // ~1012 bytes a message: 19 fit.
  EXPECT_EQ(receiver.seqs(), range(0, 19));
}

// A receiver that acknowledges wrongly: each bad acknowledgement closes the session, with an
// error naming the peer; the link is dialled again and re-sends what was not acknowledged.
TEST_F(PeerLinksTest, BadAcknowledgementsCloseTheSessionAndTheLinkResumes) {
  struct Case {
    const char* what;
    std::function<wire::LinkAck(const wire::Envelope&)> ack;
  };
  const std::vector<Case> cases{
      {"an envelope never sent",
       [](const wire::Envelope& e) {
         wire::LinkAck a;
         a.set_link_id(e.link_id());
         a.set_seq(e.link_seq() + 1);
         return a;
       }},
      {"a huge number",
       [](const wire::Envelope& e) {
         wire::LinkAck a;
         a.set_link_id(e.link_id());
         a.set_seq(~uint64_t{0});
         return a;
       }},
      {"another link id",
       [](const wire::Envelope& e) {
         wire::LinkAck a;
         a.set_link_id(e.link_id() ^ 1);
         a.set_seq(e.link_seq());
         return a;
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    bridge::testing::ListenerFixture receiver(testOptions("receiver"));
    auto links = makeLinks({});
    links->setPeers({receiver.address().str()});
    links->send(0, message(7));
    ASSERT_TRUE(
        waitFor([&] { return receiver.sessionCount() == 1 && receiver.messages(0).size() == 1; }));
    const wire::Envelope first = receiver.messages(0)[0];
    ASSERT_NE(first.link_id(), 0u);
    EXPECT_EQ(first.link_seq(), 1u);
    wire::Envelope bad;
    *bad.mutable_link_ack() = c.ack(first);
    receiver.session(0)->send(bad);
    EXPECT_TRUE(waitFor([&] { return receiver.closeStatus(0).has_value(); }))
        << "the sender kept the session";
    // Dialled again: the same envelope, with the same number, on a second session.
    ASSERT_TRUE(
        waitFor([&] { return receiver.sessionCount() == 2 && receiver.messages(1).size() == 1; }));
    const wire::Envelope again = receiver.messages(1)[0];
    EXPECT_EQ(again.link_id(), first.link_id());
    EXPECT_EQ(again.link_seq(), 1u);
    EXPECT_EQ(again.algo().generation(), 7u);
    EXPECT_EQ(links->unacknowledged(0).frames, 1u);
  }
}

// An acknowledgement older than one already had is harmless; a good one trims.
TEST_F(PeerLinksTest, AnOlderAcknowledgementIsIgnored) {
  bridge::testing::ListenerFixture receiver(testOptions("receiver"));
  auto links = makeLinks({});
  links->setPeers({receiver.address().str()});
  for (uint32_t k = 0; k < 3; ++k) links->send(0, message(k));
  ASSERT_TRUE(waitFor([&] { return receiver.messages(0).size() == 3; }));
  const uint64_t id = receiver.messages(0)[0].link_id();
  for (uint64_t seq : {uint64_t{2}, uint64_t{1}}) {
    wire::Envelope ack;
    ack.mutable_link_ack()->set_link_id(id);
    ack.mutable_link_ack()->set_seq(seq);
    receiver.session(0)->send(ack);
  }
  EXPECT_TRUE(waitFor([&] { return links->unacknowledged(0).frames == 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(receiver.closeStatus(0).has_value());
  EXPECT_EQ(links->unacknowledged(0).frames, 1u);
}

// The receiving end against a peer that numbers by hand (a raw client, the protocol written out
// independently): unnumbered frames are delivered as they come; a numbered link is delivered
// once, in order, across sessions, and acknowledged back on the session it came on; numbering
// that skips ahead, restarts at 0, is huge, or changes link id mid-session closes the session
// with an error naming the peer.
TEST_F(PeerLinksTest, TheReceiverDeliversOnceInOrderAndRefusesBadNumbers) {
  AckPolicy acks;
  acks.every_frames = 2;
  acks.every = std::chrono::minutes(1);  // acknowledgements by count only: deterministic
  Receiver receiver(io_.context(), 0, acks);
  const auto numbered = [](uint64_t link, uint64_t seq, uint32_t tag) {
    wire::Envelope env = message(tag);
    env.set_link_id(link);
    env.set_link_seq(seq);
    return env;
  };
  const auto connect = [&] {
    auto c = std::make_unique<bridge::testing::RawClient>(receiver.port());
    EXPECT_TRUE(c->connected());
    auto welcome = c->handshake(kToken, "raw-peer");
    EXPECT_TRUE(welcome && welcome->has_welcome());
    return c;
  };
  constexpr uint64_t kLink = 0xabc;
  auto a = connect();
  ASSERT_TRUE(a->send(message(1)));  // unnumbered
  ASSERT_TRUE(a->send(numbered(kLink, 1, 2)));
  ASSERT_TRUE(a->send(numbered(kLink, 2, 3)));
  auto ack = a->readFrame();  // every 2 frames of the link
  ASSERT_TRUE(ack) << ack.status().message();
  ASSERT_TRUE(ack->has_link_ack());
  EXPECT_EQ(ack->link_ack().link_id(), kLink);
  EXPECT_EQ(ack->link_ack().seq(), 2u);
  ASSERT_TRUE(a->send(numbered(kLink, 2, 99)));  // a duplicate: dropped, the session lives
  ASSERT_TRUE(a->send(numbered(kLink, 3, 4)));
  ASSERT_TRUE(waitFor([&] { return receiver.seqs().size() == 4; }));
  ASSERT_TRUE(a->send(numbered(kLink, 5, 98)));  // skips 4
  EXPECT_TRUE(a->waitClosed());
  // The link outlives the session: a new one continues where it stopped.
  auto b = connect();
  ASSERT_TRUE(b->send(numbered(kLink, 3, 97)));  // a duplicate again
  ASSERT_TRUE(b->send(numbered(kLink, 4, 5)));
  ack = b->readFrame();
  ASSERT_TRUE(ack && ack->has_link_ack()) << "no acknowledgement on the new session";
  EXPECT_EQ(ack->link_ack().seq(), 4u);
  ASSERT_TRUE(b->send(numbered(kLink + 1, 1, 96)));  // another link id on the same session
  EXPECT_TRUE(b->waitClosed());
  for (uint64_t bad : {uint64_t{0}, kMaxLinkSeq + 1, ~uint64_t{0}}) {
    auto c = connect();
    ASSERT_TRUE(c->send(numbered(0xdef + bad, bad, 95)));
    EXPECT_TRUE(c->waitClosed()) << "sequence number " << bad;
  }
  auto d = connect();
  ASSERT_TRUE(d->send(numbered(0, 3, 94)));  // a number without a link id
  EXPECT_TRUE(d->waitClosed());
  EXPECT_EQ(receiver.seqs(), (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  const auto errors = receiver.errors();
  ASSERT_EQ(errors.size(), 6u);
  for (const auto& e : errors) EXPECT_NE(e.find("raw-peer"), std::string::npos) << e;
  EXPECT_NE(errors[0].find("skips ahead"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("changed mid-session"), std::string::npos) << errors[1];
}

}  // namespace
}  // namespace edgerig
