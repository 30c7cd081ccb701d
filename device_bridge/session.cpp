// Session: starting, the thread-safe entry points, and reading frames. The paced write queue and
// closing live in session_write.cpp, the handshake and the heartbeats in session_handshake.cpp
// and session_liveness.cpp.
#include "device_bridge/session.h"

#include <asio/post.hpp>
#include <asio/read.hpp>

#include <algorithm>
#include <array>
#include <cstring>

#include "device_bridge/auth.h"
#include "device_bridge/bulk_frame.h"
#include "device_bridge/frame.h"
#include "device_bridge/log.h"
#include "device_bridge/session_tls.h"
#include "device_bridge/wire_error.h"

namespace edgerig::bridge {

namespace {

// A buffer this large is given back after use instead of being kept for the next frame.
constexpr size_t kKeepBodyBufferBytes = 64u << 20;

std::string endpointText(const asio::ip::tcp::socket& socket) {
  std::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown address";
  return HostPort{ep.address().to_string(), ep.port()}.str();
}

}  // namespace

Session::Session(Key, asio::ip::tcp::socket socket, SessionOptions options, std::string token)
    : socket_(std::move(socket)),
      options_(std::move(options)),
      token_(std::move(token)),
      phase_(Phase::kReady),
      remote_address_(endpointText(socket_)),
      write_timer_(socket_.get_executor()),
      handshake_timer_(socket_.get_executor()),
      heartbeat_timer_(socket_.get_executor()),
      watchdog_timer_(socket_.get_executor()),
      linger_timer_(socket_.get_executor()) {
  std::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);  // heartbeats must not wait for Nagle
}

Session::~Session() {
  std::error_code ec;
  socket_.close(ec);
}

std::string Session::who() const {
  return (peer_name_.empty() ? std::string("peer") : peer_name_) + " (" + remote_address_ + ")";
}

// ---------------------------------------------------------------------------------------------
// Public, thread-safe entry points: each posts to the io thread.

void Session::start(MessageHandler on_message, CloseHandler on_close) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), on_message = std::move(on_message),
                                      on_close = std::move(on_close)]() mutable {
    if (self->started_) {
      logger("edgerig.bridge")
          ->error("session with {}: start() called twice; ignored", self->who());
      return;
    }
    self->started_ = true;
    if (self->closing_) {  // closed before it was started: still say why, once
      if (on_close) on_close(self->close_status_);
      return;
    }
    self->on_message_ = std::move(on_message);
    self->on_close_ = std::move(on_close);
    self->phase_ = Phase::kRunning;
    self->startLiveness();
    self->readHeader();
    self->pumpWrites();
  });
}

void Session::send(wire::Envelope env) {
  const TrafficKind kind = kindOf(env);
  // Serialize on the caller's thread: the io thread only moves bytes.
  SplitFrame frame = encodeSplitFrame(std::move(env));
  queued_bytes_ += frame.size();
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), frame = std::move(frame), kind]() mutable {
               self->enqueue(std::move(frame.head), kind, /*urgent=*/false, /*counted=*/true,
                             std::move(frame.bulk));
             });
}

void Session::close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->beginClose({StatusCode::kAborted, "closed locally"}, /*flush=*/true,
                     wire::ERROR_CODE_UNSPECIFIED);
  });
}

void Session::setShape(const LinkShape& shape) {
  std::lock_guard lock(mutex_);
  shaper_.setShape(shape);
}

LinkShape Session::shape() const {
  std::lock_guard lock(mutex_);
  return shaper_.shape();
}

void Session::setPaused(bool paused) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), paused] { self->applyPaused(paused); });
}

TrafficCounters Session::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::optional<double> Session::rttMs() const {
  std::lock_guard lock(mutex_);
  return rtt_ms_;
}

// ---------------------------------------------------------------------------------------------
// Reading: header, then the body in as few reads as the kernel allows.

void Session::readHeader() {
  if (closing_ || reading_ || budget_wait_ != 0) return;
  if (phase_ == Phase::kTlsHandshake) return;  // TLS reads the socket until it is up
  if (paused_ && phase_ == Phase::kRunning) {
    read_parked_ = true;
    return;
  }
  reading_ = true;
  readExactly(asio::buffer(header_),
              [self = shared_from_this()](std::error_code ec, size_t) { self->onHeader(ec); });
}

void Session::onHeader(std::error_code ec) {
  reading_ = false;
  if (closing_) return drain();
  if (ec) return readFailed(ec, "reading a frame header");
  last_received_ = Clock::now();
  const uint32_t length = decodeLength(header_);
  // Checked before anything is allocated: a hostile length must not cost memory. A stranger
  // gets the small pre-authentication limit.
  if (handshaking()) {
    if (length > options_.limits.preauth_max_frame_bytes) {
      return protocolError(wire::ERROR_CODE_FRAME_TOO_LARGE,
                           "frame of " + std::to_string(length) +
                               " bytes before authentication exceeds the limit of " +
                               std::to_string(options_.limits.preauth_max_frame_bytes) +
                               " bytes (the handshake's messages are tiny)");
    }
  } else if (length > options_.max_frame_bytes) {
    return protocolError(wire::ERROR_CODE_FRAME_TOO_LARGE,
                         "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                             std::to_string(options_.max_frame_bytes) + " bytes");
  } else if (length > options_.limits.connection_budget_bytes) {
    return protocolError(wire::ERROR_CODE_FRAME_TOO_LARGE,
                         "frame of " + std::to_string(length) +
                             " bytes exceeds this connection's budget of " +
                             std::to_string(options_.limits.connection_budget_bytes) + " bytes");
  } else if (options_.memory_budget && length > options_.memory_budget->limit()) {
    return protocolError(wire::ERROR_CODE_FRAME_TOO_LARGE,
                         "frame of " + std::to_string(length) +
                             " bytes exceeds the agent's whole memory budget of " +
                             std::to_string(options_.memory_budget->limit()) + " bytes");
  }
  if (handshaking() || !options_.memory_budget) {
    pending_length_ = length;
    return readFrameBody();
  }
  reserveFrame(length);
}

void Session::reserveFrame(uint32_t length) {
  pending_length_ = length;
  // Buffers kept for reuse count against the connection's budget: let them go first if this
  // frame would not fit beside them.
  if (kept_reserved_ + length > options_.limits.connection_budget_bytes) {
    dropKeptBuffers();
    settleKeptBuffers();
  }
  const size_t need = length;
  if (need == 0 || options_.memory_budget->tryReserve(need)) {
    frame_reserved_ = need;
    return readFrameBody();
  }
  // The agent is at its budget: free what we keep, and wait our turn. Reading stops, so the
  // sender's TCP window closes instead of our memory growing.
  dropKeptBuffers();
  settleKeptBuffers();
  auto budget = options_.memory_budget;
  std::weak_ptr<Session> weak = shared_from_this();
  const auto executor = socket_.get_executor();
  budget_wait_ = budget->reserveWhenFree(need, [weak, budget, need, executor] {
    asio::post(executor, [weak, budget, need] {
      auto self = weak.lock();
      if (!self || self->closing_) {
        budget->release(need);
        return;
      }
      self->budget_wait_ = 0;
      self->frame_reserved_ = need;
      self->readFrameBody();
    });
  });
  // Granted at once (a release raced us): the posted handler clears budget_wait_.
}

void Session::readFrameBody() {
  const uint32_t length = pending_length_;
  body_size_ = length;
  body_got_ = 0;
  // A large frame is probed first: if it is a tensor frame, its bytes go straight to bulk_.
  read_mode_ = length >= 2 * kBulkProbeBytes ? ReadMode::kProbe : ReadMode::kPlain;
  read_limit_ = read_mode_ == ReadMode::kProbe ? kBulkProbeBytes : length;
  if (read_limit_ > body_capacity_) {
    body_.reset(new char[read_limit_]);
    body_capacity_ = read_limit_;
  }
  if (rx_mac_) {
    rx_mac_->begin();
    rx_mac_->add(std::string_view(reinterpret_cast<const char*>(header_), sizeof header_));
  }
  if (length == 0) return bodyDone();
  readBody();
}

size_t Session::keptBytes() const {
  // A string's own small buffer is no allocation; recycleBulk keeps only large ones.
  const size_t spare = spare_bulk_.capacity() >= kBulkThresholdBytes ? spare_bulk_.capacity() : 0;
  return body_capacity_ + spare;
}

void Session::settleKeptBuffers() {
  if (!options_.memory_budget || handshaking()) return;
  const size_t kept = keptBytes();
  if (kept < kept_reserved_) {
    options_.memory_budget->release(kept_reserved_ - kept);
    kept_reserved_ = kept;
  } else if (kept > kept_reserved_) {
    if (kept <= options_.limits.connection_budget_bytes &&
        options_.memory_budget->tryReserve(kept - kept_reserved_)) {
      kept_reserved_ = kept;
    } else {
      // No room to keep them: give them back rather than hold memory nobody reserved.
      dropKeptBuffers();
      options_.memory_budget->release(kept_reserved_);
      kept_reserved_ = 0;
    }
  }
  if (kept_reserved_ > 0 && reclaimer_ == 0) {
    std::weak_ptr<Session> weak = shared_from_this();
    const auto executor = socket_.get_executor();
    reclaimer_ = options_.memory_budget->addReclaimer([weak, executor] {
      asio::post(executor, [weak] {
        auto self = weak.lock();
        // Only between frames: during one, its buffers are the frame's.
        if (!self || self->closing_ || self->frame_reserved_ > 0 || self->budget_wait_ != 0) return;
        self->dropKeptBuffers();
        self->settleKeptBuffers();
      });
    });
  }
}

void Session::dropKeptBuffers() {
  body_.reset();
  body_capacity_ = 0;
  spare_bulk_ = std::string();
}

void Session::releaseBudget() {
  if (!options_.memory_budget) return;
  if (reclaimer_ != 0) options_.memory_budget->removeReclaimer(reclaimer_);
  reclaimer_ = 0;
  if (budget_wait_ != 0 && options_.memory_budget->cancel(budget_wait_)) budget_wait_ = 0;
  options_.memory_budget->release(frame_reserved_ + kept_reserved_);
  frame_reserved_ = kept_reserved_ = 0;
}

void Session::onProbe() {
  const std::string_view probe(body_.get(), body_got_);
  const std::optional<BulkLayout> layout = findBulkLayout(probe, body_size_);
  if (!layout) {
    // Not a tensor frame we can split: read the rest behind the probe and parse as usual.
    if (body_capacity_ < body_size_) {
      std::unique_ptr<char[]> bigger(new char[body_size_]);
      std::memcpy(bigger.get(), body_.get(), body_got_);
      body_ = std::move(bigger);
      body_capacity_ = body_size_;
    }
    read_mode_ = ReadMode::kPlain;
    read_limit_ = body_size_;
    return readBody();
  }
  bulk_offset_ = layout->data_offset;
  const size_t data_bytes = body_size_ - bulk_offset_;
  // A recycled buffer is only cut to size (or filled past its old size), never cleared.
  bulk_ = spare_bulk_.capacity() >= data_bytes ? std::move(spare_bulk_) : std::string();
  spare_bulk_ = std::string();
  bulk_.resize(data_bytes);
  std::memcpy(bulk_.data(), body_.get() + bulk_offset_, body_got_ - bulk_offset_);
  read_mode_ = ReadMode::kBulk;
  read_limit_ = body_size_;
  if (body_got_ == body_size_) return bodyDone();
  readBody();
}

void Session::readBody() {
  reading_ = true;
  char* const into = read_mode_ == ReadMode::kBulk ? bulk_.data() + (body_got_ - bulk_offset_)
                                                   : body_.get() + body_got_;
  readSomeInto(asio::buffer(into, read_limit_ - body_got_),
               [self = shared_from_this(), into](std::error_code ec, size_t n) {
                 self->reading_ = false;
                 if (self->closing_) return self->drain();
                 if (ec) return self->readFailed(ec, "reading a frame body");
                 // Progress counts as life: a big frame on a slow link may take longer than
                 // loss_timeout.
                 self->last_received_ = Clock::now();
                 // MAC'd as it lands, while the bytes are still in cache.
                 if (self->rx_mac_) self->rx_mac_->add(std::string_view(into, n));
                 self->body_got_ += n;
                 if (self->body_got_ < self->read_limit_) return self->readBody();
                 if (self->read_mode_ == ReadMode::kProbe) return self->onProbe();
                 self->bodyDone();
               });
}

void Session::bodyDone() {
  if (!rx_mac_) return onFrame();
  reading_ = true;
  readExactly(asio::buffer(tag_in_), [self = shared_from_this()](std::error_code ec, size_t) {
    self->reading_ = false;
    if (self->closing_) return self->drain();
    if (ec) return self->readFailed(ec, "reading a frame's MAC");
    if (!self->macVerified()) {
      return self->protocolError(
          wire::ERROR_CODE_BAD_MAC,
          "frame " + std::to_string(self->rx_mac_->sequence() - 1) +
              " failed its integrity check (altered, replayed or reordered on the way); "
              "closing the connection");
    }
    self->onFrame();
  });
}

bool Session::macVerified() {
  const FrameMac::Tag expected = rx_mac_->finish();
  return constantTimeEqual(std::string_view(expected.data(), expected.size()),
                           std::string_view(tag_in_.data(), tag_in_.size()));
}

void Session::onFrame() {
  Result<wire::Envelope> decoded = wire::Envelope{};
  if (read_mode_ == ReadMode::kBulk) {
    const std::string_view prefix(body_.get(), bulk_offset_);
    std::optional<BulkLayout> layout = findBulkLayout(prefix, body_size_);
    decoded = layout ? assembleBulk(prefix, *layout, std::move(bulk_))
                     : Result<wire::Envelope>(internalError("bulk frame layout changed"));
    bulk_ = std::string();
    read_mode_ = ReadMode::kPlain;
  } else {
    decoded = decodeBody(std::string_view(body_.get(), body_size_));
  }
  const size_t frame_bytes = kFrameHeaderBytes + body_size_ + (rx_mac_ ? kFrameMacBytes : 0);
  if (body_capacity_ > kKeepBodyBufferBytes) {
    body_.reset();
    body_capacity_ = 0;
  }
  if (!decoded) {
    {
      std::lock_guard lock(mutex_);
      counters_.received[static_cast<size_t>(TrafficKind::kControl)] += frame_bytes;
    }
    return protocolError(wire::ERROR_CODE_BAD_FRAME, decoded.status().message());
  }
  wire::Envelope env = std::move(decoded).value();
  {
    std::lock_guard lock(mutex_);
    counters_.received[static_cast<size_t>(kindOf(env))] += frame_bytes;
  }
  const uint32_t version = env.protocol_version();
  if (version / 100 != kProtocolMajor) {
    return protocolError(wire::ERROR_CODE_VERSION_MISMATCH,
                         "peer speaks protocol " + std::to_string(version / 100) + "." +
                             std::to_string(version % 100) + ", this side speaks " +
                             std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor) +
                             "; run the same edgerig release on both sides");
  }
  if (env.body_case() == wire::Envelope::BODY_NOT_SET) {
    return protocolError(wire::ERROR_CODE_UNKNOWN_MESSAGE,
                         "envelope without a body (a message type this release does not know?)");
  }
  if (env.has_error()) return closeFromPeer(env.error());
  if (phase_ != Phase::kRunning) {
    handleHandshake(std::move(env));
  } else if (paused_) {
    parked_ = std::move(env);
    read_parked_ = true;
    finishFrameMemory();
    return;
  } else {
    dispatch(std::move(env));
  }
  finishFrameMemory();
  if (phase_ != Phase::kReady) readHeader();
}

void Session::finishFrameMemory() {
  if (!options_.memory_budget || closing_) return;
  // The message is delivered (or parked): its bytes are the handler's now.
  options_.memory_budget->release(frame_reserved_);
  frame_reserved_ = 0;
  settleKeptBuffers();
}

void Session::dispatch(wire::Envelope&& env) {
  switch (env.body_case()) {
    case wire::Envelope::kHello:
    case wire::Envelope::kChallenge:
    case wire::Envelope::kAuth:
    case wire::Envelope::kWelcome:
      return protocolError(wire::ERROR_CODE_OUT_OF_ORDER, "handshake message (field " +
                                                              std::to_string(env.body_case()) +
                                                              ") after the handshake was done");
    case wire::Envelope::kHeartbeat:
      return onHeartbeat(env.heartbeat());
    case wire::Envelope::kHeartbeatAck:
      return onHeartbeatAck(env.heartbeat_ack());
    default:
      if (!on_message_) return;
      on_message_(std::move(env));
      recycleBulk(env);
  }
}

void Session::recycleBulk(wire::Envelope& env) {
  // The handler took an rvalue reference; if it did not move the message (or its tensor
  // bytes) away, the buffer is ours again.
  std::string* data = bulkDataOf(env);
  if (data == nullptr || data->capacity() < kBulkThresholdBytes ||
      data->capacity() > kKeepBodyBufferBytes || data->capacity() <= spare_bulk_.capacity()) {
    return;
  }
  spare_bulk_.swap(*data);
}

void Session::readFailed(std::error_code ec, const char* what) {
  if (ec == asio::error::eof) {
    return fail(unavailable(who() + " closed the connection"));
  }
  if (ec == asio::error::operation_aborted) return;  // we closed the socket ourselves
  fail(unavailable("connection to " + who() + " failed while " + what + ": " + ec.message()));
}

}  // namespace edgerig::bridge
