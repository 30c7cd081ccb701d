// An agent's outgoing data links: one session per peer device of the run, dialled on first use
// and used only to send (a peer's messages to us arrive on the session it dialled). Thread-safe.
//
// Reconnecting. A link with no open session (never dialled, or its session closed: a reset, the
// peer's end going away) is dialled by the next send; messages sent meanwhile wait, in order, and
// go out on the new session before anything sent after them. A dial that fails is tried again
// with capped exponential backoff (ReconnectPolicy: by default after 50, 100, 200, 400, 800 ms,
// then every 1 s) until `give_up` (the loss timeout, 3.5 s by default) has passed since the
// first failed dial; then the waiting messages are dropped with one warning, so a truly dead
// peer costs no memory and is declared lost by the controller's heartbeats as before. The next
// send starts over. Waiting messages are bounded (`max_waiting_bytes` a link): one that does not
// fit is dropped with a warning. Limits: what was already handed to a session that then broke
// (its write queue, the kernel's buffers) is lost with it; nothing is resent.
#pragma once

#include <asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "device_bridge/session.h"

namespace edgerig {

struct ReconnectPolicy {
  std::chrono::milliseconds first_retry{50};     // after the first failed dial
  double factor = 2;                             // each retry waits this much longer...
  std::chrono::milliseconds max_retry{1000};     // ...up to this
  std::chrono::milliseconds give_up{3500};       // since the first failed dial: stop, drop waiting
  size_t max_waiting_bytes = size_t{256} << 20;  // a link's waiting messages at most

  // The wait before retry k (0: the first retry).
  std::chrono::milliseconds retryDelay(int k) const;
};

class PeerLinks {
 public:
  // on_open runs (io thread) for every new session before anything is sent on it: start it
  // (with a close handler that keeps its traffic totals), shape it.
  PeerLinks(asio::io_context& io, std::string token, bridge::SessionOptions options,
            std::function<void(const std::shared_ptr<bridge::Session>&)> on_open,
            ReconnectPolicy policy = {});
  ~PeerLinks();

  // The run's devices by index. A link whose address changed (a restarted peer) is closed.
  void setPeers(const std::vector<std::string>& addresses);
  void send(int device, wire::Envelope env);
  // The open sessions (a closed one's traffic is the close handler's to keep).
  std::vector<std::shared_ptr<bridge::Session>> sessions() const;
  void closeAll();

 private:
  using Clock = std::chrono::steady_clock;
  struct Link {
    std::string address;
    std::shared_ptr<bridge::Session> session;
    bool dialing = false;                // a dial or a retry timer is pending
    int generation = 0;                  // bumped when the link is reset: stale dials are moot
    int failures = 0;                    // failed dials in a row
    Clock::time_point first_failure{};   // of this streak
    std::deque<wire::Envelope> waiting;  // sent while dialling, in order
    size_t waiting_bytes = 0;
    bool warned = false;  // a failed dial is logged once per streak
  };
  void dial(int device, const std::string& address, int generation);
  void dialed(int device, const std::string& address, int generation,
              Result<std::shared_ptr<bridge::Session>> r);

  asio::io_context& io_;
  std::string token_;
  bridge::SessionOptions options_;
  std::function<void(const std::shared_ptr<bridge::Session>&)> on_open_;
  ReconnectPolicy policy_;
  mutable std::mutex mu_;
  std::vector<Link> links_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for callbacks after destruction
};

}  // namespace edgerig
