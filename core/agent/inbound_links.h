// The receiving end of peers' data links (the sending end is peer_links.h): each numbered
// envelope of a link is delivered once and in order, whichever session it comes on, and is
// acknowledged back to its sender on the session it came on, so the sender can forget it.
//
// A link is named by its sender's link id (Envelope.link_id) and survives its sessions: after a
// break the sender dials again and first re-sends what was not acknowledged; what was delivered
// already is dropped here as a duplicate. Acknowledgements are cumulative and cheap: one per
// `every_frames` frames or `every_bytes` bytes of a link, or `every` after the first not yet
// acknowledged, whichever comes first. Unnumbered envelopes (an older peer) are delivered as they
// come. Bad numbering (a link id that changes mid-session, a sequence number that skips ahead,
// zero or implausibly large) is an error naming the peer; the caller closes that session, and
// its sender resumes from what was acknowledged. Memory: one small record per link, at most
// `max_links` (the least recently used is forgotten). Thread-safe.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "device_bridge/session.h"
#include "device_bridge/status.h"

namespace edgerig {

struct AckPolicy {
  uint32_t every_frames = 64;
  size_t every_bytes = size_t{8} << 20;
  std::chrono::milliseconds every{100};
  size_t max_links = 4096;
};

// Above this a sequence number is not a count of frames but garbage (2^62 frames would take
// centuries): refused, so that nothing downstream can wrap.
inline constexpr uint64_t kMaxLinkSeq = uint64_t{1} << 62;

// A link id as logs name it: 16 hex digits.
std::string linkIdText(uint64_t id);

class InboundLinks {
 public:
  explicit InboundLinks(asio::io_context& io, AckPolicy policy = {});
  ~InboundLinks();
  InboundLinks(const InboundLinks&) = delete;
  InboundLinks& operator=(const InboundLinks&) = delete;

  // `env` arrived on `s` from a peer. True: deliver it. False: a duplicate, dropped. An error:
  // bad numbering (the message names the peer and what to do); close `s`.
  Result<bool> admit(const std::shared_ptr<bridge::Session>& s, const wire::Envelope& env);
  // `s` closed: its link may continue on another session.
  void closed(const bridge::Session* s);

  uint64_t duplicatesDropped() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with the acknowledgement timer's handler
};

}  // namespace edgerig
