#include "device_bridge/auth.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "device_bridge/log.h"

namespace edgerig::bridge {

std::string hmacSha256(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  // An empty key is legal for HMAC, but OpenSSL wants a non-null pointer.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? &kEmpty : static_cast<const void*>(key.data());
  HMAC(EVP_sha256(), key_ptr, static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  return std::string(reinterpret_cast<const char*>(mac), mac_len);
}

std::string randomBytes(size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Should never happen on Linux; the kernel generator is still a sound source for nonces.
    logger("edgerig.bridge")->error("OpenSSL RAND_bytes failed; using the kernel random device");
    std::random_device dev("/dev/urandom");
    for (auto& c : out) c = static_cast<char>(dev() & 0xff);
  }
  return out;
}

std::string randomToken() {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string raw = randomBytes(32);
  std::string hex;
  hex.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 0xf]);
  }
  return hex;
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  // The length of a MAC is public; only its contents must not leak through timing.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> readTokenFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return notFound("token file '" + path +
                      "' does not exist; create one with a random token (e.g. edgerig-agent "
                      "--new-token) and copy it to every device");
    }
    return invalidArgument("cannot read token file '" + path + "': " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return invalidArgument("cannot read token file '" + path + "': not a regular file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return invalidArgument("cannot read token file '" + path + "': " + std::strerror(errno) +
                           "; check its permissions");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    return invalidArgument("cannot read token file '" + path + "': read error");
  }
  std::string token = buf.str();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.pop_back();
  }
  if (token.empty()) {
    return invalidArgument("token file '" + path +
                           "' is empty; write the shared token into it (one line)");
  }
  return token;
}

Status writeTokenFile(const std::string& path, const std::string& token) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return invalidArgument("cannot write token file '" + path + "': " + std::strerror(errno));
  }
  // An existing file keeps its old mode through open(); the token must not stay readable.
  if (::fchmod(fd, 0600) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    return invalidArgument("cannot restrict token file '" + path + "' to mode 0600: " + err);
  }
  const std::string line = token + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = std::strerror(errno);
      ::close(fd);
      return invalidArgument("cannot write token file '" + path + "': " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) {
    return invalidArgument("cannot write token file '" + path + "': " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace edgerig::bridge
