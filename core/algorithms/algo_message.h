// Building and reading algorithm messages (wire::AlgoMessage): a family's own protobuf message
// as the body, tensors in the bulk data, and the traffic kind the sender stamps.
#pragma once

#include <torch/torch.h>

#include <string>

#include "core/model/tensor_codec.h"
#include "device_bridge/status.h"
#include "device_bridge/traffic_kind.h"
#include "edgerig.pb.h"

namespace edgerig {

// A message of `kind` carrying `body`; add tensors with appendTensor (core/model/tensor_codec.h).
wire::AlgoMessage algoMessage(bridge::TrafficKind kind, const google::protobuf::Message& body);

template <typename T>
bool bodyIs(const wire::AlgoMessage& m) {
  return m.body().Is<T>();
}

// The body as T, or an error naming what it is instead.
template <typename T>
Result<T> bodyAs(const wire::AlgoMessage& m) {
  T out;
  if (!m.body().UnpackTo(&out)) {
    return invalidArgument("expected a " + T::descriptor()->full_name() + " message, got " +
                           m.body().type_url());
  }
  return out;
}

// "edgerig.pipeline.StepDone" from the body's type URL, for error messages.
std::string bodyName(const wire::AlgoMessage& m);

}  // namespace edgerig
