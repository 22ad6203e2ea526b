// A misspelled SSA name: %acton was never defined.
// expected-error@6:10 {{use of undeclared SSA value name}}
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %a = "tensorlang.slice"(%obs) {offsets = array<i64: 0>, sizes = array<i64: 2>} : (tensor<8xf64>) -> tensor<2xf64>
  %action = "tensorlang.clamp"(%a) {lo = -1.0 : f64, hi = 1.0 : f64} : (tensor<2xf64>) -> tensor<2xf64>
  return %acton, %mem : tensor<2xf64>, tensor<4xf64>
}
