#pragma once
// What a run needs to continue after an interruption exactly as if it had not stopped: gradient
// descent is a map W_s -> W_{s+1} (THEORY §4), the flow depends on W0 alone (rebuilt from the
// seed), and the records before step s are data. So (s, W_s, records up to s) is the whole state;
// a minibatch stream (counter-based, keyed by step) would resume from s as well.
#include <vector>

#include "linalg/matrix.hpp"
#include "run/record.hpp"

namespace ssldyn {

// A view of a run between two steps, handed to whoever saves it.
struct RunState {
    Index step;                          // steps completed
    const Matrix& w;                     // weights after them
    const std::vector<Record>& records;  // records up to that step
    double seconds;                      // wall time spent on the run so far
};

// A saved state read back, to continue from.
struct Checkpoint {
    Index step = -1;
    Matrix w;
    std::vector<Record> records;
    double seconds = 0.0;
};

}  // namespace ssldyn
