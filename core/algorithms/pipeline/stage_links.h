// How an agent-side worker talks to the rest of the run: plain send functions, wired by the
// agent runtime to its sessions (the controller, the next stage, the previous stage).
#pragma once

#include <functional>

#include "edgerig.pb.h"

namespace edgerig {

struct StageLinks {
  std::function<void(wire::Envelope)> to_controller;
  std::function<void(wire::Envelope)> to_next;      // stage k+1 (unset on the last stage)
  std::function<void(wire::Envelope)> to_previous;  // stage k-1 (unset on the first stage)
};

}  // namespace edgerig
