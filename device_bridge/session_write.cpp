// Session: the paced write queue (one write in flight, the shaper deciding when each queued
// frame may go) and closing (every path ends in forceClose). Reading is in session.cpp.
#include <asio/post.hpp>

#include <algorithm>
#include <array>
#include <chrono>

#include "device_bridge/frame.h"
#include "device_bridge/log.h"
#include "device_bridge/session.h"
#include "device_bridge/session_tls.h"
#include "device_bridge/wire_error.h"

namespace edgerig::bridge {

// ---------------------------------------------------------------------------------------------
// Writing: one write in flight; the shaper decides when each queued frame may go.

void Session::enqueue(std::string frame, TrafficKind kind, bool urgent, bool counted,
                      std::string bulk) {
  const size_t size = frame.size() + bulk.size();
  // send() counts its bytes at once, so queuedBytes() is right before the post runs.
  if (!counted) queued_bytes_ += size;
  if (closing_ && !urgent) {
    queued_bytes_ -= size;
    return;
  }
  const Clock::time_point now = Clock::now();
  if (!urgent && size - kFrameHeaderBytes > options_.max_frame_bytes) {
    queued_bytes_ -= size;
    return fail(invalidArgument("refusing to send a frame of " + std::to_string(size) +
                                " bytes to " + who() + ": above max_frame_bytes (" +
                                std::to_string(options_.max_frame_bytes) +
                                "); split the message or raise the limit on both sides"));
  }
  Outgoing out{std::move(frame), std::move(bulk), kind, now};
  out.protect = tx_protect_;
  if (urgent) {
    // A heartbeat sees the link's latency but not the queue of bulk data ahead of it.
    std::lock_guard lock(mutex_);
    const LinkShape shape = shaper_.shape();
    if (!closing_ && shape.active()) {
      out.due += std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double, std::milli>(shape.delay_ms + shape.jitter_ms / 2));
    }
    urgent_.push_back(std::move(out));
  } else {
    {
      std::lock_guard lock(mutex_);
      if (shaper_.shape().active()) out.due = shaper_.schedule(out.size(), now);
    }
    data_.push_back(std::move(out));
  }
  pumpWrites();
}

void Session::pumpWrites() {
  if (writing_ || phase_ == Phase::kClosed || !socket_.is_open()) return;
  if (paused_ && !closing_) return;
  if (urgent_.empty() && data_.empty()) {
    if (closing_) return finishSocket();
    if (auto then = std::move(after_flush_)) {
      after_flush_ = nullptr;
      then();
    }
    return;
  }
  const Clock::time_point now = Clock::now();
  std::deque<Outgoing>* from = nullptr;
  if (!urgent_.empty() && (data_.empty() || urgent_.front().due <= data_.front().due)) {
    from = &urgent_;
  } else {
    from = &data_;
  }
  const Clock::time_point due = from->front().due;
  if (due > now && !closing_) {
    if (!write_timer_due_ || *write_timer_due_ > due) {
      write_timer_due_ = due;
      write_timer_.expires_at(due);
      write_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
        if (ec == asio::error::operation_aborted) return;
        self->write_timer_due_.reset();
        self->pumpWrites();
      });
    }
    return;
  }
  current_ = std::move(from->front());
  from->pop_front();
  if (current_.protect && tx_mac_) {
    // Tagged in write order, which is the order the peer verifies in.
    current_.tag = tx_mac_->next({current_.frame, current_.bulk});
    current_.tag_bytes = kFrameMacBytes;
  }
  writing_ = true;
  written_ = 0;
  write_progress_ = now;
  writeSome();
}

void Session::writeSome() {
  // async_write would cut the frame into 64 KiB writes; handing the kernel the whole remainder
  // (head, tensor bytes and MAC in one gather write) lets it take all the socket buffer holds.
  std::array<asio::const_buffer, 3> rest{asio::buffer(current_.frame), asio::buffer(current_.bulk),
                                         asio::buffer(current_.tag.data(), current_.tag_bytes)};
  size_t skip = written_;
  for (auto& b : rest) {
    const size_t n = std::min(skip, b.size());
    b += n;
    skip -= n;
  }
  writeSomeFrom(rest, [self = shared_from_this()](std::error_code ec, size_t n) {
    if (self->phase_ == Phase::kClosed) return;
    if (ec) {
      self->queued_bytes_ -= self->current_.size();
      self->writing_ = false;
      if (self->closing_ || ec == asio::error::operation_aborted) return self->forceClose();
      return self->fail(unavailable("writing to " + self->who() + " failed: " + ec.message()));
    }
    self->written_ += n;
    self->write_progress_ = Clock::now();
    if (self->written_ < self->current_.wireSize()) return self->writeSome();
    {
      std::lock_guard lock(self->mutex_);
      self->counters_.sent[static_cast<size_t>(self->current_.kind)] += self->current_.wireSize();
    }
    self->queued_bytes_ -= self->current_.size();
    self->current_ = Outgoing{};
    self->writing_ = false;
    self->pumpWrites();
  });
}

// ---------------------------------------------------------------------------------------------
// Closing. Every path ends in forceClose(); the handler hears the reason exactly once.

void Session::fail(Status status, wire::ErrorCode send_code) {
  beginClose(std::move(status), /*flush=*/false, send_code);
}

void Session::protocolError(wire::ErrorCode code, const std::string& detail) {
  fail(Status(statusCodeFor(code),
              std::string(errorCodeName(code)) + " from " + who() + ": " + detail),
       code);
}

void Session::closeFromPeer(const wire::Error& error) {
  const auto code = static_cast<wire::ErrorCode>(error.code());
  fail(Status(statusCodeFor(code),
              who() + " reported " + errorCodeName(code) + ": " + error.detail()));
}

void Session::beginClose(Status status, bool flush, wire::ErrorCode send_code) {
  if (closing_ || phase_ == Phase::kClosed) return;
  closing_ = true;
  open_ = false;
  close_status_ = status;
  handshake_timer_.cancel();
  heartbeat_timer_.cancel();
  watchdog_timer_.cancel();
  write_timer_.cancel();
  write_timer_due_.reset();
  parked_.reset();

  auto log = logger("edgerig.bridge");
  if (options_.refusals && handshaking()) {
    // A stranger refused (a scanner, a script in a loop, a wrong token): once per address.
    const std::string host = remote_address_.substr(0, remote_address_.rfind(':'));
    const bool first = options_.refusals->firstFor(host);
    log->log(first ? spdlog::level::warn : spdlog::level::debug, "refused {}: {}{}", who(),
             status.message(), first ? " (further refusals of this address are not logged)" : "");
  } else if (status.code() == StatusCode::kAborted) {
    log->debug("session with {}: {}", who(), status.message());
  } else if (status.code() == StatusCode::kUnavailable) {
    log->info("session with {}: {}", who(), status.message());
  } else {
    log->warn("closing session with {}: {}", who(), status.message());
  }

  if (!flush) {
    for (auto* q : {&data_, &urgent_}) {
      for (const auto& o : *q) queued_bytes_ -= o.size();
      q->clear();
    }
  }
  if (send_code != wire::ERROR_CODE_UNSPECIFIED) {
    wire::Envelope err = makeError(send_code, status.message());
    enqueue(encodeFrame(err), TrafficKind::kControl, /*urgent=*/true);
  }
  linger_timer_.expires_after(kCloseLinger);
  linger_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec != asio::error::operation_aborted) self->forceClose();
  });
  pumpWrites();

  // Tell whoever is waiting. Handlers are moved out first: they may drop the last reference.
  if (auto done = std::move(handshake_done_)) {
    handshake_done_ = nullptr;
    done(status);
  }
  if (auto on_close = std::move(on_close_)) {
    on_close_ = nullptr;
    on_message_ = nullptr;
    on_close(status);
  }
}

void Session::finishSocket() {
  // Everything is written: stop sending, then read until the peer closes (or the linger timer
  // fires). Closing with unread input would reset the connection and could destroy our Error
  // frame before the peer reads it.
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return forceClose();
  drain();
}

void Session::drain() {
  if (reading_ || phase_ == Phase::kClosed || writing_ || !urgent_.empty() || !data_.empty()) {
    return;
  }
  if (body_capacity_ < 4096) {
    body_.reset(new char[4096]);
    body_capacity_ = 4096;
  }
  reading_ = true;
  socket_.async_read_some(asio::buffer(body_.get(), body_capacity_),
                          [self = shared_from_this()](std::error_code ec, size_t) {
                            self->reading_ = false;
                            if (ec) return self->forceClose();
                            self->drain();
                          });
}

void Session::forceClose() {
  if (phase_ == Phase::kClosed) return;
  if (!closing_) {
    // Reached without beginClose (should not happen); still report once.
    beginClose(internalError("session with " + who() + " closed unexpectedly"), false,
               wire::ERROR_CODE_UNSPECIFIED);
  }
  phase_ = Phase::kClosed;
  open_ = false;
  linger_timer_.cancel();
  write_timer_.cancel();
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (writing_) {
    // The aborted write's handler finds the session closed and does nothing more.
    queued_bytes_ -= current_.size();
    writing_ = false;
  }
  for (auto* q : {&data_, &urgent_}) {
    for (const auto& o : *q) queued_bytes_ -= o.size();
    q->clear();
  }
  body_.reset();
  body_capacity_ = 0;
  spare_bulk_ = std::string();
  bulk_ = std::string();
  releaseBudget();
  after_flush_ = nullptr;
}

}  // namespace edgerig::bridge
