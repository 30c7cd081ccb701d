#include "core/agent/inbound_links.h"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "device_bridge/log.h"

namespace edgerig {
namespace {

auto log() { return bridge::logger("edgerig.agent"); }

std::string who(const bridge::Session& s) {
  return (s.peerName().empty() ? std::string("peer") : s.peerName()) + " (" + s.remoteAddress() +
         ")";
}

wire::Envelope ackEnvelope(uint64_t link_id, uint64_t seq) {
  wire::Envelope env;
  env.mutable_link_ack()->set_link_id(link_id);
  env.mutable_link_ack()->set_seq(seq);
  return env;
}

}  // namespace

struct InboundLinks::State {
  State(asio::io_context& io, AckPolicy p) : timer(io), policy(p) {}

  struct Link {
    uint64_t delivered = 0;  // every envelope up to this one was delivered
    uint32_t frames = 0;     // arrived since the last acknowledgement (duplicates too)
    size_t bytes = 0;
    std::weak_ptr<bridge::Session> session;  // the last it came on: acknowledgements go there
    uint64_t used = 0;                       // when it was last seen, for forgetting
  };
  using Ack = std::pair<std::shared_ptr<bridge::Session>, wire::Envelope>;

  // Caller holds mu. The acknowledgement of everything `l` delivered, on its last session.
  void takeAck(uint64_t id, Link& l, std::vector<Ack>& out) {
    l.frames = 0;
    l.bytes = 0;
    if (auto s = l.session.lock()) out.emplace_back(std::move(s), ackEnvelope(id, l.delivered));
  }
  void forgetOldest() {
    auto oldest = links.begin();
    for (auto it = links.begin(); it != links.end(); ++it) {
      if (it->second.used < oldest->second.used) oldest = it;
    }
    if (oldest != links.end()) links.erase(oldest);
  }
  static void armTimer(const std::shared_ptr<State>& self) {  // caller holds mu
    if (self->timer_armed) return;
    self->timer_armed = true;
    self->timer.expires_after(self->policy.every);
    self->timer.async_wait([weak = std::weak_ptr<State>(self)](const asio::error_code& ec) {
      auto st = weak.lock();
      if (!st || ec) return;
      std::vector<Ack> acks;
      {
        std::lock_guard lock(st->mu);
        st->timer_armed = false;
        for (auto& [id, l] : st->links) {
          if (l.frames > 0) st->takeAck(id, l, acks);
        }
      }
      for (auto& [s, env] : acks) s->send(std::move(env));
    });
  }

  std::mutex mu;
  asio::steady_timer timer;
  bool timer_armed = false;
  AckPolicy policy;
  std::unordered_map<uint64_t, Link> links;
  std::unordered_map<const bridge::Session*, uint64_t> bound;  // the link a session carries
  uint64_t clock = 0;
  uint64_t duplicates = 0;
};

std::string linkIdText(uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

InboundLinks::InboundLinks(asio::io_context& io, AckPolicy policy)
    : state_(std::make_shared<State>(io, policy)) {}

InboundLinks::~InboundLinks() = default;

Result<bool> InboundLinks::admit(const std::shared_ptr<bridge::Session>& s,
                                 const wire::Envelope& env) {
  const uint64_t id = env.link_id(), seq = env.link_seq();
  if (id == 0 && seq == 0) return true;  // not numbered: an older peer
  const auto bad = [&](const std::string& what) {
    return invalidArgument("data link from " + who(*s) + ": " + what +
                           "; that session is closed (its sender resumes from what was "
                           "acknowledged)");
  };
  if (id == 0) return bad("envelope " + std::to_string(seq) + " without a link id");
  if (seq == 0 || seq > kMaxLinkSeq) {
    return bad("envelope number " + std::to_string(seq) + " of link " + linkIdText(id) +
               " is out of range (1 to 2^62)");
  }
  std::vector<State::Ack> acks;
  State& st = *state_;
  {
    std::lock_guard lock(st.mu);
    if (auto b = st.bound.find(s.get()); b == st.bound.end()) {
      st.bound.emplace(s.get(), id);
    } else if (b->second != id) {
      return bad("the link id changed mid-session, from " + linkIdText(b->second) + " to " +
                 linkIdText(id));
    }
    auto it = st.links.find(id);
    if (it == st.links.end()) {
      if (st.links.size() >= st.policy.max_links) st.forgetOldest();
      it = st.links.emplace(id, State::Link{}).first;
      if (seq != 1) {
        log()->warn(
            "data link {} from {} starts at envelope {}: this agent has no record of the ones "
            "before (restarted since, or forgotten); delivering from there",
            linkIdText(id), who(*s), seq);
        it->second.delivered = seq - 1;
      }
    }
    State::Link& l = it->second;
    l.used = ++st.clock;
    l.session = s;
    ++l.frames;
    if (seq <= l.delivered) {  // re-sent after a break: delivered already
      ++st.duplicates;
      State::armTimer(state_);
      return false;
    }
    if (seq != l.delivered + 1) {
      --l.frames;
      return bad("envelope " + std::to_string(seq) + " of link " + linkIdText(id) +
                 " skips ahead (" + std::to_string(l.delivered + 1) +
                 " was due): a bug in the sender's resume; please report it");
    }
    l.delivered = seq;
    l.bytes += env.ByteSizeLong();
    if (l.frames >= st.policy.every_frames || l.bytes >= st.policy.every_bytes) {
      st.takeAck(id, l, acks);
    } else {
      State::armTimer(state_);
    }
  }
  for (auto& [to, ack] : acks) to->send(std::move(ack));
  return true;
}

void InboundLinks::closed(const bridge::Session* s) {
  std::lock_guard lock(state_->mu);
  state_->bound.erase(s);
}

uint64_t InboundLinks::duplicatesDropped() const {
  std::lock_guard lock(state_->mu);
  return state_->duplicates;
}

}  // namespace edgerig
