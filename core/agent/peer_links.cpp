#include "core/agent/peer_links.h"

#include <algorithm>
#include <cmath>

#include "core/agent/inbound_links.h"
#include "device_bridge/address.h"
#include "device_bridge/log.h"

namespace edgerig {
namespace {

auto log() { return bridge::logger("edgerig.agent"); }

int64_t msSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

}  // namespace

std::chrono::milliseconds ReconnectPolicy::retryDelay(int k) const {
  const double ms = static_cast<double>(first_retry.count()) * std::pow(factor, std::max(0, k));
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::min(ms, static_cast<double>(max_retry.count()))));
}

PeerLinks::PeerLinks(asio::io_context& io, std::string token, bridge::SessionOptions options,
                     PeerLinkHooks hooks, ReconnectPolicy policy)
    : io_(io),
      token_(std::move(token)),
      options_(std::move(options)),
      hooks_(std::move(hooks)),
      policy_(policy),
      rng_((uint64_t{std::random_device{}()} << 32) ^ std::random_device{}()) {}

PeerLinks::~PeerLinks() {
  std::lock_guard lock(mu_);
  alive_->store(false);
}

uint64_t PeerLinks::drawLinkId() {
  uint64_t id = 0;
  while (id == 0) id = rng_();  // 0 means "not numbered"
  return id;
}

void PeerLinks::resetLink(Link& l, std::string address) {
  const int generation = l.generation + 1;
  l = Link{};
  l.address = std::move(address);
  l.generation = generation;
  l.link_id = drawLinkId();
}

void PeerLinks::dropEverything(Link& l) {
  l.waiting.clear();
  l.waiting_bytes = 0;
  l.unacked.clear();
  l.unacked_bytes = 0;
  l.breaks = 0;
  // What the receiver got of the old numbering is moot: it sees a new link from here on.
  l.link_id = drawLinkId();
  l.next_seq = 1;
}

void PeerLinks::setPeers(const std::vector<std::string>& addresses) {
  std::vector<std::shared_ptr<bridge::Session>> stale;
  {
    std::lock_guard lock(mu_);
    if (links_.size() < addresses.size()) links_.resize(addresses.size());
    for (size_t i = 0; i < links_.size(); ++i) {
      const std::string address = i < addresses.size() ? addresses[i] : std::string();
      Link& l = links_[i];
      if (l.address == address && l.link_id != 0) continue;
      if (l.session) stale.push_back(std::move(l.session));
      resetLink(l, address);
    }
  }
  for (auto& s : stale) s->close();
}

void PeerLinks::send(int device, wire::Envelope env) {
  std::lock_guard lock(mu_);
  if (device < 0 || device >= static_cast<int>(links_.size()) ||
      links_[static_cast<size_t>(device)].address.empty()) {
    log()->warn("a message to device {} dropped: the run has no address for it", device);
    return;
  }
  Link& l = links_[static_cast<size_t>(device)];
  if (l.session && !l.session->isOpen()) l.session.reset();
  Pending p{std::move(env), 0, 0};
  p.bytes = p.env.ByteSizeLong();
  if (l.waiting_bytes + l.unacked_bytes + p.bytes > policy_.max_waiting_bytes) {
    if (!l.dropping) {
      log()->warn(
          "a message to device {} dropped: {} bytes wait or are not acknowledged yet on the link "
          "to {} (at most {}); further drops are not logged until a message fits again",
          device, l.waiting_bytes + l.unacked_bytes, l.address, policy_.max_waiting_bytes);
    }
    l.dropping = true;
    return;
  }
  l.dropping = false;
  // While a dial is pending or its waiting messages go out, a new one waits behind them.
  if (!l.session || l.dialing) {
    l.waiting_bytes += p.bytes;
    l.waiting.push_back(std::move(p));
    if (!l.dialing) dialAfter(device, l, std::chrono::milliseconds(0));  // the first to wait
    return;
  }
  // Under the lock: numbers go to the session in order.
  transmit(l, std::move(p));
}

void PeerLinks::transmit(Link& l, Pending p) {
  if (!l.numbered) return l.session->send(std::move(p.env));
  p.seq = l.next_seq++;
  p.env.set_link_id(l.link_id);
  p.env.set_link_seq(p.seq);
  // Kept until acknowledged: a copy of its bytes (the session consumes what it sends).
  l.unacked_bytes += p.bytes;
  l.unacked.push_back(p);
  l.session->send(std::move(p.env));
}

void PeerLinks::dialAfter(int device, Link& l, std::chrono::milliseconds delay) {
  l.dialing = true;
  auto go = [this, alive = alive_, device, address = l.address, g = l.generation] {
    if (*alive) dial(device, address, g);
  };
  if (delay.count() == 0) {
    asio::post(io_, std::move(go));  // posted: dial() takes the lock
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, delay);
  timer->async_wait([timer, go = std::move(go)](const asio::error_code& ec) {
    if (!ec) go();
  });
}

void PeerLinks::dial(int device, const std::string& address, int generation) {
  auto to = bridge::parseHostPort(address);
  if (!to) {
    log()->error("device {}: bad address {}: {}", device, address, to.status().message());
    std::lock_guard lock(mu_);
    Link& l = links_[static_cast<size_t>(device)];
    if (l.generation != generation) return;
    dropEverything(l);
    l.dialing = false;
    return;
  }
  bridge::asyncConnect(io_, *to, token_, options_,
                       [this, alive = alive_, device, address,
                        generation](Result<std::shared_ptr<bridge::Session>> r) {
                         if (*alive) dialed(device, address, generation, std::move(r));
                       });
}

void PeerLinks::dialed(int device, const std::string& address, int generation,
                       Result<std::shared_ptr<bridge::Session>> r) {
  std::shared_ptr<bridge::Session> session;
  {
    std::lock_guard lock(mu_);
    Link& l = links_[static_cast<size_t>(device)];
    if (l.generation != generation) {  // the peer moved, or the run was reset, while we dialled
      if (r) (*r)->close();
      return;
    }
    if (!r) {
      const auto now = Clock::now();
      if (l.failures++ == 0) l.first_failure = now;
      if (now - l.first_failure >= policy_.give_up) {
        log()->warn("cannot reach device {} at {} for {} ms ({} dials): {}; {} message(s) dropped",
                    device, address, msSince(l.first_failure), l.failures, r.status().message(),
                    l.waiting.size() + l.unacked.size());
        l.dialing = false;
        l.failures = 0;
        l.warned = false;
        dropEverything(l);
        return;
      }
      const auto delay = policy_.retryDelay(l.failures - 1);
      if (!l.warned) {
        log()->warn("cannot reach device {} at {}: {}; {} message(s) wait, dialling again in {} ms",
                    device, address, r.status().message(), l.waiting.size() + l.unacked.size(),
                    delay.count());
      }
      l.warned = true;
      // Still `dialing`: sends keep joining the queue until the retry.
      dialAfter(device, l, delay);
      return;
    }
    if (l.failures > 0) {
      log()->info("reached device {} at {} after {} failed dial(s)", device, address, l.failures);
    }
    l.failures = 0;
    l.warned = false;
    l.session = *r;  // still `dialing`: sends keep joining the queue until it has gone out
    session = l.session;
    // An agent older than protocol 2.1 neither acknowledges nor drops duplicates: its link is
    // not numbered and keeps nothing (a break loses what the session had, as before).
    l.numbered = session->peerProtocolVersion() >= kResumeProtocolVersion;
    if (!l.numbered) {
      if (!l.unacked.empty()) {
        log()->warn(
            "device {} at {} speaks protocol {}, without resuming: {} message(s) a broken "
            "session may have lost are not sent again",
            device, address, session->peerProtocolVersion(), l.unacked.size());
      }
      l.unacked.clear();
      l.unacked_bytes = 0;
    }
  }
  start(session);
  if (hooks_.opened) hooks_.opened(session);  // outside the lock: it may ask for sessions()
  std::lock_guard lock(mu_);
  Link& l = links_[static_cast<size_t>(device)];
  if (l.generation != generation) return;  // reset meanwhile: the session was closed with it
  // Under the lock, so a concurrent send() cannot overtake: first what a broken session may
  // have lost (the receiver drops what it had delivered), then what waited.
  if (!l.unacked.empty()) {
    log()->info("link {} to device {} at {} resumed: envelopes {} to {} sent again",
                linkIdText(l.link_id), device, address, l.unacked.front().seq,
                l.unacked.back().seq);
  }
  for (const Pending& p : l.unacked) session->send(p.env);
  std::deque<Pending> waiting;
  waiting.swap(l.waiting);
  l.waiting_bytes = 0;
  l.dialing = false;
  for (auto& p : waiting) transmit(l, std::move(p));
}

void PeerLinks::start(const std::shared_ptr<bridge::Session>& s) {
  std::weak_ptr<bridge::Session> weak = s;
  s->start(
      [this, alive = alive_, weak](wire::Envelope&& env) {
        auto locked = weak.lock();
        if (!locked || !*alive) return;
        if (env.has_link_ack()) return onAck(locked, env.link_ack());
        if (hooks_.message) hooks_.message(locked, std::move(env));
      },
      [this, alive = alive_, weak](const Status& why) {
        auto locked = weak.lock();
        if (!locked || !*alive) return;
        if (hooks_.closed) hooks_.closed(locked, why);
        onClosed(locked, why);
      });
}

void PeerLinks::onAck(const std::shared_ptr<bridge::Session>& s, const wire::LinkAck& ack) {
  std::string error;
  int device = -1;
  {
    std::lock_guard lock(mu_);
    Link* l = nullptr;
    for (size_t i = 0; i < links_.size() && !l; ++i) {
      if (links_[i].session == s) l = &links_[i];
    }
    // A late acknowledgement on a session since replaced is still good news.
    for (size_t i = 0; i < links_.size() && !l; ++i) {
      if (links_[i].link_id == ack.link_id()) l = &links_[i];
    }
    if (!l) return;  // the link was reset since: moot
    device = static_cast<int>(l - links_.data());
    if (ack.link_id() != l->link_id) {
      error = "acknowledged link " + linkIdText(ack.link_id()) + " on a session of link " +
              linkIdText(l->link_id) + " (a link id that changed mid-session)";
    } else if (ack.seq() >= l->next_seq) {
      error = "acknowledged envelope " + std::to_string(ack.seq()) + " of link " +
              linkIdText(l->link_id) + ", but only " + std::to_string(l->next_seq - 1) +
              " were sent on it";
    } else {
      bool progress = false;
      while (!l->unacked.empty() && l->unacked.front().seq <= ack.seq()) {
        l->unacked_bytes -= l->unacked.front().bytes;
        l->unacked.pop_front();
        progress = true;
      }
      if (progress) l->breaks = 0;
      return;  // an older acknowledgement than one already had is harmless
    }
  }
  log()->error(
      "device {} ({}, {}) {}; closing that session: the link resumes on a new one from the last "
      "good acknowledgement",
      device, s->peerName(), s->remoteAddress(), error);
  s->close();
}

void PeerLinks::onClosed(const std::shared_ptr<bridge::Session>& s, const Status& why) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < links_.size(); ++i) {
    Link& l = links_[i];
    if (l.session != s) continue;
    l.session.reset();
    // Nothing to resume: the next send dials. A dial already pending resumes by itself.
    if ((l.unacked.empty() && l.waiting.empty()) || l.dialing) return;
    const int device = static_cast<int>(i);
    if (l.breaks++ == 0) {
      l.first_break = Clock::now();
    } else if (Clock::now() - l.first_break >= policy_.give_up) {
      log()->warn(
          "the link to device {} at {} broke {} times in {} ms without an acknowledgement ({}); "
          "{} message(s) dropped",
          device, l.address, l.breaks, msSince(l.first_break), why.message(),
          l.waiting.size() + l.unacked.size());
      dropEverything(l);
      return;
    }
    const auto delay =
        l.breaks == 1 ? std::chrono::milliseconds(0) : policy_.retryDelay(l.breaks - 2);
    log()->warn(
        "the link to device {} at {} broke ({}); {} message(s) not acknowledged are sent "
        "again on a new session{}",
        device, l.address, why.message(), l.unacked.size() + l.waiting.size(),
        delay.count() > 0 ? " in " + std::to_string(delay.count()) + " ms" : "");
    dialAfter(device, l, delay);
    return;
  }
}

PeerLinks::Unacknowledged PeerLinks::unacknowledged(int device) const {
  std::lock_guard lock(mu_);
  if (device < 0 || device >= static_cast<int>(links_.size())) return {};
  const Link& l = links_[static_cast<size_t>(device)];
  return {l.unacked.size(), l.unacked_bytes};
}

std::vector<std::shared_ptr<bridge::Session>> PeerLinks::sessions() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<bridge::Session>> out;
  for (const auto& l : links_) {
    if (l.session && l.session->isOpen()) out.push_back(l.session);
  }
  return out;
}

void PeerLinks::closeAll() {
  std::vector<std::shared_ptr<bridge::Session>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& l : links_) {
      if (l.session) all.push_back(std::move(l.session));
      resetLink(l, l.address);  // pending dials and retries are moot; a next run starts afresh
    }
  }
  for (auto& s : all) s->close();
}

}  // namespace edgerig
