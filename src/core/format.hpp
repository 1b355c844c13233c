#pragma once
// Numbers as text: the shortest decimal that reads back to the same double, so that configs,
// run ids, queries and CSV carry every digit and nothing more.
#include <string>

namespace ssldyn {

std::string shortest_text(double value);

}  // namespace ssldyn
