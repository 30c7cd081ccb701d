// The sparse-message decoder: any bytes as an AlgoMessage, checked as a sparse-push share
// (core/algorithms/decentralized/sparse_push/sparse_share_check.h) against a model whose size
// the input's first bytes pick, and the tensor layouts under it (core/model/tensor_layout.h)
// that every tensor on the wire goes through. Checks beyond ASan/UBSan: a share that passes
// lies inside the message's data, pairs one value with each index, and every index (read here
// again) is inside the model; a compact share (varint gaps, float16 values) decodes to strictly
// ascending offsets inside the model, one per value, that re-encode to no more bytes; every
// layout that passes lies inside its data.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/algorithms/decentralized/sparse_push/sparse_share_check.h"
#include "core/model/tensor_layout.h"
#include "fuzz_quiet.h"

using namespace edgerig;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const int64_t parameters = (data[0] | (data[1] << 8) | ((data[2] & 0x0f) << 16));
  wire::AlgoMessage m;
  if (!m.ParseFromArray(data + 3, static_cast<int>(size - 3))) return 0;
  if (auto layouts = layoutsOf(m)) {
    size_t end = 0;
    for (const auto& l : *layouts) {
      if (l.offset != end || l.bytes != l.numel * elementBytes(l.dtype)) std::abort();
      end = l.offset + static_cast<size_t>(l.bytes);
    }
    if (end != m.data().size()) std::abort();
  }
  auto share = checkSparseShare(m, parameters);
  if (!share) return 0;
  const auto& idx = share->indices;
  if (!share->compact) {
    if (idx.numel != share->values.numel || idx.numel > parameters) std::abort();
    if (share->values.offset + static_cast<size_t>(share->values.bytes) > m.data().size()) {
      std::abort();
    }
  }
  if (share->compact) {
    // Compact: as many offsets as values, strictly ascending, all inside the model, no tensors.
    const auto& offsets = share->offsets;
    if (offsets.size() != share->halves.size() ||
        share->body.halves().size() != 2 * offsets.size()) {
      std::abort();
    }
    if (static_cast<int64_t>(offsets.size()) > parameters || !m.tensors().empty()) std::abort();
    for (size_t i = 0; i < offsets.size(); ++i) {
      if (offsets[i] < 0 || offsets[i] >= parameters) std::abort();
      if (i > 0 && offsets[i] <= offsets[i - 1]) std::abort();
    }
    // The encoder gives the same gaps back (a decoded share re-encodes to its minimal form).
    if (encodeOffsetGaps(offsets.data(), static_cast<int64_t>(offsets.size())).size() >
        share->body.gaps().size()) {
      std::abort();
    }
    return 0;
  }
  for (int64_t i = 0; i < idx.numel; ++i) {
    int32_t v = 0;
    std::memcpy(&v, m.data().data() + idx.offset + 4 * i, 4);
    if (v < 0 || v >= parameters) std::abort();
  }
  return 0;
}
