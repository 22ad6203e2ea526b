// A small MLP controller (TensorLang controller ABI, see README):
// action = clamp(W2 . tanh(W1 . obs + b1) + b2), weights fixed (seeded, untrained).
// It shows matvec/tanh/add on a network; it is not tuned to land.
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %w1 = "tensorlang.constant"() {value = dense<[[0.0004, 0.0896, -0.0822, -0.2672, -0.1364, -0.2975, 0.0180, 0.4021],
      [-0.1477, -0.1861, 0.1470, 0.1071, 0.0316, -0.2791, -0.0088, 0.2086],
      [-0.4033, -0.1373, -0.5704, -0.3869, -0.5525, -0.0705, -0.3802, 0.0814],
      [0.0470, -0.0561, -0.7550, -0.1616, -0.0146, 0.0340, -0.4590, -0.1433],
      [-0.2936, -0.2427, 0.3183, -0.2423, -0.0098, 0.2653, -0.1751, -0.0335],
      [0.0331, 0.0191, -0.3675, 0.0228, 0.4076, -0.4641, 0.2578, 0.0358],
      [-0.1924, 0.6001, 0.2287, -0.3598, 0.0224, 0.1730, -0.0566, 0.2049],
      [-0.0200, 0.2002, 0.4316, -0.2027, 0.0609, -0.1390, 0.0382, -0.3562]]> : tensor<8x8xf64>} : () -> tensor<8x8xf64>
  %b1 = "tensorlang.constant"() {value = dense<[-0.0579, -0.0196, 0.0899, 0.1145, -0.1324, -0.0795, 0.0647, -0.1992]> : tensor<8xf64>} : () -> tensor<8xf64>
  %w2 = "tensorlang.constant"() {value = dense<[[-0.1390, -0.0292, 0.3771, 0.2068, -0.0982, -0.1106, -0.0751, 0.4571],
      [-0.1284, -0.0911, 0.1058, -0.0362, -0.0592, -0.3342, -0.0035, -0.1331]]> : tensor<2x8xf64>} : () -> tensor<2x8xf64>
  %b2 = "tensorlang.constant"() {value = dense<[0.0000, 0.0000]> : tensor<2xf64>} : () -> tensor<2xf64>
  %z1 = "tensorlang.matvec"(%w1, %obs) : (tensor<8x8xf64>, tensor<8xf64>) -> tensor<8xf64>
  %a1 = "tensorlang.add"(%z1, %b1) : (tensor<8xf64>, tensor<8xf64>) -> tensor<8xf64>
  %h1 = "tensorlang.tanh"(%a1) : (tensor<8xf64>) -> tensor<8xf64>
  %z2 = "tensorlang.matvec"(%w2, %h1) : (tensor<2x8xf64>, tensor<8xf64>) -> tensor<2xf64>
  %a2 = "tensorlang.add"(%z2, %b2) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %action = "tensorlang.clamp"(%a2) {lo = -1.0 : f64, hi = 1.0 : f64} : (tensor<2xf64>) -> tensor<2xf64>
  return %action, %mem : tensor<2xf64>, tensor<4xf64>
}
