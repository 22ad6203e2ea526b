// PID controller with explicit state in %mem (TensorLang controller ABI, see README).
// mem = [integral of vertical-speed error, integral of horizontal error, unused, unused].
// Vertical loop: hold a descent speed that shrinks with altitude; horizontal loop:
// steer the body angle toward the pad, with a small integral term against wind drift.
func.func @control(%obs: tensor<8xf64>, %mem: tensor<4xf64>) -> (tensor<2xf64>, tensor<4xf64>) {
  %dt = arith.constant 0.02 : f64
  %y = "tensorlang.extract"(%obs) {index = array<i64: 1>} : (tensor<8xf64>) -> f64
  %vy = "tensorlang.extract"(%obs) {index = array<i64: 3>} : (tensor<8xf64>) -> f64
  %x = "tensorlang.extract"(%obs) {index = array<i64: 0>} : (tensor<8xf64>) -> f64
  %vx = "tensorlang.extract"(%obs) {index = array<i64: 2>} : (tensor<8xf64>) -> f64
  %angle = "tensorlang.extract"(%obs) {index = array<i64: 4>} : (tensor<8xf64>) -> f64
  %omega = "tensorlang.extract"(%obs) {index = array<i64: 5>} : (tensor<8xf64>) -> f64
  %i_vy = "tensorlang.extract"(%mem) {index = array<i64: 0>} : (tensor<4xf64>) -> f64
  %i_x = "tensorlang.extract"(%mem) {index = array<i64: 1>} : (tensor<4xf64>) -> f64
  // Vertical: target vy = -0.1 - 0.3 * y, error e = target - vy.
  %c_neg01 = arith.constant -0.1 : f64
  %c_03 = arith.constant 0.3 : f64
  %sy = arith.mulf %c_03, %y : f64
  %target_vy = arith.subf %c_neg01, %sy : f64
  %e_vy = arith.subf %target_vy, %vy : f64
  %e_vy_dt = arith.mulf %e_vy, %dt : f64
  %i_vy_next = arith.addf %i_vy, %e_vy_dt : f64
  %kp_v = arith.constant 4.0 : f64
  %ki_v = arith.constant 0.5 : f64
  %pv = arith.mulf %kp_v, %e_vy : f64
  %iv = arith.mulf %ki_v, %i_vy_next : f64
  %main = arith.addf %pv, %iv : f64
  // Horizontal: target angle = 0.5 * x + 1.0 * vx (+ integral), then PD on the angle.
  %x_dt = arith.mulf %x, %dt : f64
  %i_x_next = arith.addf %i_x, %x_dt : f64
  %c_05 = arith.constant 0.5 : f64
  %c_01 = arith.constant 0.1 : f64
  %tx = arith.mulf %c_05, %x : f64
  %ti = arith.mulf %c_01, %i_x_next : f64
  %txv = arith.addf %tx, %vx : f64
  %target_angle = arith.addf %txv, %ti : f64
  %e_angle = arith.subf %target_angle, %angle : f64
  %kp_a = arith.constant 10.0 : f64
  %kd_a = arith.constant 5.0 : f64
  %pa = arith.mulf %kp_a, %e_angle : f64
  %da = arith.mulf %kd_a, %omega : f64
  %lat_pd = arith.subf %pa, %da : f64
  %lateral = arith.negf %lat_pd : f64
  %main_t = "tensorlang.broadcast"(%main) : (f64) -> tensor<1xf64>
  %lat_t = "tensorlang.broadcast"(%lateral) : (f64) -> tensor<1xf64>
  %u = "tensorlang.concat"(%main_t, %lat_t) : (tensor<1xf64>, tensor<1xf64>) -> tensor<2xf64>
  %action = "tensorlang.clamp"(%u) {lo = -1.0 : f64, hi = 1.0 : f64} : (tensor<2xf64>) -> tensor<2xf64>
  // Anti-windup: keep the integrals bounded.
  %ivy_t = "tensorlang.broadcast"(%i_vy_next) : (f64) -> tensor<1xf64>
  %ix_t = "tensorlang.broadcast"(%i_x_next) : (f64) -> tensor<1xf64>
  %rest = "tensorlang.slice"(%mem) {offsets = array<i64: 2>, sizes = array<i64: 2>} : (tensor<4xf64>) -> tensor<2xf64>
  %integrals = "tensorlang.concat"(%ivy_t, %ix_t) : (tensor<1xf64>, tensor<1xf64>) -> tensor<2xf64>
  %mem_raw = "tensorlang.concat"(%integrals, %rest) : (tensor<2xf64>, tensor<2xf64>) -> tensor<4xf64>
  %mem_next = "tensorlang.clamp"(%mem_raw) {lo = -5.0 : f64, hi = 5.0 : f64} : (tensor<4xf64>) -> tensor<4xf64>
  return %action, %mem_next : tensor<2xf64>, tensor<4xf64>
}
