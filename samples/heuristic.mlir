// Port of the classic hand-tuned lunar-lander heuristic (Gymnasium's
// lunar_lander.heuristic, continuous mode) to TensorLang. Controller ABI: see README.
//   angle_targ = clip(0.5 * x + 1.0 * vx, -0.4, 0.4)
//   hover_targ = 0.55 * |x|
//   angle_todo = (angle_targ - angle) * 0.5 - angular_velocity * 1.0
//   hover_todo = (hover_targ - y) * 0.5 - vy * 0.5
//   after leg contact: angle_todo = 0, hover_todo = -vy * 0.5
//   action = clip([hover_todo * 20 - 1, -angle_todo * 20], -1, 1)
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %x = "tensorlang.extract"(%obs) {index = array<i64: 0>} : (tensor<8xf64>) -> f64
  %y = "tensorlang.extract"(%obs) {index = array<i64: 1>} : (tensor<8xf64>) -> f64
  %vx = "tensorlang.extract"(%obs) {index = array<i64: 2>} : (tensor<8xf64>) -> f64
  %vy = "tensorlang.extract"(%obs) {index = array<i64: 3>} : (tensor<8xf64>) -> f64
  %angle = "tensorlang.extract"(%obs) {index = array<i64: 4>} : (tensor<8xf64>) -> f64
  %omega = "tensorlang.extract"(%obs) {index = array<i64: 5>} : (tensor<8xf64>) -> f64
  %half = arith.constant 0.5 : f64
  // angle_targ, clipped through a 1-element tensor clamp
  %hx = arith.mulf %half, %x : f64
  %at_raw = arith.addf %hx, %vx : f64
  %at_t = "tensorlang.broadcast"(%at_raw) : (f64) -> tensor<1xf64>
  %at_c = "tensorlang.clamp"(%at_t) {lo = -0.4 : f64, hi = 0.4 : f64} : (tensor<1xf64>) -> tensor<1xf64>
  %angle_targ = "tensorlang.extract"(%at_c) {index = array<i64: 0>} : (tensor<1xf64>) -> f64
  // hover_targ = 0.55 * |x|
  %neg_x = arith.negf %x : f64
  %abs_x = arith.maximumf %x, %neg_x : f64
  %c055 = arith.constant 0.55 : f64
  %hover_targ = arith.mulf %c055, %abs_x : f64
  // angle_todo, hover_todo
  %ad = arith.subf %angle_targ, %angle : f64
  %ad_h = arith.mulf %ad, %half : f64
  %angle_todo = arith.subf %ad_h, %omega : f64
  %hd = arith.subf %hover_targ, %y : f64
  %hd_h = arith.mulf %hd, %half : f64
  %vy_h = arith.mulf %vy, %half : f64
  %hover_todo = arith.subf %hd_h, %vy_h : f64
  // todo = [hover_todo, angle_todo]; after contact: [-vy/2, 0]
  %h_t = "tensorlang.broadcast"(%hover_todo) : (f64) -> tensor<1xf64>
  %a_t = "tensorlang.broadcast"(%angle_todo) : (f64) -> tensor<1xf64>
  %todo = "tensorlang.concat"(%h_t, %a_t) : (tensor<1xf64>, tensor<1xf64>) -> tensor<2xf64>
  %neg_vy_h = arith.negf %vy_h : f64
  %zero = arith.constant 0.0 : f64
  %o_h = "tensorlang.broadcast"(%neg_vy_h) : (f64) -> tensor<1xf64>
  %o_a = "tensorlang.broadcast"(%zero) : (f64) -> tensor<1xf64>
  %landed_todo = "tensorlang.concat"(%o_h, %o_a) : (tensor<1xf64>, tensor<1xf64>) -> tensor<2xf64>
  %legs = "tensorlang.slice"(%obs) {offsets = array<i64: 6>, sizes = array<i64: 2>} : (tensor<8xf64>) -> tensor<2xf64>
  %contact = "tensorlang.sum"(%legs) : (tensor<2xf64>) -> f64
  %contact_t = "tensorlang.broadcast"(%contact) : (f64) -> tensor<2xf64>
  %zeros = "tensorlang.constant"() {value = dense<0.0> : tensor<2xf64>} : () -> tensor<2xf64>
  %touching = "tensorlang.cmp"(%contact_t, %zeros) {predicate = "gt"} : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xi1>
  %final_todo = "tensorlang.select"(%touching, %landed_todo, %todo) : (tensor<2xi1>, tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  // action = clip(todo * [20, -20] + [-1, 0], -1, 1)
  %scale = "tensorlang.constant"() {value = dense<[20.0, -20.0]> : tensor<2xf64>} : () -> tensor<2xf64>
  %offset = "tensorlang.constant"() {value = dense<[-1.0, 0.0]> : tensor<2xf64>} : () -> tensor<2xf64>
  %scaled = "tensorlang.mul"(%final_todo, %scale) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %shifted = "tensorlang.add"(%scaled, %offset) : (tensor<2xf64>, tensor<2xf64>) -> tensor<2xf64>
  %action = "tensorlang.clamp"(%shifted) {lo = -1.0 : f64, hi = 1.0 : f64} : (tensor<2xf64>) -> tensor<2xf64>
  return %action, %mem : tensor<2xf64>, tensor<4xf64>
}
