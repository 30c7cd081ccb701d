// The cryptography of a session: the handshake transcript both proofs cover, the proofs
// themselves, the session keys (HKDF-SHA256 from the token and both nonces), and the per-frame
// MAC (AES-256-GCM with no plaintext, i.e. GMAC: one pass over the frame at memory speed).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "edgerig.pb.h"

namespace edgerig::bridge {

inline constexpr size_t kMinNonceBytes = 16;
inline constexpr size_t kFrameMacBytes = 16;

// Everything both proofs are computed over. A field changed on the way (a nonce, a role, a
// protection choice) makes the two sides' transcripts differ, and the proofs fail.
struct HandshakeTranscript {
  std::string dialer_nonce, agent_nonce;
  wire::PeerRole dialer_role = wire::PEER_ROLE_UNSPECIFIED;
  std::string dialer_name, agent_name;
  wire::Protection dialer_protection = wire::PROTECTION_MAC;
  wire::Protection agent_protection = wire::PROTECTION_MAC;

  std::string bytes() const;  // unambiguous: every field length-prefixed
};

// The agent's and the dialer's proofs differ by label, so one cannot be reflected as the other.
std::string agentProof(std::string_view token, const HandshakeTranscript& t);
std::string dialerProof(std::string_view token, const HandshakeTranscript& t);
std::string welcomeProof(std::string_view token, const HandshakeTranscript& t,
                         const wire::Welcome& welcome);  // over its fields except `proof`

// The stronger of the two choices: TLS > MAC > NONE.
wire::Protection negotiate(wire::Protection a, wire::Protection b);

// RFC 5869 HKDF with SHA-256 (OpenSSL's EVP_PKEY_HKDF).
std::string hkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                       size_t length);

struct SessionKeys {
  std::string dialer_to_agent;  // 32-byte MAC keys, one per direction
  std::string agent_to_dialer;
  std::string tls_psk;  // 32 bytes
};
SessionKeys deriveSessionKeys(std::string_view token, const HandshakeTranscript& t);

// The MAC of one direction of a session. Frame n (from 0) is authenticated under IV = n, so a
// frame replayed, dropped or reordered fails as surely as one altered.
class FrameMac {
 public:
  explicit FrameMac(std::string_view key);  // 32 bytes
  ~FrameMac();
  FrameMac(const FrameMac&) = delete;
  FrameMac& operator=(const FrameMac&) = delete;

  using Tag = std::array<char, kFrameMacBytes>;
  // The tag of the next frame, made of `parts` in order; advances the sequence number.
  Tag next(std::initializer_list<std::string_view> parts);
  // The same, fed piece by piece as the frame arrives (while its bytes are still in cache):
  // begin(), add() in order, finish().
  void begin();
  void add(std::string_view part);
  Tag finish();
  uint64_t sequence() const { return seq_; }

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  uint64_t seq_ = 0;
  bool ok_ = true;
};

}  // namespace edgerig::bridge
