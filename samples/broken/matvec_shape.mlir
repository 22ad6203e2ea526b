// A gain matrix of the wrong width: 2x6 cannot multiply the 8-element observation.
// expected-error@7:10 {{matrix is 2x6 but vector has 8 elements}}
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %gains = "tensorlang.constant"() {value = dense<[[-0.5, -0.5, 0.0, -1.0, 0.0, 0.0],
                                                   [-0.5, 0.0, -1.0, 0.0, -2.0, -1.0]]> : tensor<2x6xf64>} : () -> tensor<2x6xf64>
  // the next op is line 7
  %law = "tensorlang.matvec"(%gains, %obs) : (tensor<2x6xf64>, tensor<8xf64>) -> tensor<2xf64>
  %action = "tensorlang.clamp"(%law) {lo = -1.0 : f64, hi = 1.0 : f64} : (tensor<2xf64>) -> tensor<2xf64>
  return %action, %mem : tensor<2xf64>, tensor<4xf64>
}
