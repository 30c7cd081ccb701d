#include "device_bridge/session_crypto.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "device_bridge/auth.h"

namespace edgerig::bridge {

namespace {

void appendLengthPrefixed(std::string& out, std::string_view field) {
  const auto n = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(field);
}

std::string sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string labelled(std::string_view label, std::string_view rest) {
  std::string m;
  appendLengthPrefixed(m, label);
  m.append(rest);
  return m;
}

int strength(wire::Protection p) {
  switch (p) {
    case wire::PROTECTION_NONE:
      return 0;
    case wire::PROTECTION_TLS:
      return 2;
    default:
      return 1;  // MAC, and anything this release does not know
  }
}

}  // namespace

std::string HandshakeTranscript::bytes() const {
  std::string out = "edgerig/2";
  appendLengthPrefixed(out, dialer_nonce);
  appendLengthPrefixed(out, agent_nonce);
  appendLengthPrefixed(out, std::to_string(static_cast<int>(dialer_role)));
  appendLengthPrefixed(out, "agent");  // whoever listens is an agent
  appendLengthPrefixed(out, dialer_name);
  appendLengthPrefixed(out, agent_name);
  appendLengthPrefixed(out, std::to_string(static_cast<int>(dialer_protection)));
  appendLengthPrefixed(out, std::to_string(static_cast<int>(agent_protection)));
  return out;
}

std::string agentProof(std::string_view token, const HandshakeTranscript& t) {
  return hmacSha256(token, labelled("agent proof", t.bytes()));
}

std::string dialerProof(std::string_view token, const HandshakeTranscript& t) {
  return hmacSha256(token, labelled("dialer proof", t.bytes()));
}

std::string welcomeProof(std::string_view token, const HandshakeTranscript& t,
                         const wire::Welcome& welcome) {
  std::string m = t.bytes();
  appendLengthPrefixed(m, welcome.agent_name());
  appendLengthPrefixed(m, std::to_string(welcome.cores()));
  appendLengthPrefixed(m, welcome.hostname());
  return hmacSha256(token, labelled("welcome", m));
}

wire::Protection negotiate(wire::Protection a, wire::Protection b) {
  const wire::Protection stronger = strength(a) >= strength(b) ? a : b;
  return strength(stronger) == 1 ? wire::PROTECTION_MAC : stronger;
}

std::string hkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info,
                       size_t length) {
  std::string out(length, '\0');
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  static const unsigned char kEmpty = 0;
  const auto ptr = [](std::string_view s) {
    return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
  };
  size_t out_len = length;
  const bool ok =
      ctx != nullptr && EVP_PKEY_derive_init(ctx) > 0 &&
      EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) > 0 &&
      EVP_PKEY_CTX_set1_hkdf_salt(ctx, ptr(salt), static_cast<int>(salt.size())) > 0 &&
      EVP_PKEY_CTX_set1_hkdf_key(ctx, ptr(ikm), static_cast<int>(ikm.size())) > 0 &&
      EVP_PKEY_CTX_add1_hkdf_info(ctx, ptr(info), static_cast<int>(info.size())) > 0 &&
      EVP_PKEY_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), &out_len) > 0 &&
      out_len == length;
  EVP_PKEY_CTX_free(ctx);
  // Only a broken OpenSSL gets here; a session without keys must not go on.
  if (!ok) throw std::runtime_error("HKDF-SHA256 failed in OpenSSL");
  return out;
}

SessionKeys deriveSessionKeys(std::string_view token, const HandshakeTranscript& t) {
  const std::string salt = t.dialer_nonce + t.agent_nonce;
  // OpenSSL caps HKDF's info at 1 KiB; the transcript (names are the peers') goes in hashed.
  const std::string digest = sha256(t.bytes());
  const auto key = [&](std::string_view label) {
    return hkdfSha256(token, salt, std::string(label) + '\0' + digest, 32);
  };
  return {key("edgerig/2 dialer->agent mac"), key("edgerig/2 agent->dialer mac"),
          key("edgerig/2 tls psk")};
}

struct FrameMac::Ctx {
  EVP_CIPHER_CTX* cipher = EVP_CIPHER_CTX_new();
  ~Ctx() { EVP_CIPHER_CTX_free(cipher); }
};

FrameMac::FrameMac(std::string_view key) : ctx_(std::make_unique<Ctx>()) {
  if (key.size() != 32 || ctx_->cipher == nullptr ||
      EVP_EncryptInit_ex(ctx_->cipher, EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), nullptr) != 1) {
    throw std::runtime_error("cannot set up AES-256-GCM in OpenSSL");
  }
}

FrameMac::~FrameMac() = default;

FrameMac::Tag FrameMac::next(std::initializer_list<std::string_view> parts) {
  begin();
  for (std::string_view part : parts) add(part);
  return finish();
}

void FrameMac::begin() {
  // 96-bit IV: four zero bytes, then the frame's sequence number, big-endian.
  unsigned char iv[12] = {};
  for (int i = 0; i < 8; ++i) iv[4 + i] = static_cast<unsigned char>((seq_ >> (56 - 8 * i)) & 0xff);
  ++seq_;
  ok_ = EVP_EncryptInit_ex(ctx_->cipher, nullptr, nullptr, nullptr, iv) == 1;
}

void FrameMac::add(std::string_view part) {
  // The whole frame is additional data: authenticated, not encrypted. Chunked, since OpenSSL
  // takes an int length.
  int n = 0;
  while (ok_ && !part.empty()) {
    const size_t chunk = std::min(part.size(), size_t{1} << 30);
    ok_ = EVP_EncryptUpdate(ctx_->cipher, nullptr, &n,
                            reinterpret_cast<const unsigned char*>(part.data()),
                            static_cast<int>(chunk)) == 1;
    part.remove_prefix(chunk);
  }
}

FrameMac::Tag FrameMac::finish() {
  Tag tag{};
  unsigned char unused[16];
  int n = 0;
  ok_ = ok_ && EVP_EncryptFinal_ex(ctx_->cipher, unused, &n) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx_->cipher, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()),
                            tag.data()) == 1;
  if (!ok_) throw std::runtime_error("AES-256-GCM MAC failed in OpenSSL");
  return tag;
}

}  // namespace edgerig::bridge
