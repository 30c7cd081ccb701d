#include "core/model/tensor_codec.h"

#include <bit>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "core/model/tensor_layout.h"

namespace edgerig {
namespace {

// Raw bytes are copied as they are in memory; every device we target is little-endian.
static_assert(std::endian::native == std::endian::little,
              "tensor_codec copies raw bytes and needs a little-endian host");

torch::Dtype torchType(wire::DType d) {
  switch (d) {
    case wire::DTYPE_INT64:
      return torch::kInt64;
    case wire::DTYPE_INT32:
      return torch::kInt32;
    default:
      return torch::kFloat32;
  }
}

// The wire form of `t`: contiguous CPU float32, int32 or int64, and its dtype.
torch::Tensor wireForm(const torch::Tensor& t, wire::DType* dtype) {
  torch::Tensor c = t.detach().cpu();
  if (c.is_floating_point() || c.is_complex()) {
    *dtype = wire::DTYPE_FLOAT32;
    return c.to(torch::kFloat32).contiguous();
  }
  if (c.scalar_type() == torch::kInt32) {
    *dtype = wire::DTYPE_INT32;
    return c.contiguous();
  }
  *dtype = wire::DTYPE_INT64;
  return c.to(torch::kInt64).contiguous();
}

// A tensor at `l` in `data` (checked by tensor_layout), copied or viewed.
torch::Tensor makeTensor(const TensorLayout& l, const std::string& data, bool copy) {
  const auto options = torch::TensorOptions().dtype(torchType(l.dtype));
  if (!copy) {
    // from_blob does not take ownership; the caller keeps the message alive.
    return torch::from_blob(const_cast<char*>(data.data() + l.offset), l.dims, options);
  }
  torch::Tensor t = torch::empty(l.dims, options);
  if (l.bytes > 0) std::memcpy(t.data_ptr(), data.data() + l.offset, l.bytes);
  return t;
}

Result<std::vector<torch::Tensor>> decodeTensors(const wire::AlgoMessage& m, bool copy) {
  auto layouts = layoutsOf(m);
  if (!layouts) return layouts.status();
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < layouts->size(); ++i) {
    try {
      out.push_back(makeTensor((*layouts)[i], m.data(), copy));
    } catch (const std::exception& e) {
      return internalError("cannot make tensor " + std::to_string(i) + ": " + e.what());
    }
  }
  return out;
}

}  // namespace

wire::TensorBlob toBlob(const torch::Tensor& t) {
  wire::TensorBlob blob;
  if (!t.defined()) return blob;
  wire::DType dtype = wire::DTYPE_FLOAT32;
  torch::Tensor c = wireForm(t, &dtype);
  blob.set_dtype(dtype);
  for (int64_t d : c.sizes()) blob.add_shape(d);
  blob.set_data(c.data_ptr(), c.numel() * static_cast<int64_t>(c.element_size()));
  return blob;
}

Result<torch::Tensor> fromBlob(const wire::TensorBlob& b) {
  auto l = layoutOf(b);
  if (!l) return l.status();
  try {
    return makeTensor(*l, b.data(), /*copy=*/true);
  } catch (const std::exception& e) {
    return internalError(std::string("cannot allocate tensor from blob: ") + e.what());
  }
}

wire::ModelStateBlob toBlob(const ModelState& s) {
  wire::ModelStateBlob blob;
  for (const auto& [name, tensor] : s) {
    wire::NamedTensor* named = blob.add_tensors();
    named->set_name(name);
    *named->mutable_tensor() = toBlob(tensor);
  }
  return blob;
}

Result<ModelState> fromBlob(const wire::ModelStateBlob& b) {
  ModelState state;
  std::unordered_set<std::string> seen;
  for (int i = 0; i < b.tensors_size(); ++i) {
    const wire::NamedTensor& named = b.tensors(i);
    if (named.name().empty()) {
      return invalidArgument("model state tensor #" + std::to_string(i) + " has no name");
    }
    if (!seen.insert(named.name()).second) {
      return invalidArgument("model state tensor '" + named.name() + "' appears twice");
    }
    Result<torch::Tensor> t = fromBlob(named.tensor());
    if (!t) {
      return Status(t.status().code(),
                    "model state tensor '" + named.name() + "': " + t.status().message());
    }
    state.emplace_back(named.name(), std::move(t).value());
  }
  return state;
}

void appendTensor(wire::AlgoMessage& m, const torch::Tensor& t) {
  wire::DType dtype = wire::DTYPE_FLOAT32;
  torch::Tensor c = wireForm(t, &dtype);
  auto* meta = m.add_tensors();
  meta->set_dtype(dtype);
  for (int64_t d : c.sizes()) meta->add_shape(d);
  m.mutable_data()->append(static_cast<const char*>(c.data_ptr()),
                           static_cast<size_t>(c.numel() * c.element_size()));
}

Result<std::vector<torch::Tensor>> tensorsOf(const wire::AlgoMessage& m) {
  return decodeTensors(m, /*copy=*/true);
}

Result<std::vector<torch::Tensor>> tensorViewsOf(const wire::AlgoMessage& m) {
  return decodeTensors(m, /*copy=*/false);
}

std::string stateBytes(const ModelState& s) { return toBlob(s).SerializeAsString(); }

Result<ModelState> stateFromBytes(std::string_view bytes) {
  wire::ModelStateBlob blob;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !blob.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalidArgument("model state bytes (" + std::to_string(bytes.size()) +
                           " bytes) are not a serialized ModelStateBlob");
  }
  return fromBlob(blob);
}

}  // namespace edgerig
