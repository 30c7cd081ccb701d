#include "core/model/tensor_codec.h"

#include <bit>
#include <cstring>
#include <limits>
#include <unordered_set>

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

int64_t elementBytes(wire::DType d) { return d == wire::DTYPE_INT64 ? 8 : 4; }

bool knownType(wire::DType d) {
  return d == wire::DTYPE_FLOAT32 || d == wire::DTYPE_INT64 || d == wire::DTYPE_INT32;
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

// Element count of a shape, or an error naming what is wrong with it.
template <typename Shape>
Result<int64_t> elementsOf(const Shape& shape, std::vector<int64_t>* dims) {
  int64_t numel = 1;
  for (int i = 0; i < static_cast<int>(shape.size()); ++i) {
    const int64_t d = shape[i];
    if (d < 0) {
      return invalidArgument("dimension " + std::to_string(i) + " is negative (" +
                             std::to_string(d) + ")");
    }
    if (d > 0 && numel > std::numeric_limits<int64_t>::max() / 8 / d) {
      return invalidArgument("shape overflows (dimension " + std::to_string(i) + " = " +
                             std::to_string(d) + ")");
    }
    numel *= d;
    dims->push_back(d);
  }
  return numel;
}

Result<std::vector<torch::Tensor>> decodeTensors(const wire::AlgoMessage& m, bool copy) {
  std::vector<torch::Tensor> out;
  size_t offset = 0;
  const std::string& data = m.data();
  for (int i = 0; i < m.tensors_size(); ++i) {
    const auto& meta = m.tensors(i);
    const auto what = [&](const std::string& why) {
      return invalidArgument("tensor " + std::to_string(i) + " of the message: " + why);
    };
    if (!knownType(meta.dtype())) {
      return what("unknown dtype " + std::to_string(meta.dtype()));
    }
    std::vector<int64_t> dims;
    auto numel = elementsOf(meta.shape(), &dims);
    if (!numel) return what(numel.status().message());
    const int64_t bytes = *numel * elementBytes(meta.dtype());
    if (static_cast<uint64_t>(bytes) > data.size() - offset) {
      return what("needs " + std::to_string(bytes) + " bytes but only " +
                  std::to_string(data.size() - offset) + " are left: the message is truncated");
    }
    const auto options = torch::TensorOptions().dtype(torchType(meta.dtype()));
    try {
      if (copy) {
        torch::Tensor t = torch::empty(dims, options);
        if (bytes > 0) std::memcpy(t.data_ptr(), data.data() + offset, bytes);
        out.push_back(std::move(t));
      } else {
        // from_blob does not take ownership; the caller keeps m alive.
        out.push_back(torch::from_blob(const_cast<char*>(data.data() + offset), dims, options));
      }
    } catch (const std::exception& e) {
      return internalError("cannot make tensor " + std::to_string(i) + ": " + e.what());
    }
    offset += static_cast<size_t>(bytes);
  }
  if (offset != data.size()) {
    return invalidArgument("the message has " + std::to_string(data.size() - offset) +
                           " bytes of data its tensors do not describe");
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
  if (!knownType(b.dtype())) {
    return invalidArgument("tensor blob has unknown dtype " + std::to_string(b.dtype()) +
                           ": the sender must use float32, int32 or int64");
  }
  int64_t numel = 1;
  std::vector<int64_t> shape;
  for (int i = 0; i < b.shape_size(); ++i) {
    const int64_t d = b.shape(i);
    if (d < 0) {
      return invalidArgument("tensor blob dimension " + std::to_string(i) + " is negative (" +
                             std::to_string(d) + ")");
    }
    if (d > 0 && numel > std::numeric_limits<int64_t>::max() / d) {
      return invalidArgument("tensor blob shape overflows (dimension " + std::to_string(i) + " = " +
                             std::to_string(d) + ")");
    }
    numel *= d;
    shape.push_back(d);
  }
  const torch::Dtype dtype = torchType(b.dtype());
  const int64_t element = elementBytes(b.dtype());
  if (numel > std::numeric_limits<int64_t>::max() / element ||
      static_cast<int64_t>(b.data().size()) != numel * element) {
    return invalidArgument("tensor blob has " + std::to_string(b.data().size()) +
                           " bytes of data but its shape and dtype need " + std::to_string(numel) +
                           " × " + std::to_string(element) +
                           " bytes: the blob is truncated or corrupt");
  }
  try {
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
    if (numel > 0) std::memcpy(t.data_ptr(), b.data().data(), b.data().size());
    return t;
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
