#include "core/agent/peer_links.h"

#include "device_bridge/address.h"
#include "device_bridge/log.h"

namespace edgerig {
namespace {
auto log() { return bridge::logger("edgerig.agent"); }
}  // namespace

PeerLinks::PeerLinks(asio::io_context& io, std::string token, bridge::SessionOptions options,
                     std::function<void(const std::shared_ptr<bridge::Session>&)> on_open)
    : io_(io),
      token_(std::move(token)),
      options_(std::move(options)),
      on_open_(std::move(on_open)) {}

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
      l = Link{};
      l.address = address;
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
    if (!l.session || !l.session->isOpen()) {
      // It waits for the link; the first to wait dials (posted: dial() takes this lock).
      l.session.reset();
      l.waiting.push_back(std::move(env));
      if (!l.dialing) {
        l.dialing = true;
        asio::post(io_, [this, alive = alive_, device, address = l.address] {
          if (*alive) dial(device, address);
        });
      }
      return;
    }
    s = l.session;
  }
  s->send(std::move(env));
}

void PeerLinks::dial(int device, const std::string& address) {
  auto to = bridge::parseHostPort(address);
  if (!to) {
    log()->error("device {}: bad address {}: {}", device, address, to.status().message());
    std::lock_guard lock(mu_);
    links_[static_cast<size_t>(device)].waiting.clear();
    links_[static_cast<size_t>(device)].dialing = false;
    return;
  }
  bridge::asyncConnect(
      io_, *to, token_, options_,
      [this, alive = alive_, device, address](Result<std::shared_ptr<bridge::Session>> r) {
        if (!*alive) return;
        std::deque<wire::Envelope> waiting;
        std::shared_ptr<bridge::Session> session;
        {
          std::lock_guard lock(mu_);
          Link& l = links_[static_cast<size_t>(device)];
          if (l.address != address) {  // the peer moved while we dialled
            if (r) (*r)->close();
            return;
          }
          l.dialing = false;
          if (!r) {
            if (!l.warned) {
              log()->warn("cannot reach device {} at {}: {}; {} message(s) dropped", device,
                          address, r.status().message(), l.waiting.size());
            }
            l.warned = true;
            l.waiting.clear();
            return;
          }
          l.warned = false;
          l.session = *r;
          session = l.session;
          waiting.swap(l.waiting);
        }
        on_open_(session);
        for (auto& env : waiting) session->send(std::move(env));
      });
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
    }
  }
  for (auto& s : all) s->close();
}

}  // namespace edgerig
