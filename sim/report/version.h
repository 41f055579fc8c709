// The version printed in every result header ("# epsim 0.1.0 simulate").
// Kept in step with project(epsim VERSION ...) in the top CMakeLists.txt.
#ifndef EPSIM_SIM_REPORT_VERSION_H_
#define EPSIM_SIM_REPORT_VERSION_H_

namespace epsim {

inline constexpr char kEpsimVersion[] = "0.1.0";

}  // namespace epsim

#endif  // EPSIM_SIM_REPORT_VERSION_H_
