// An agent's outgoing data links: one session per peer device of the run, dialled on first use
// and used only to send (a peer's messages to us arrive on the session it dialled). Messages
// sent while a link is being dialled wait for it; a link that closes is dialled again on the
// next send. Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "device_bridge/session.h"

namespace edgerig {

class PeerLinks {
 public:
  // on_open runs (io thread) for every new session before anything is sent on it: start it
  // (with a close handler that keeps its traffic totals), shape it.
  PeerLinks(asio::io_context& io, std::string token, bridge::SessionOptions options,
            std::function<void(const std::shared_ptr<bridge::Session>&)> on_open);
  ~PeerLinks();

  // The run's devices by index. A link whose address changed (a restarted peer) is closed.
  void setPeers(const std::vector<std::string>& addresses);
  void send(int device, wire::Envelope env);
  // The open sessions (a closed one's traffic is the close handler's to keep).
  std::vector<std::shared_ptr<bridge::Session>> sessions() const;
  void closeAll();

 private:
  struct Link {
    std::string address;
    std::shared_ptr<bridge::Session> session;
    bool dialing = false;
    std::deque<wire::Envelope> waiting;  // sent while dialling
    bool warned = false;                 // a failed dial is logged once per address
  };
  void dial(int device, const std::string& address);

  asio::io_context& io_;
  std::string token_;
  bridge::SessionOptions options_;
  std::function<void(const std::shared_ptr<bridge::Session>&)> on_open_;
  mutable std::mutex mu_;
  std::vector<Link> links_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for callbacks after destruction
};

}  // namespace edgerig
