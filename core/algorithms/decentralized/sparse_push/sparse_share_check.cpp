#include "core/algorithms/decentralized/sparse_push/sparse_share_check.h"

#include <cmath>
#include <cstring>
#include <string>

namespace edgerig {
namespace {

// The compact fields into `out`, or what is wrong with them.
std::string decodeCompact(CheckedSparseShare& out, int64_t parameters) {
  const std::string& gaps = out.body.gaps();
  const std::string& halves = out.body.halves();
  if (halves.size() % 2 != 0) {
    return "has " + std::to_string(halves.size()) + " bytes of float16 values, an odd count";
  }
  const int64_t n = static_cast<int64_t>(halves.size() / 2);
  if (n > parameters) {
    return "has " + std::to_string(n) + " entries; this model has " + std::to_string(parameters) +
           " parameters";
  }
  // Every entry takes at least one byte of gaps: a count that cannot fit is refused before any
  // memory is reserved for it.
  if (static_cast<int64_t>(gaps.size()) < n) {
    return "has " + std::to_string(n) + " values but only " + std::to_string(gaps.size()) +
           " bytes of offset gaps";
  }
  out.offsets.reserve(static_cast<size_t>(n));
  int64_t offset = -1;
  size_t at = 0;
  while (at < gaps.size()) {
    uint64_t gap = 0;
    int shift = 0;
    for (;;) {
      if (at >= gaps.size()) return "has an offset gap cut off at byte " + std::to_string(at);
      const auto byte = static_cast<uint8_t>(gaps[at++]);
      if (shift > 28)
        return "has an offset gap longer than five bytes at byte " + std::to_string(at);
      gap |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    if (gap == 0) {
      return "repeats offset " + std::to_string(offset) + " (a gap of 0 at entry " +
             std::to_string(out.offsets.size()) + ")";
    }
    offset += static_cast<int64_t>(gap);
    if (offset >= parameters) {
      return "has offset " + std::to_string(offset) + " at entry " +
             std::to_string(out.offsets.size()) + "; this model has " + std::to_string(parameters) +
             " parameters";
    }
    if (static_cast<int64_t>(out.offsets.size()) == n) {
      return "has more offsets than its " + std::to_string(n) + " values";
    }
    out.offsets.push_back(static_cast<int32_t>(offset));
  }
  if (static_cast<int64_t>(out.offsets.size()) != n) {
    return "has " + std::to_string(out.offsets.size()) + " offsets but " + std::to_string(n) +
           " values";
  }
  out.halves.resize(static_cast<size_t>(n));
  if (n > 0) std::memcpy(out.halves.data(), halves.data(), halves.size());  // little-endian
  return {};
}

}  // namespace

std::string encodeOffsetGaps(const int32_t* offsets, int64_t n) {
  std::string out;
  out.reserve(static_cast<size_t>(n) * 2);
  int64_t previous = -1;
  for (int64_t i = 0; i < n; ++i) {
    auto gap = static_cast<uint64_t>(offsets[i] - previous);
    previous = offsets[i];
    while (gap >= 0x80) {
      out.push_back(static_cast<char>((gap & 0x7f) | 0x80));
      gap >>= 7;
    }
    out.push_back(static_cast<char>(gap));
  }
  return out;
}

Result<CheckedSparseShare> checkSparseShare(const wire::AlgoMessage& m, int64_t parameters) {
  const auto bad = [&](const std::string& why) {
    return invalidArgument("a sparse-push share from device " + std::to_string(m.from()) + " " +
                           why);
  };
  CheckedSparseShare out;
  if (!m.body().UnpackTo(&out.body)) {
    return bad("is not a SparseShare (its body is " + m.body().type_url() + ")");
  }
  if (!std::isfinite(out.body.weight()) || out.body.weight() <= 0) {
    return bad("has push-sum weight " + std::to_string(out.body.weight()) +
               ": a share's weight is a positive, finite number");
  }
  if (out.body.iteration() < 0) {
    return bad("is of iteration " + std::to_string(out.body.iteration()));
  }
  auto layouts = layoutsOf(m);
  if (!layouts) return bad("is malformed: " + layouts.status().message());
  out.compact = !out.body.gaps().empty() || !out.body.halves().empty();
  if (out.compact) {
    if (!layouts->empty()) {
      return bad("carries both compact entries and " + std::to_string(layouts->size()) +
                 " tensors");
    }
    if (auto why = decodeCompact(out, parameters); !why.empty()) return bad(why);
    return out;
  }
  if (layouts->size() != 2 || (*layouts)[0].dtype != wire::DTYPE_INT32 ||
      (*layouts)[1].dtype != wire::DTYPE_FLOAT32 || (*layouts)[0].dims.size() != 1 ||
      (*layouts)[1].dims.size() != 1) {
    return bad("is without its int32 indices and float32 values (" +
               std::to_string(layouts->size()) + " tensors)");
  }
  out.indices = (*layouts)[0];
  out.values = (*layouts)[1];
  if (out.indices.numel != out.values.numel) {
    return bad("has " + std::to_string(out.indices.numel) + " indices but " +
               std::to_string(out.values.numel) + " values");
  }
  if (out.indices.numel > parameters) {
    return bad("has " + std::to_string(out.indices.numel) + " entries; this model has " +
               std::to_string(parameters) + " parameters");
  }
  const char* at = m.data().data() + out.indices.offset;
  for (int64_t i = 0; i < out.indices.numel; ++i) {
    int32_t index = 0;
    std::memcpy(&index, at + i * 4, 4);  // little-endian on the wire, as on every target
    if (index < 0 || index >= parameters) {
      return bad("has index " + std::to_string(index) + " at position " + std::to_string(i) +
                 "; this model has " + std::to_string(parameters) + " parameters");
    }
  }
  return out;
}

}  // namespace edgerig
