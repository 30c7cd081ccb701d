// An agent's outgoing data links: one session per peer device of the run, dialled on first use
// and used only to send (a peer's messages to us arrive on the session it dialled; what comes
// back on ours is the receiver's acknowledgements). Thread-safe.
//
// Resuming. Every envelope of a link is numbered (Envelope.link_id and link_seq: the link id is
// drawn when the link's peer address is set, and again when the link is given up, so a restarted
// sender or peer starts afresh) and kept until the receiver (inbound_links.h) acknowledges it.
// When a session breaks while envelopes are not acknowledged, the link is dialled again at once
// (with the backoff below if it breaks again before any acknowledgement), and the new session
// first re-sends those, in order, then what waited; the receiver drops what it had delivered
// already. A transient break loses nothing and duplicates nothing. A bad acknowledgement (of an
// envelope never sent, of another link) is logged as an error naming the peer and closes that
// session; the link resumes on a new one.
//
// Reconnecting. A link with no open session (never dialled, or its session closed) is dialled
// by the next send, or at once if it holds envelopes not acknowledged; messages sent meanwhile
// wait, in order, and go out on the new session before anything sent after them. A dial that
// fails is tried again with capped exponential backoff (ReconnectPolicy: by default after 50,
// 100, 200, 400, 800 ms, then every 1 s) until `give_up` (the loss timeout, 3.5 s by default)
// has passed since the first failed dial (or since the first of breaks in a row without an
// acknowledgement); then the waiting and unacknowledged messages are dropped with one warning,
// so a truly dead peer costs no memory and is declared lost by the controller's heartbeats as
// before. The next send starts over, on a new link id. Waiting plus unacknowledged messages are
// bounded (`max_waiting_bytes` a link): one that does not fit is dropped, with one warning until
// one fits again.
#pragma once

#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "device_bridge/session.h"

namespace edgerig {

// The first protocol version whose agents acknowledge numbered data links (2.1). An older peer's
// link is not numbered: it works as before, without resuming.
inline constexpr uint32_t kResumeProtocolVersion = 201;

struct ReconnectPolicy {
  std::chrono::milliseconds first_retry{50};     // after the first failed dial
  double factor = 2;                             // each retry waits this much longer...
  std::chrono::milliseconds max_retry{1000};     // ...up to this
  std::chrono::milliseconds give_up{3500};       // since the first failed dial: stop, drop waiting
  size_t max_waiting_bytes = size_t{256} << 20;  // a link's waiting + unacknowledged messages

  // The wait before retry k (0: the first retry).
  std::chrono::milliseconds retryDelay(int k) const;
};

// What the agent does with its links' sessions (each runs on the io thread).
struct PeerLinkHooks {
  // A new session, started, before anything is sent on it: shape it.
  std::function<void(const std::shared_ptr<bridge::Session>&)> opened;
  // Anything but an acknowledgement that comes back on a link.
  std::function<void(const std::shared_ptr<bridge::Session>&, wire::Envelope&&)> message;
  // A session closed, with the reason: keep its traffic totals.
  std::function<void(const std::shared_ptr<bridge::Session>&, const Status&)> closed;
};

class PeerLinks {
 public:
  PeerLinks(asio::io_context& io, std::string token, bridge::SessionOptions options,
            PeerLinkHooks hooks, ReconnectPolicy policy = {});
  ~PeerLinks();

  // The run's devices by index. A link whose address changed (a restarted peer) is closed and
  // starts afresh (a new link id, nothing kept).
  void setPeers(const std::vector<std::string>& addresses);
  void send(int device, wire::Envelope env);
  // The open sessions (a closed one's traffic is the close handler's to keep).
  std::vector<std::shared_ptr<bridge::Session>> sessions() const;
  void closeAll();

  // Envelopes handed to a session and not acknowledged yet, and their bytes.
  struct Unacknowledged {
    size_t frames = 0, bytes = 0;
  };
  Unacknowledged unacknowledged(int device) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    wire::Envelope env;
    size_t bytes = 0;  // env.ByteSizeLong() before numbering, as counted in the bound
    uint64_t seq = 0;  // its link_seq once numbered
  };
  struct Link {
    std::string address;
    std::shared_ptr<bridge::Session> session;
    bool dialing = false;               // a dial or a retry timer is pending
    int generation = 0;                 // bumped when the link is reset: stale dials are moot
    int failures = 0;                   // failed dials in a row
    Clock::time_point first_failure{};  // of this streak
    std::deque<Pending> waiting;        // sent while dialling, in order, not numbered yet
    size_t waiting_bytes = 0;
    bool warned = false;  // a failed dial is logged once per streak
    // Resuming.
    uint64_t link_id = 0;
    uint64_t next_seq = 1;
    std::deque<Pending> unacked;  // numbered, handed to a session, in order
    size_t unacked_bytes = 0;
    int breaks = 0;  // sessions broken in a row with no acknowledgement in between
    Clock::time_point first_break{};
    bool dropping = false;  // a drop was warned about; cleared when a message fits again
    bool numbered = true;   // the peer resumes (protocol 2.1 on): number and keep
  };
  // Caller holds mu_.
  void resetLink(Link& l, std::string address);
  void dropEverything(Link& l);
  void transmit(Link& l, Pending p);
  void dialAfter(int device, Link& l, std::chrono::milliseconds delay);
  uint64_t drawLinkId();
  // io thread.
  void dial(int device, const std::string& address, int generation);
  void dialed(int device, const std::string& address, int generation,
              Result<std::shared_ptr<bridge::Session>> r);
  void start(const std::shared_ptr<bridge::Session>& s);
  void onAck(const std::shared_ptr<bridge::Session>& s, const wire::LinkAck& ack);
  void onClosed(const std::shared_ptr<bridge::Session>& s, const Status& why);

  asio::io_context& io_;
  std::string token_;
  bridge::SessionOptions options_;
  PeerLinkHooks hooks_;
  ReconnectPolicy policy_;
  mutable std::mutex mu_;
  std::vector<Link> links_;
  std::mt19937_64 rng_;
  // For callbacks after destruction.
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace edgerig
