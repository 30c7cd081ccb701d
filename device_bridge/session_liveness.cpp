// Liveness, decided above the socket: heartbeats with a smoothed RTT, a watchdog that declares
// the peer lost after loss_timeout of silence, and pausing (a frozen device).
#include <spdlog/fmt/fmt.h>

#include <algorithm>

#include "device_bridge/frame.h"
#include "device_bridge/log.h"
#include "device_bridge/session.h"
#include "device_bridge/wire_error.h"

namespace edgerig::bridge {

namespace {

constexpr double kRttGain = 0.125;  // as TCP's SRTT: smooth, yet follows a changed link

int64_t steadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Session::startLiveness() {
  last_received_ = Clock::now();
  if (options_.send_heartbeats && options_.heartbeat_interval.count() > 0) armHeartbeat();
  armWatchdog();
}

void Session::armHeartbeat() {
  heartbeat_timer_.expires_after(options_.heartbeat_interval);
  heartbeat_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec == asio::error::operation_aborted || self->closing_) return;
    if (!self->paused_) {
      wire::Envelope env;
      env.mutable_heartbeat()->set_seq(++self->heartbeat_seq_);
      env.mutable_heartbeat()->set_sent_ns(steadyNs());
      self->sendUrgent(env);
    }
    self->armHeartbeat();
  });
}

void Session::armWatchdog() {
  using std::chrono::milliseconds;
  const milliseconds period =
      options_.loss_timeout.count() > 0
          ? std::clamp(options_.loss_timeout / 5, milliseconds(10), milliseconds(1000))
          : milliseconds(1000);
  watchdog_timer_.expires_after(period);
  watchdog_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec == asio::error::operation_aborted || self->closing_) return;
    const Clock::time_point now = Clock::now();
    const auto& opt = self->options_;
    if (!self->paused_ && opt.loss_timeout.count() > 0 &&
        now - self->last_received_ > opt.loss_timeout) {
      const std::string message = fmt::format("no heartbeat from {} for {:g} s", self->who(),
                                              static_cast<double>(opt.loss_timeout.count()) / 1e3);
      // The peer may only be frozen: the Error tells it why, whenever it reads again.
      return self->fail({StatusCode::kTimeout, message}, wire::ERROR_CODE_TIMEOUT);
    }
    if (!self->paused_ && self->writing_ && now - self->write_progress_ > kWriteStallTimeout) {
      return self->fail(
          {StatusCode::kTimeout, fmt::format("{} accepted no data for {} s; it stopped reading",
                                             self->who(), kWriteStallTimeout.count())});
    }
    self->armWatchdog();
  });
}

void Session::onHeartbeat(const wire::Heartbeat& hb) {
  wire::Envelope ack;
  ack.mutable_heartbeat_ack()->set_seq(hb.seq());
  ack.mutable_heartbeat_ack()->set_sent_ns(hb.sent_ns());
  sendUrgent(ack);
}

void Session::onHeartbeatAck(const wire::HeartbeatAck& ack) {
  const int64_t rtt_ns = steadyNs() - ack.sent_ns();
  if (rtt_ns < 0 || ack.seq() == 0 || ack.seq() > heartbeat_seq_) {
    logger("edgerig.bridge")
        ->debug("ignoring heartbeat ack {} from {}: not one of ours", ack.seq(), who());
    return;
  }
  const double sample = static_cast<double>(rtt_ns) / 1e6;
  std::lock_guard lock(mutex_);
  rtt_ms_ = rtt_ms_ ? *rtt_ms_ + kRttGain * (sample - *rtt_ms_) : sample;
}

void Session::sendUrgent(const wire::Envelope& env) {
  if (closing_) return;
  enqueue(encodeFrame(env), kindOf(env), /*urgent=*/true);
}

void Session::applyPaused(bool paused) {
  if (paused == paused_ || closing_) return;
  paused_ = paused;
  logger("edgerig.bridge")->debug("session with {} {}", who(), paused ? "paused" : "resumed");
  if (paused) return;
  // Our own silence while frozen says nothing about the peer.
  last_received_ = Clock::now();
  if (parked_) {
    wire::Envelope env = std::move(*parked_);
    parked_.reset();
    dispatch(std::move(env));
  }
  if (read_parked_ && !closing_) {
    read_parked_ = false;
    readHeader();
  }
  pumpWrites();
}

}  // namespace edgerig::bridge
