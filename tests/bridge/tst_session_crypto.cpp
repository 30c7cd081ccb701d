// The session's cryptography against published vectors (RFC 5869, the GCM specification), and
// the properties the handshake relies on.
#include <gtest/gtest.h>

#include "device_bridge/session_crypto.h"

namespace edgerig::bridge {
namespace {

std::string hex(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string range(int from, int to) {
  std::string s;
  for (int i = from; i <= to; ++i) s.push_back(static_cast<char>(i));
  return s;
}

TEST(SessionCrypto, HkdfMatchesRfc5869) {
  // Test case 1.
  EXPECT_EQ(hex(hkdfSha256(std::string(22, '\x0b'), range(0x00, 0x0c), range(0xf0, 0xf9), 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  // Test case 3: empty salt and info.
  EXPECT_EQ(hex(hkdfSha256(std::string(22, '\x0b'), "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(SessionCrypto, FrameMacIsGmacWithTheSequenceAsIv) {
  // GCM specification, test case 13: K = 0^256, IV = 0^96, no data -> this tag.
  FrameMac mac(std::string(32, '\0'));
  const FrameMac::Tag first = mac.next({});
  EXPECT_EQ(hex(std::string_view(first.data(), first.size())), "530f8afbc74536b9a963b4f1c4cb738b");
  // The same bytes as frame 1 get another tag: a replayed frame fails.
  FrameMac a(std::string(32, 'k')), b(std::string(32, 'k'));
  const auto t0 = a.next({"head", "body"});
  const auto t1 = a.next({"head", "body"});
  EXPECT_NE(t0, t1);
  // Split points do not matter, contents do.
  EXPECT_EQ(b.next({"he", "adbody"}), t0);
  EXPECT_NE(b.next({"head", "bodY"}), t1);
}

TEST(SessionCrypto, KeysDependOnTokenAndBothNoncesAndDifferPerDirection) {
  HandshakeTranscript t;
  t.dialer_nonce = std::string(32, 'd');
  t.agent_nonce = std::string(32, 'a');
  const SessionKeys k = deriveSessionKeys("token", t);
  EXPECT_EQ(k.dialer_to_agent.size(), 32u);
  EXPECT_NE(k.dialer_to_agent, k.agent_to_dialer);
  EXPECT_NE(k.dialer_to_agent, k.tls_psk);
  EXPECT_NE(deriveSessionKeys("token2", t).tls_psk, k.tls_psk);
  HandshakeTranscript other_nonce = t;
  other_nonce.agent_nonce[0] = 'b';
  EXPECT_NE(deriveSessionKeys("token", other_nonce).dialer_to_agent, k.dialer_to_agent);
  other_nonce = t;
  other_nonce.dialer_nonce[31] = 'e';
  EXPECT_NE(deriveSessionKeys("token", other_nonce).agent_to_dialer, k.agent_to_dialer);
}

TEST(SessionCrypto, TranscriptIsUnambiguous) {
  // Moving a byte from one name to the other must change the transcript.
  HandshakeTranscript a, b;
  a.dialer_name = "ab";
  a.agent_name = "c";
  b.dialer_name = "a";
  b.agent_name = "bc";
  EXPECT_NE(a.bytes(), b.bytes());
  EXPECT_NE(agentProof("t", a), agentProof("t", b));
}

TEST(SessionCrypto, StrongerProtectionWins) {
  using wire::PROTECTION_MAC, wire::PROTECTION_NONE, wire::PROTECTION_TLS;
  EXPECT_EQ(negotiate(PROTECTION_NONE, PROTECTION_NONE), PROTECTION_NONE);
  EXPECT_EQ(negotiate(PROTECTION_NONE, PROTECTION_MAC), PROTECTION_MAC);
  EXPECT_EQ(negotiate(PROTECTION_MAC, PROTECTION_NONE), PROTECTION_MAC);
  EXPECT_EQ(negotiate(PROTECTION_MAC, PROTECTION_TLS), PROTECTION_TLS);
  EXPECT_EQ(negotiate(PROTECTION_TLS, PROTECTION_NONE), PROTECTION_TLS);
  EXPECT_EQ(negotiate(static_cast<wire::Protection>(77), PROTECTION_NONE), PROTECTION_MAC);
}

}  // namespace
}  // namespace edgerig::bridge
