#pragma once
// Numbers and values as text: the shortest decimal that reads back to the same double, so that
// configs, run ids, queries and CSV carry every digit and nothing more; and a value as a message
// echoes it, in one readable line.
#include <cstddef>
#include <string>
#include <string_view>

namespace ssldyn {

std::string shortest_text(double value);

// Control characters written out (\t, \n, \r, \0, \xNN), so that a message stays one line and a
// NUL byte does not end it early.
std::string escaped(std::string_view text);

// 'text' escaped, cut after its first `shown` bytes (at a character boundary) with the length
// said: '1234…' (10000000 bytes). How every message echoes a value it was given.
std::string echoed(std::string_view text, std::size_t shown = 80);

}  // namespace ssldyn
