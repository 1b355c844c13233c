#pragma once
// Attributes on groups and datasets: strings (variable-length UTF-8), numbers, number lists.
#include <string>
#include <vector>

#include "store/h5/handle.hpp"

namespace ssldyn::h5 {

void write_attribute(hid_t object, const std::string& name, const std::string& value);
inline void write_attribute(hid_t object, const std::string& name, const char* value) {
    write_attribute(object, name, std::string(value));
}
void write_attribute(hid_t object, const std::string& name, double value);
void write_attribute(hid_t object, const std::string& name, long long value);
void write_attribute(hid_t object, const std::string& name, const std::vector<double>& values);

bool has_attribute(hid_t object, const std::string& name);
void remove_attribute(hid_t object, const std::string& name);
std::string read_string_attribute(hid_t object, const std::string& name);
double read_double_attribute(hid_t object, const std::string& name);
long long read_integer_attribute(hid_t object, const std::string& name);

}  // namespace ssldyn::h5
