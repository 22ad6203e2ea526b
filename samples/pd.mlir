// PD controller for the lunar lander (TensorLang controller ABI, see README).
// A linear control law: action = clamp(K_p * error + K_d * d(error)/dt), written as one
// gain matrix applied to the observation. The gains are deliberately soft, so this is
// the "badly tuned" baseline: it descends too fast and often lands hard.
//   main    = 0.4 - 0.5 * y - 1.0 * vy             (hold altitude, damp descent)
//   lateral = -(0.5 * x + 1.0 * vx) - (2.0 * angle + 1.0 * angular velocity)
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %gains = "tensorlang.constant"() {value = dense<[[-0.5, -0.5, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0],
                                                   [-0.5, 0.0, -1.0, 0.0, -2.0, -1.0, 0.0, 0.0]]> : tensor<2x8xf64>} : () -> tensor<2x8xf64>
  %bias = "tensorlang.constant"() {value = dense<[0.4, 0.0]> : tensor<2xf64>} : () -> tensor<2xf64>
  %law = "tensorlang.matvec"(%gains, %obs) : (tensor<2x8xf64>, tensor<8xf64>) -> tensor<2xf64>
  %u = "tensorlang.add"(%law, %bias) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %action = "tensorlang.clamp"(%u) {lo = -1.0 : f64, hi = 1.0 : f64} : (tensor<2xf64>) -> tensor<2xf64>
  return %action, %mem : tensor<2xf64>, tensor<4xf64>
}
