// tensorlang.add takes two operands (checked by the IRDL definition).
// expected-error@5:8 {{op expects exactly 2 operands, but got 1}}
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %a = "tensorlang.slice"(%obs) {offsets = array<i64: 0>, sizes = array<i64: 2>} : (tensor<8xf64>) -> tensor<2xf64>
  %b = "tensorlang.add"(%a) : (tensor<2xf64>) -> tensor<2xf64>
  return %b, %mem : tensor<2xf64>, tensor<4xf64>
}
