// Elementwise ops need operands of one type (IRDL's shared constraint variable).
// expected-error@6:8 {{expected 'tensor<2xf64>' but got 'tensor<4xf64>'}}
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %a = "tensorlang.slice"(%obs) {offsets = array<i64: 0>, sizes = array<i64: 2>} : (tensor<8xf64>) -> tensor<2xf64>
  %b = "tensorlang.slice"(%obs) {offsets = array<i64: 0>, sizes = array<i64: 4>} : (tensor<8xf64>) -> tensor<4xf64>
  %c = "tensorlang.add"(%a, %b) : (tensor<2xf64>, tensor<4xf64>) -> tensor<2xf64>
  return %c, %mem : tensor<2xf64>, tensor<4xf64>
}
