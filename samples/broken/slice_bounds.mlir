// Reading the legs of an observation that has only 8 entries: offset 6 + size 4 > 8.
// expected-error@5:11 {{slice out of bounds in dimension 0: offset 6 + size 4 exceeds 8}}
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %a = "tensorlang.slice"(%obs) {offsets = array<i64: 0>, sizes = array<i64: 2>} : (tensor<8xf64>) -> tensor<2xf64>
  %legs = "tensorlang.slice"(%obs) {offsets = array<i64: 6>, sizes = array<i64: 4>} : (tensor<8xf64>) -> tensor<4xf64>
  return %a, %legs : tensor<2xf64>, tensor<4xf64>
}
