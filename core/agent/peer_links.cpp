#include "core/agent/peer_links.h"

#include <algorithm>
#include <cmath>

#include "device_bridge/address.h"
#include "device_bridge/log.h"

namespace edgerig {
namespace {
auto log() { return bridge::logger("edgerig.agent"); }
}  // namespace

std::chrono::milliseconds ReconnectPolicy::retryDelay(int k) const {
  const double ms = static_cast<double>(first_retry.count()) * std::pow(factor, std::max(0, k));
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::min(ms, static_cast<double>(max_retry.count()))));
}

PeerLinks::PeerLinks(asio::io_context& io, std::string token, bridge::SessionOptions options,
                     std::function<void(const std::shared_ptr<bridge::Session>&)> on_open,
                     ReconnectPolicy policy)
    : io_(io),
      token_(std::move(token)),
      options_(std::move(options)),
      on_open_(std::move(on_open)),
      policy_(policy) {}

PeerLinks::~PeerLinks() {
  std::lock_guard lock(mu_);
  *alive_ = false;
}

void PeerLinks::setPeers(const std::vector<std::string>& addresses) {
  std::vector<std::shared_ptr<bridge::Session>> stale;
  {
    std::lock_guard lock(mu_);
    if (links_.size() < addresses.size()) links_.resize(addresses.size());
    for (size_t i = 0; i < links_.size(); ++i) {
      const std::string address = i < addresses.size() ? addresses[i] : std::string();
      Link& l = links_[i];
      if (l.address == address) continue;
      if (l.session) stale.push_back(std::move(l.session));
      const int generation = l.generation + 1;
      l = Link{};
      l.address = address;
      l.generation = generation;
    }
  }
  for (auto& s : stale) s->close();
}

void PeerLinks::send(int device, wire::Envelope env) {
  std::shared_ptr<bridge::Session> s;
  {
    std::lock_guard lock(mu_);
    if (device < 0 || device >= static_cast<int>(links_.size()) ||
        links_[static_cast<size_t>(device)].address.empty()) {
      log()->warn("a message to device {} dropped: the run has no address for it", device);
      return;
    }
    Link& l = links_[static_cast<size_t>(device)];
    if (l.session && !l.session->isOpen()) l.session.reset();
    // While a dial is pending or its waiting messages go out, a new one waits behind them.
    if (!l.session || l.dialing) {
      const size_t bytes = env.ByteSizeLong();
      if (l.waiting_bytes + bytes > policy_.max_waiting_bytes) {
        log()->warn(
            "a message to device {} dropped: {} bytes already wait for the link to {} (at most {})",
            device, l.waiting_bytes, l.address, policy_.max_waiting_bytes);
        return;
      }
      l.waiting_bytes += bytes;
      l.waiting.push_back(std::move(env));
      if (!l.dialing) {
        // The first to wait dials (posted: dial() takes this lock).
        l.dialing = true;
        asio::post(io_, [this, alive = alive_, device, address = l.address, g = l.generation] {
          if (*alive) dial(device, address, g);
        });
      }
      return;
    }
    s = l.session;
  }
  s->send(std::move(env));
}

void PeerLinks::dial(int device, const std::string& address, int generation) {
  auto to = bridge::parseHostPort(address);
  if (!to) {
    log()->error("device {}: bad address {}: {}", device, address, to.status().message());
    std::lock_guard lock(mu_);
    Link& l = links_[static_cast<size_t>(device)];
    if (l.generation != generation) return;
    l.waiting.clear();
    l.waiting_bytes = 0;
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
  std::deque<wire::Envelope> waiting;
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
        log()->warn(
            "cannot reach device {} at {} for {} ms ({} dials): {}; {} message(s) dropped", device,
            address,
            std::chrono::duration_cast<std::chrono::milliseconds>(now - l.first_failure).count(),
            l.failures, r.status().message(), l.waiting.size());
        l.dialing = false;
        l.failures = 0;
        l.warned = false;
        l.waiting.clear();
        l.waiting_bytes = 0;
        return;
      }
      const auto delay = policy_.retryDelay(l.failures - 1);
      if (!l.warned) {
        log()->warn("cannot reach device {} at {}: {}; {} message(s) wait, dialling again in {} ms",
                    device, address, r.status().message(), l.waiting.size(), delay.count());
      }
      l.warned = true;
      // Still `dialing`: sends keep joining the queue until the retry.
      auto timer = std::make_shared<asio::steady_timer>(io_, delay);
      timer->async_wait(
          [this, alive = alive_, timer, device, address, generation](const asio::error_code& ec) {
            if (!ec && *alive) dial(device, address, generation);
          });
      return;
    }
    if (l.failures > 0) {
      log()->info("reached device {} at {} after {} failed dial(s)", device, address, l.failures);
    }
    l.failures = 0;
    l.warned = false;
    l.session = *r;  // still `dialing`: sends keep joining the queue until it has gone out
    session = l.session;
  }
  on_open_(session);  // outside the lock: it may ask for sessions()
  std::lock_guard lock(mu_);
  Link& l = links_[static_cast<size_t>(device)];
  if (l.generation != generation) return;  // reset meanwhile: the session was closed with it
  // Sent under the lock, so a concurrent send() cannot overtake the queue.
  waiting.swap(l.waiting);
  l.waiting_bytes = 0;
  l.dialing = false;
  for (auto& env : waiting) session->send(std::move(env));
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
      l.waiting.clear();
      l.waiting_bytes = 0;
      l.dialing = false;
      l.failures = 0;
      ++l.generation;  // pending dials and retries are moot
    }
  }
  for (auto& s : all) s->close();
}

}  // namespace edgerig
