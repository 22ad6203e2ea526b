// @control must return (tensor<2xf64>, tensor<4xf64>); this one returns 3 actions.
// expected-error@3:1 {{@control does not match the controller ABI}}
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<3xf64>, tensor<4xf64>) {
  %a = "tensorlang.slice"(%obs) {offsets = array<i64: 0>, sizes = array<i64: 3>} : (tensor<8xf64>) -> tensor<3xf64>
  return %a, %mem : tensor<3xf64>, tensor<4xf64>
}
